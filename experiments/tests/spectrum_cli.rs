//! `plateau-spectrum` (`plateau spectrum`) end to end: a small run on the scikit-image photographs
//! and on a Gaussian field whose floor is exact, and the bad inputs (one line, exit 2, nothing
//! written).

use std::path::Path;
use std::process::{Command, Output};

use plateau_experiments::sources::skimage_dir;
use plateau_theory::field::FieldSpectrum;

fn spectrum(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plateau-spectrum"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("plateau-spectrum runs")
}

fn need_photos() {
    assert!(
        skimage_dir().is_dir(),
        "{} is missing: run `make bootstrap` (scripts/bootstrap-skimage.sh)",
        skimage_dir().display()
    );
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// Writes `count` `side x side` grey PNGs to `dir`, pixel `(r, c)` of image `i` = `value(i, r, c)`.
fn write_pngs(dir: &Path, count: usize, side: u32, value: impl Fn(usize, u32, u32) -> u8) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..count {
        image::GrayImage::from_fn(side, side, |c, r| image::Luma([value(i, r, c)]))
            .save(dir.join(format!("img{i:04}.png")))
            .unwrap();
    }
}

#[test]
fn photographs_give_a_spectrum_predictions_and_a_figure() {
    need_photos();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let o = spectrum(
        &[
            "--data",
            "skimage",
            "--image-size",
            "8",
            "--noise-std",
            "0.098",
            "--max-images",
            "2000",
            "--bootstrap",
            "20",
            "--prediction-resamples",
            "4",
            "--train-sizes",
            "64,256",
        ],
        &out,
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("linear floor "), "{stdout}");
    for f in [
        "spectrum.csv",
        "predictions.csv",
        "summary.json",
        "spectrum.png",
        "spectrum.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let spec = rows(&out.join("spectrum.csv"));
    assert_eq!(spec.len(), 64);
    let eig: Vec<f64> = spec.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(eig.windows(2).all(|w| w[0] >= w[1]) && eig[63] > 0.0);
    let pred = rows(&out.join("predictions.csv"));
    assert_eq!(pred.len(), 6);
    let floor: f64 = pred[0][2].parse().unwrap();
    for r in &pred {
        let (mse, lo, hi): (f64, f64, f64) = (
            r[2].parse().unwrap(),
            r[3].parse().unwrap(),
            r[4].parse().unwrap(),
        );
        assert!(mse >= floor * (1.0 - 1e-12) && lo <= hi, "{r:?}");
    }
    // The floor is the same for every N; learning from more data helps.
    assert_eq!(pred[0][2], pred[3][2]);
    let ridge = |i: usize| pred[i][2].parse::<f64>().unwrap();
    assert!(ridge(4) < ridge(1));
}

/// A zero-mean Gaussian field's second moment is its covariance, whose floor is exact: the
/// estimated floor's 95% bootstrap band must hold it.
#[test]
fn gaussian_field_floor_lies_in_its_band() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("f");
    let sigma = 0.1;
    let o = spectrum(
        &[
            "--data",
            "gaussian-field",
            "--image-size",
            "8",
            "--noise-std",
            "0.1",
            "--max-images",
            "4000",
            "--bootstrap",
            "100",
            "--prediction-resamples",
            "100",
            "--train-sizes",
            "64",
        ],
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let exact = FieldSpectrum::new(8, 2.0, 0.05, 0.25 * 0.25)
        .unwrap()
        .mmse_floor(sigma);
    let pred = rows(&out.join("predictions.csv"));
    let (mse, lo, hi): (f64, f64, f64) = (
        pred[0][2].parse().unwrap(),
        pred[0][3].parse().unwrap(),
        pred[0][4].parse().unwrap(),
    );
    assert!(
        lo <= exact && exact <= hi,
        "exact {exact} outside [{lo}, {hi}] (estimate {mse})"
    );
    assert!((mse - exact).abs() < 0.05 * exact, "{mse} vs {exact}");
}

#[test]
fn bad_inputs_give_one_line_and_exit_2_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let few = tmp.path().join("few");
    write_pngs(&few, 20, 8, |i, r, c| {
        (i as u32 * 7 + r * 13 + c * 29) as u8
    });
    let flat = tmp.path().join("flat");
    write_pngs(&flat, 160, 8, |i, _, _| (i % 200) as u8 + 20);
    let (few, flat) = (few.to_str().unwrap(), flat.to_str().unwrap());
    let few_data = format!("folder:{few}");
    let flat_data = format!("folder:{flat}");
    let base = ["--bootstrap", "4", "--prediction-resamples", "2"];
    let cases: &[(&[&str], &str)] = &[
        (
            &["--data", "skimage", "--noise-std", "0"],
            "--noise-std must be finite and positive",
        ),
        (
            &["--data", "skimage", "--noise-std", "-0.1"],
            "--noise-std must be finite and positive",
        ),
        (
            &["--data", "skimage", "--noise-std", "nan"],
            "--noise-std must be finite and positive",
        ),
        (
            &[
                "--data",
                "skimage",
                "--noise-std",
                "0.1",
                "--max-images",
                "63",
            ],
            "needs at least n = 64",
        ),
        (
            &["--data", &few_data, "--noise-std", "0.1"],
            "needs at least n = 64",
        ),
        (
            &["--data", &flat_data, "--noise-std", "0.1"],
            "are constant",
        ),
        (
            &[
                "--data",
                "phantoms",
                "--noise-std",
                "0.1",
                "--image-size",
                "4096",
            ],
            "use a smaller --image-size",
        ),
        (
            &["--data", "folder:/nonexistent/x", "--noise-std", "0.1"],
            "is not a folder",
        ),
        (
            &["--data", "phantoms", "--noise-std", "0.1", "--color", "rgb"],
            "--color rgb applies to photographs",
        ),
    ];
    for (i, (args, want)) in cases.iter().enumerate() {
        let out = tmp.path().join(format!("out{i}"));
        let size: &[&str] = if args.contains(&"--image-size") {
            &[]
        } else {
            &["--image-size", "8"]
        };
        let all: Vec<&str> = base
            .iter()
            .chain(size)
            .chain(args.iter())
            .copied()
            .collect();
        let o = spectrum(&all, &out);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("plateau: error: ") && err.contains(want),
            "{args:?}: {err}"
        );
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}
