//! `plateau train` as the sweep runner calls it: tasks, data values, metrics.json fields, and
//! bad input (one line on stderr, exit status 2, nothing written).

use crate::common;

use std::path::PathBuf;

use serde_json::Value;

use common::{plateau, words};

fn out_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("plateau-cli-train-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The smallest run: a few images, one epoch, a 4-channel network on 16 x 16 images.
const TINY: &str =
    "--train-size 8 --val-size 4 --test-size 8 --epochs 1 --channels 4 --image-size 16";

fn train(tag: &str, extra: &[&str]) -> (std::process::Output, PathBuf) {
    train_with(tag, &words(TINY), extra)
}

/// `plateau train base extra --model unet --out DIR` (unless `extra` names the model).
fn train_with(tag: &str, base: &[&str], extra: &[&str]) -> (std::process::Output, PathBuf) {
    let dir = out_dir(tag);
    let mut args = vec!["train"];
    args.extend_from_slice(base);
    args.extend_from_slice(extra);
    if !extra.contains(&"--model") {
        args.extend(["--model", "unet"]);
    }
    let d = dir.to_string_lossy().to_string();
    args.extend(["--out", d.as_str()]);
    (plateau(&args), dir)
}

fn metrics(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap()
}

/// `m[key]` as a number.
fn num(m: &Value, key: &str) -> f64 {
    m[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number: {m}"))
}

/// A run of a few small steps from the network's start (its output is the baseline: the
/// residual form with a zero-initialised last layer) is still near its baseline: the test MSE
/// within 3 standard errors (over test images) of the input's. A network that outputs zeros, a
/// mis-scaled output or other images than the test images' breaks it.
fn assert_near_its_baseline(m: &Value) {
    let (test, input, se) = (
        num(m, "test_mse"),
        num(m, "input_mse"),
        num(m, "input_mse_stderr"),
    );
    assert!(test.is_finite() && (test - input).abs() < 3.0 * se, "{m}");
}

/// The network beat its input on the test images beyond sampling error: the test MSE below the
/// input's by 3 standard errors of their difference, taken as unpaired (conservative: the two
/// are positively correlated over images).
fn assert_beats_the_input(m: &Value, what: &str) {
    let (test, input) = (num(m, "test_mse"), num(m, "input_mse"));
    let se = num(m, "test_mse_stderr").hypot(num(m, "input_mse_stderr"));
    assert!(
        test < input - 3.0 * se,
        "{what}: test MSE {test} vs input {input} (+- {se}): {m}"
    );
}

/// Training lowered the loss by more than 1% from the first epoch to `losses.last()`. A run
/// whose steps do nothing repeats its first epoch's loss up to the rounding of the average
/// (about 1e-7 relative); the runs here lower it by 6% or more.
fn assert_loss_falls(losses: &[f64], what: &str) {
    assert!(
        *losses.last().unwrap() < 0.99 * losses[0],
        "{what}: loss {losses:?}"
    );
}

/// The metrics.json and folder of a run that must have succeeded.
fn metrics_of((out, dir): (std::process::Output, PathBuf)) -> (Value, PathBuf) {
    common::assert_ok(&out, &dir.display().to_string());
    (metrics(&dir), dir)
}

#[test]
fn bad_values_fail_with_one_line_and_write_nothing() {
    let cases = [
        ("--task mri --data imagenet", "unknown data 'imagenet'"),
        ("--task mri --data folder:", "needs a path"),
        (
            "--task sr --data folder:/nonexistent/plateau",
            "is not a folder",
        ),
        (
            "--task mri --data fastmri:/nonexistent/plateau",
            "is not a folder",
        ),
        (
            "--task mri --data phantoms --noise-std 0.1",
            "--noise-std applies to --task denoise",
        ),
        (
            "--task sr --data phantoms --scale 3",
            "--scale must be 2 or 4",
        ),
        (
            "--task mri --data phantoms --center-fraction 1.5",
            "--center-fraction",
        ),
        (
            "--task mri --data phantoms --acceleration 0",
            "--acceleration",
        ),
        ("--task mri --data phantoms --mask poisson", "poisson"),
        (
            "--task mri --data phantoms --color rgb",
            "--color rgb applies",
        ),
        (
            "--task mri --data gaussian-field --model linear",
            "--model linear needs",
        ),
        (
            "--task mri --data phantoms --augment --augment-dihedral",
            "--augment-dihedral does not apply to --task mri",
        ),
        (
            "--task sr --data gaussian-field --downsample bicubic",
            "--downsample bicubic is for real images",
        ),
        (
            "--task denoise --data gaussian-field --mri-input complex",
            "--mri-input applies to --task mri only",
        ),
        (
            "--task sr --data phantoms --mri-input magnitude",
            "--mri-input applies to --task mri only",
        ),
        (
            "--task mri --data gaussian-field --mask fixed --mask-seed banana",
            "unknown mask seed policy 'banana'",
        ),
        (
            "--task mri --data gaussian-field --mask random --mask-seed 3",
            "--mask-seed applies to --mask fixed only",
        ),
        (
            "--task mri --data gaussian-field --mri-input complex --augment",
            "--augment does not apply to --mri-input complex",
        ),
        (
            "--task denoise --data phantoms --precision fp8",
            "invalid value 'fp8'",
        ),
        (
            "--task denoise --data subspace --model linear --precision fp16",
            "--precision fp16 applies to --model unet only",
        ),
        // On a GPU machine the index is out of range; without one, the CUDA library or the GPU is
        // missing: one line and exit 2 either way.
        ("--task denoise --data phantoms --device cuda:99", "CUDA"),
        (
            "--task denoise --data phantoms --device gpu",
            "unknown device \"gpu\"",
        ),
    ];
    for (i, (extra, want)) in cases.iter().enumerate() {
        let (out, dir) = train(&format!("bad{i}"), &words(extra));
        common::assert_bad_input(&out, want, &format!("{extra:?}"));
        assert!(!dir.exists(), "{extra:?} created {}", dir.display());
    }
}

#[test]
fn mri_on_the_field_records_task_floor_and_oracle() {
    let (m, dir) = metrics_of(train(
        "mri",
        &words("--task mri --data gaussian-field --mask equispaced"),
    ));
    assert_eq!(m["task"], "mri");
    assert_eq!(m["acceleration"], 4);
    assert_eq!(m["center_fraction"], 0.08);
    assert_eq!(m["mask"], "equispaced");
    // Synthetic data: complex input by default, the information the floor assumes.
    assert_eq!(m["mri_input"], "complex");
    assert_eq!(m["baseline"], "zero-filled (real part)");
    assert_eq!(m["input_has_floor_information"], true);
    assert_eq!(m["floor_label"], "Bayes error");
    assert_eq!(
        m["floor_information"],
        "the complex k-space samples and each example's mask"
    );
    assert_eq!(
        m["params"],
        7305 + 9 * 4 * 2,
        "3 input channels, 1 output: {m}"
    );
    assert_eq!(m["noise_std"], Value::Null);
    let floor = m["floor_mse"].as_f64().unwrap();
    let input = m["input_mse"].as_f64().unwrap();
    let oracle = m["oracle_test_mse"].as_f64().unwrap();
    assert!(floor > 0.0 && floor < input && oracle < input, "{m}");
    // No estimator beats the Bayes estimator on the same images beyond sampling error.
    assert!(
        num(&m, "test_mse") > oracle - 3.0 * num(&m, "test_mse_stderr"),
        "{m}"
    );
    assert_near_its_baseline(&m);
    let ratio = num(&m, "test_mse") / floor;
    assert!(
        (num(&m, "test_mse_over_floor") - ratio).abs() <= 1e-12 * ratio,
        "{m}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // fastMRI's magnitude input: the same floor, named a lower bound.
    let (m, dir) = metrics_of(train(
        "mri-magnitude",
        &words("--task mri --data gaussian-field --mask equispaced --mri-input magnitude"),
    ));
    assert_eq!(m["mri_input"], "magnitude");
    assert_eq!(m["baseline"], "zero-filled");
    assert_eq!(m["input_has_floor_information"], false);
    assert_eq!(
        m["floor_label"],
        "Bayes error given complex data: a lower bound for magnitude input"
    );
    assert_eq!(m["floor_mse"].as_f64().unwrap(), floor);
    assert_eq!(m["params"], 7305);
    std::fs::remove_dir_all(&dir).unwrap();

    // One fixed mask: recorded, its floor exact, no mask channel (2 inputs).
    let (m, dir) = metrics_of(train(
        "mri-fixed",
        &words("--task mri --data gaussian-field --mask fixed --mask-seed 3"),
    ));
    assert_eq!(
        (&m["mask"], &m["mask_seed"]),
        (&"fixed".into(), &"3".into())
    );
    assert_eq!(m["params"], 7305 + 9 * 4);
    let columns: Vec<u64> = m["mask_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    assert!(
        columns.contains(&8) && columns.iter().all(|&c| c < 16),
        "{columns:?}"
    );
    let (fixed_floor, oracle) = (
        m["floor_mse"].as_f64().unwrap(),
        m["oracle_test_mse"].as_f64().unwrap(),
    );
    assert!(fixed_floor > 0.0 && oracle > 0.0, "{m}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sr_on_phantoms_and_denoise_defaults() {
    let (m, dir) = metrics_of(train("sr", &words("--task sr --data phantoms --scale 4")));
    assert_eq!(
        (m["task"].as_str(), m["scale"].as_u64()),
        (Some("sr"), Some(4))
    );
    assert_eq!(m["data"], "phantoms");
    assert_eq!(m["floor_mse"], Value::Null, "no floor for real images");
    assert_eq!(m["psnr_data_range"], 1.0);
    assert_eq!(m["baseline"], "bicubic");
    assert!(m["input_mse"].as_f64().unwrap() > 0.0);
    assert_eq!(m["downsample"], "area");
    let area_input = m["input_mse"].as_f64().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    // The SR training options: all 8 symmetries, L1 loss, antialiased bicubic downsampling,
    // bf16 arithmetic.
    let (m, dir) = metrics_of(train(
        "sr-options",
        &words(
            "--task sr --data phantoms --scale 4 --augment --augment-dihedral --loss l1 \
             --downsample bicubic --precision bf16",
        ),
    ));
    assert_eq!(
        (&m["augment"], &m["augment_dihedral"], &m["loss"]),
        (&Value::from(true), &Value::from(true), &Value::from("l1"))
    );
    assert_eq!(m["downsample"], "bicubic");
    assert_eq!(m["precision"], "bf16");
    // The same test phantoms, a different (smoother) low-resolution image.
    let bicubic_input = m["input_mse"].as_f64().unwrap();
    assert!(bicubic_input > 0.0 && (bicubic_input - area_input).abs() > 1e-3 * area_input);
    // One epoch of bf16: the network evaluated in bf16 is still its bicubic start.
    assert_near_its_baseline(&m);
    std::fs::remove_dir_all(&dir).unwrap();

    let (m, dir) = metrics_of(train("dn", &words("--task denoise --data gaussian-field")));
    assert_eq!(
        (&m["noise_std"], &m["precision"]),
        (&0.1.into(), &"fp32".into())
    );
    let (input, floor) = (
        m["input_mse"].as_f64().unwrap(),
        m["floor_mse"].as_f64().unwrap(),
    );
    // Noisy input: MSE about sigma^2 = 0.01 (8 x 256 pixels), above the Wiener floor.
    assert!((input - 0.01).abs() < 0.001 && floor < input, "{m}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_documents_the_inverse_problem_flags() {
    let out = plateau(&["train", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in words(
        "--task --data --acceleration --center-fraction --mask --scale --downsample --color \
         --skip-bad-files folder:PATH fastmri:PATH skimage phantoms",
    ) {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

/// The first column (train loss) of `DIR/history.csv`, one value per epoch.
fn train_losses(dir: &std::path::Path) -> Vec<f64> {
    std::fs::read_to_string(dir.join("history.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn colour_photographs_train_one_three_channel_network() {
    let flags = |color: &'static str| {
        // At lr 3e-2, so that 12 steps of batch 2 beat the noisy input beyond sampling error.
        let mut v =
            words("--task denoise --data skimage --noise-std 0.1 --batch-size 2 --lr 3e-2 --color");
        v.push(color);
        v
    };
    // TINY with 3 epochs.
    let base: Vec<&str> = words(TINY)
        .into_iter()
        .map(|f| if f == "1" { "3" } else { f })
        .collect();
    assert!(base.windows(2).any(|w| w == ["--epochs", "3"]));
    let mut params = Vec::new();
    for color in ["gray", "rgb", "rgb-split"] {
        let (m, dir) = metrics_of(train_with(&format!("colour-{color}"), &base, &flags(color)));
        assert_eq!(m["color"], color);
        assert_eq!(
            m["channels_per_image"],
            if color == "gray" { 1 } else { 3 },
            "{m}"
        );
        assert!(m["test_psnr"].as_f64().unwrap().is_finite(), "{m}");
        let losses = train_losses(&dir);
        assert_eq!(losses.len(), 3);
        // Starting from the identity (the noisy input), training lowers the loss and the
        // network denoises the test photographs.
        assert_loss_falls(&losses, color);
        assert_beats_the_input(&m, color);
        let p = m["params"].as_i64().unwrap();
        // --print-params builds the same network without loading data or writing anything.
        let (printed, none) = train_with(
            &format!("colour-{color}-print"),
            &base,
            &[&flags(color)[..], &["--print-params"]].concat(),
        );
        assert!(printed.status.success());
        assert_eq!(
            String::from_utf8_lossy(&printed.stdout).trim(),
            p.to_string()
        );
        assert!(!none.exists());
        params.push(p);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // Width C = 4 (TINY): the colour net's first 3x3 conv has 9 C weights per extra input
    // channel, its last 1x1 conv C weights and one bias per extra output channel.
    let c = 4;
    assert_eq!(params[1] - params[0], 2 * (9 * c + c + 1));
    assert_eq!(params[2], params[0], "rgb-split trains the grey network");
}

/// A run stopped after 2 epochs and resumed to 4 ends bit-identical to one that ran 4 epochs
/// straight (same seed, same thread count): results, history, weights and optimiser state. With
/// the moments restarted on resume (the old behaviour) the weights from epoch 3 on differ. The
/// learning rate is halved after every epoch without improvement (`--lr-patience 0`), so the
/// restored schedule is exercised too. A torn file of an epoch that the state does not name yet
/// (a crash between the renames) is ignored and replaced.
#[test]
fn an_interrupted_and_resumed_run_ends_identical_to_an_uninterrupted_one() {
    const FILES: [&str; 4] = [
        "history.csv",
        "best.safetensors",
        "last-e4.safetensors",
        "last-e4.optim.safetensors",
    ];
    // fp16 also restores its dynamic loss scale.
    for (optimiser, precision) in [("adam", "fp32"), ("rmsprop", "fp32"), ("adam", "fp16")] {
        let mut base = words(
            "--task denoise --data gaussian-field --train-size 16 --val-size 4 --test-size 8 \
             --channels 4 --image-size 16 --batch-size 4 --lr-patience 0 --seed 3 --quiet",
        );
        base.extend(["--optimiser", optimiser, "--precision", precision]);
        let run = |tag: &str, extra: &[&str], dir: Option<&std::path::Path>| {
            let mut args = base.clone();
            args.extend(extra);
            let (out, fresh) = match dir {
                // Resume in place (train_with would pick and clear a new folder).
                Some(d) => {
                    args.extend(["--model", "unet", "--out", d.to_str().unwrap()]);
                    let mut argv = vec!["train"];
                    argv.extend(args);
                    (plateau(&argv), d.to_path_buf())
                }
                None => train_with(&format!("resume-{optimiser}-{precision}-{tag}"), &args, &[]),
            };
            common::assert_ok(&out, &format!("{optimiser} {tag}"));
            fresh
        };
        let straight = run("straight", &["--epochs", "4"], None);
        let split = run("split", &["--epochs", "2"], None);
        // A crash after epoch 3's weights were renamed into place but before its state was:
        // the state still names epoch 2, whose files must be the ones resumed.
        std::fs::write(split.join("last-e3.safetensors"), b"torn").unwrap();
        run("resumed", &["--epochs", "4", "--resume"], Some(&split));

        let mut a = metrics(&straight);
        let mut b = metrics(&split);
        assert_eq!(b["epochs_run"], 4, "{b}");
        for m in [&mut a, &mut b] {
            m.as_object_mut().unwrap().remove("seconds");
        }
        assert_eq!(a, b, "{optimiser}: results differ");
        for f in FILES {
            let read = |d: &std::path::Path| std::fs::read(d.join(f)).unwrap();
            assert!(read(&straight) == read(&split), "{optimiser}: {f} differs");
        }
        let checkpoints = |d: &std::path::Path| {
            let mut names: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("last-e"))
                .collect();
            names.sort();
            names
        };
        // Sorted by name, as `checkpoints` lists them.
        let mut want = FILES[2..].to_vec();
        want.sort();
        assert_eq!(
            checkpoints(&split),
            want,
            "{optimiser}: stale checkpoints kept"
        );

        // A checkpoint of format 1 (no optimiser state) is refused, not resumed with fresh
        // moments.
        let state = split.join("state.json");
        let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
        s.as_object_mut().unwrap().remove("format");
        std::fs::write(&state, s.to_string()).unwrap();
        let mut argv = vec!["train"];
        argv.extend(&base);
        argv.extend([
            "--epochs",
            "6",
            "--resume",
            "--out",
            split.to_str().unwrap(),
        ]);
        common::assert_bad_input(&plateau(&argv), "checkpoint format 1", "old checkpoint");
        for d in [straight, split] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}

/// The paper's MRI recipe (4 pools, RMSprop) trains: the loss falls by more than 1% and the test
/// MSE goes below the zero-filled input's, and the record names the optimiser and depth, so its
/// runs form their own curve.
#[test]
fn the_papers_mri_recipe_trains_with_rmsprop_and_four_pools() {
    let base: Vec<&str> = words(TINY)
        .into_iter()
        .map(|f| match f {
            "1" => "3",
            "16" => "32",
            f => f,
        })
        .collect();
    let recipe = words(
        "--task mri --data phantoms --pools 4 --optimiser rmsprop --min-lr 1e-6 --batch-size 2 \
         --quiet",
    );
    let (m, dir) = metrics_of(train_with("paper-mri", &base, &recipe));
    assert_eq!(
        (m["optimiser"].as_str(), m["pools"].as_u64()),
        (Some("rmsprop"), Some(4))
    );
    assert_eq!(m["image_size"], 32, "{m}");
    let losses = train_losses(&dir);
    assert_eq!(losses.len(), 3);
    assert_loss_falls(&losses, "paper MRI recipe");
    // And it moved from its zero-filled start towards the images: a lower test MSE on these 8
    // test images (a network that never stepped has exactly the input's), though by less than
    // 8 images resolve (measured: 0.0263 against 0.0279 +- 0.0030).
    assert!(num(&m, "test_mse") < num(&m, "input_mse"), "{m}");
    std::fs::remove_dir_all(dir).unwrap();
}
