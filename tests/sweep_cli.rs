//! `plateau sweep` from the outside: the smoke sweep end to end with the local backend, bad
//! configs (one line, exit 2, nothing written), failing cells (recorded, the sweep goes on,
//! retried by a rerun, still one line per cell).

use crate::common;

use std::path::{Path, PathBuf};

use plateau::sweep::store::Record;

use common::plateau;

fn records(results: &Path) -> Vec<Record> {
    std::fs::read_to_string(results.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Writes the sweep config `toml` to `dir/name` and returns its path.
fn write_config(dir: &Path, name: &str, toml: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, toml).unwrap();
    path
}

/// A temporary folder holding the sweep config `toml` (`sweep.toml`), the config's path, and the
/// results folder of a sweep of it (`res`, not created).
fn config_in_tempdir(toml: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "sweep.toml", toml);
    let res = tmp.path().join("res");
    (tmp, config, res)
}

fn smoke() -> String {
    format!("{}/experiments/smoke.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn smoke_sweep_runs_every_cell_once_and_reports_status() {
    let tmp = tempfile::tempdir().unwrap();
    let res = tmp.path().join("res");
    let res_s = res.to_str().unwrap();
    common::plateau_ok(&["sweep", &smoke(), "--results", res_s]);
    let dry = plateau(&["sweep", &smoke(), "--dry-run"]);
    let dry = String::from_utf8(dry.stdout).unwrap();
    // `index \t id \t parameters` per cell: the ids are distinct, and the store holds exactly
    // one record of each.
    let mut planned: Vec<&str> = dry.lines().map(|l| l.split('\t').nth(1).unwrap()).collect();
    let cells = planned.len();
    assert!(cells >= 2);
    planned.sort_unstable();
    planned.dedup();
    assert_eq!(planned.len(), cells, "duplicate cell ids: {dry}");
    let recs = records(&res);
    let mut ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, planned);
    for r in &recs {
        assert_eq!(r.status, "ok", "{r:?}");
        let m = r.metrics.as_ref().unwrap();
        // The line carries the cell's parameters and the run's own metrics.json.
        assert_eq!(
            Some(m.config.train_size as u64),
            r.params["train_size"].as_u64()
        );
        assert!(m.results.test_mse.unwrap() > 0.0);
        assert!(res.join("cells").join(&r.id).join("metrics.json").exists());
    }
    let status = plateau(&["sweep", &smoke(), "--results", res_s, "--status"]);
    let text = String::from_utf8(status.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "smoke: {cells} cells: {cells} done ({cells} ok), 0 failed"
        )),
        "{text}"
    );
    // The same cell again through --cell (what a Slurm task runs): nothing new.
    common::plateau_ok(&["sweep", &smoke(), "--results", res_s, "--cell", "0"]);
    assert_eq!(records(&res), recs);
}

#[test]
fn bad_configs_fail_in_one_line_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let head = "[sweep]\nname = \"bad\"\n[fixed]\ntask = \"denoise\"\ndata = \"gaussian-field\"\nmodel = \"unet\"\n";
    let cases = [
        ("[grid]\ntrain-size = []\n", "empty list"),
        (
            "[grid]\ntrain-size = [8]\nwidth = [4]\n",
            "unknown key 'width'",
        ),
        (
            "[grid]\ntrain-size = [\"eight\"]\n",
            "invalid value 'eight'",
        ),
        (
            "[grid]\ntrain-size = [8]\nchannels = [4.5]\n",
            "invalid value '4.5'",
        ),
        ("[grid]\nchannels = [4]\n", "--train-size"),
        (
            "[grid]\ntrain-size = [8]\nresume = [true]\n",
            "set by the sweep",
        ),
        ("[grid]\ntrain-size = [8]\n[grid2]\n", "unknown field"),
        ("[grid]\ntrain-size = 8\n", "expected a list"),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let cfg = write_config(
            tmp.path(),
            &format!("bad{i}.toml"),
            &format!("{head}{body}"),
        );
        let res = tmp.path().join(format!("res{i}"));
        let out = plateau(&[
            "sweep",
            cfg.to_str().unwrap(),
            "--results",
            res.to_str().unwrap(),
        ]);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{body}: {err}");
        assert_eq!(err.lines().count(), 1, "{body}: {err}");
        assert!(err.starts_with("plateau: error: "), "{err}");
        assert!(err.contains(want), "{body}: want {want:?} in {err}");
        assert!(!res.exists(), "{body}: wrote {}", res.display());
    }
    let missing = plateau(&["sweep", "/nonexistent/sweep.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    let out = plateau(&[
        "sweep",
        &smoke(),
        "--cell",
        "999",
        "--results",
        "/nonexistent/x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cell 999"));
}

