//! `scripts/device-check.sh` without a GPU: its argument checks and its dry run, whose commands
//! must be valid `plateau train` / `plateau bench-train` invocations that cover every precision
//! on CUDA (one of them by index, `cuda:0`) against an fp32 CPU run.

use std::process::{Command, Output};

use clap::FromArgMatches;
use plateau_run::args::{BenchArgs, TrainArgs};
use plateau_run::recipe::TrainRecipe;
use plateau_run::settings::Precision;

fn script(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/device-check.sh"
        ))
        .args(args)
        .output()
        .expect("bash runs")
}

/// Parses `flags` with the parser of `A`, as `plateau train` / `plateau bench-train` do.
fn parse<A: clap::Args + FromArgMatches>(flags: &str) -> A {
    let cmd = A::augment_args(clap::Command::new("check")).no_binary_name(true);
    let m = cmd
        .try_get_matches_from(flags.split_whitespace())
        .unwrap_or_else(|e| panic!("{flags}: {e}"));
    A::from_arg_matches(&m).unwrap()
}

#[test]
fn the_dry_run_prints_valid_runs_for_every_precision_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let o = script(&["--dry-run", "--bin", "/b", "--venv", "/v", "--out", dir]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    let (mut trained, mut benched, mut pytorch) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines() {
        if let Some(flags) = line.strip_prefix("/b/plateau-train ") {
            let args: TrainArgs = parse(flags);
            let recipe = TrainRecipe::try_from(&args).unwrap_or_else(|e| panic!("{flags}: {e}"));
            trained.push((args.device, recipe.config.curve.precision));
        } else if let Some(flags) = line.strip_prefix("/b/plateau-bench-train ") {
            let args: BenchArgs = parse(flags);
            benched.push((args.device, args.precision));
        } else if let Some(rest) = line.strip_prefix("/v/bin/python ") {
            pytorch.push(
                rest.split_whitespace()
                    .skip(1)
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    use Precision::{Bf16, Fp16, Fp32};
    let on = |d: &str, p| (d.to_string(), p);
    assert_eq!(
        trained,
        [
            on("cpu", Fp32),
            on("cuda", Fp32),
            on("cuda:0", Bf16),
            on("cuda:0", Fp16)
        ],
        "{text}"
    );
    assert_eq!(benched, [on("cuda", Fp32), on("cuda", Bf16)], "{text}");
    // PyTorch runs the same benchmark flags, precision included.
    assert_eq!(pytorch.len(), 2, "{text}");
    for (flags, (_, p)) in pytorch.iter().zip(&benched) {
        assert!(
            flags.ends_with(&format!("--precision {}", p.name())),
            "{flags}"
        );
    }
    assert!(text.contains("must be refused"), "{text}");
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    for (args, want) in [
        (
            &["--epochs", "0", "--dry-run"][..],
            "--epochs must be a positive integer",
        ),
        (&["--frobnicate"][..], "unknown argument '--frobnicate'"),
    ] {
        let o = script(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