#[test]
fn a_failing_cell_is_recorded_the_sweep_goes_on_and_a_rerun_retries_it() {
    // image-size 6 passes the flag parser but not plateau train's own checks (SSIM window 7).
    let (_tmp, cfg, res) = config_in_tempdir(
        "[sweep]\nname = \"f\"\n[fixed]\ntask = \"denoise\"\ndata = \"gaussian-field\"\n\
         model = \"unet\"\npools = 1\nchannels = 4\nepochs = 1\ntrain-size = 4\nval-size = 4\n\
         test-size = 8\n[grid]\nimage-size = [6, 8]\n",
    );
    let args = [
        "sweep",
        cfg.to_str().unwrap(),
        "--results",
        res.to_str().unwrap(),
    ];
    let out = plateau(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().last().unwrap().contains("1 of 2 cells failed"),
        "{err}"
    );
    let recs = records(&res);
    assert_eq!(recs.len(), 2);
    let failed = recs.iter().find(|r| r.status == "failed").unwrap();
    assert_eq!(failed.params["image_size"], 6);
    assert!(failed.metrics.is_none());
    assert!(
        failed.error.as_deref().unwrap().contains("--image-size"),
        "{failed:?}"
    );
    assert!(recs.iter().any(|r| r.status == "ok"));
    let status = plateau(&[&args[..], &["--status"]].concat());
    let text = String::from_utf8(status.stdout).unwrap();
    assert!(text.contains("1 done (1 ok), 1 failed"), "{text}");
    assert!(text.contains("failed: cell 0"), "{text}");

    // The rerun retries the failed cell (it fails again) and still holds one line per cell.
    let out = plateau(&args);
    assert_eq!(out.status.code(), Some(2));
    let again = records(&res);
    assert_eq!(again.len(), 2);
    let retried = again.iter().find(|r| r.status == "failed").unwrap();
    assert_eq!(retried.id, failed.id);
    assert!(retried.finished_unix >= failed.finished_unix);
    let log = std::fs::read_to_string(res.join("cells").join(&failed.id).join("log.txt")).unwrap();
    assert_eq!(log.matches("=== plateau").count(), 2);
}

#[test]
fn every_shipped_config_validates_against_plateau_train() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // Every TOML file but the crate manifest is a sweep config.
        if path.extension().is_some_and(|e| e == "toml") && !path.ends_with("Cargo.toml") {
            let out = common::plateau_ok(&["sweep", path.to_str().unwrap(), "--dry-run"]);
            assert!(!out.stdout.is_empty());
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    for want in [
        "denoise_cpu.toml",
        "denoise_paper.toml",
        "mri_paper.toml",
        "smoke.toml",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
}

/// Two tiny SR curves on the same photographs-like data that differ only in the downsampling
/// kernel: earlier versions grouped them into one curve (the key lacked `downsample`).
#[test]
fn sr_runs_differing_only_in_downsampling_are_two_curves() {
    let (tmp, config, res) = config_in_tempdir(
        "[sweep]\nname = \"sr-kernels\"\n[fixed]\ntask = \"sr\"\ndata = \"phantoms\"\n\
         image-size = 16\npools = 1\nchannels = 4\nepochs = 1\nbatch-size = 4\nval-size = 4\n\
         test-size = 4\n[grid]\ntrain-size = [4, 8]\ndownsample = [\"area\", \"bicubic\"]\n",
    );
    let figs = tmp.path().join("figs");
    let (res_s, figs_s) = (res.to_str().unwrap(), figs.to_str().unwrap());
    common::plateau_ok(&["sweep", config.to_str().unwrap(), "--results", res_s]);
    let out = common::plateau_ok(&["scaling", "--results", res_s, "--out", figs_s]);
    let groups: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(groups.len(), 2, "{groups:?}");
    let kernels: Vec<&str> = groups
        .iter()
        .map(|g| g["key"]["downsample"].as_str().unwrap())
        .collect();
    assert!(
        kernels.contains(&"area") && kernels.contains(&"bicubic"),
        "{kernels:?}"
    );
    for g in &groups {
        assert_eq!(
            g["best"].as_array().unwrap().len(),
            2,
            "two sizes per curve"
        );
        let tag = g["tag"].as_str().unwrap();
        assert!(tag.contains("downsample"), "{tag}");
        assert!(figs.join(format!("scaling_{tag}.png")).exists());
    }
}

/// `(id, status, config, results)` of each line, sorted by cell id, as JSON text: what a run
/// computed, without timings or host.
fn contents(results: &Path) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = records(results)
        .into_iter()
        .map(|r| {
            let m = r.metrics.expect("a finished cell has metrics");
            (
                r.id,
                r.status,
                serde_json::to_string(&m.config).unwrap(),
                serde_json::to_string(&m.results).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn two_jobs_at_once_record_what_one_job_records() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |jobs: &str| {
        let res = tmp.path().join(format!("jobs{jobs}"));
        let res_s = res.to_str().unwrap();
        common::plateau_ok(&["sweep", &smoke(), "--results", res_s, "--jobs", jobs]);
        res
    };
    let (one, two) = (contents(&run("1")), contents(&run("2")));
    let dry = plateau(&["sweep", &smoke(), "--dry-run"]);
    let cells = String::from_utf8(dry.stdout).unwrap().lines().count();
    assert!(cells >= 2);
    // Each cell exactly once (ids sorted: no repeats), the same computations.
    assert_eq!(two.len(), cells);
    assert!(two.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(one, two);
}

#[test]
fn gpus_need_cells_on_cuda_and_jobs_at_least_one() {
    let tmp = tempfile::tempdir().unwrap();
    let res = tmp.path().join("res");
    let res_s = res.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--gpus", "0,1"], "is not (set device"),
        (&["--gpus", "0,0"], "a GPU twice"),
        (&["--jobs", "0"], "--jobs must be at least 1"),
        (
            &["--backend", "slurm", "--jobs", "2"],
            "for --backend local",
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec!["sweep", smoke().leak(), "--results", res_s];
        args.extend_from_slice(flags);
        common::assert_bad_input(&plateau(&args), want, &flags.join(" "));
        assert!(!res.exists(), "{flags:?} wrote {}", res.display());
    }
}
