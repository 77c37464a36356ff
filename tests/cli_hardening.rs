//! Issue #23, "data loss and crashes": outputs that resolve to the process's own streams,
//! write errors on stdout and stderr, sizes refused before anything is allocated, charts on
//! degenerate axes, outputs checked before the work, a locked `--out`, and the temporary file
//! of an interrupted write. Each case is a row: a shell command run in a fresh temporary folder
//! (`$P` is the plateau binary), its exit status and the start of the first line it prints.
#![cfg(unix)]

use crate::common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Which stream's first line a row checks.
#[derive(Clone, Copy, Debug)]
enum Stream {
    Stdout,
    Stderr,
}

/// One row: what it checks, the `sh` script, the exit status, and the start of the first line
/// of `stream` (after the `sh` script's own post-processing).
struct Row {
    what: &'static str,
    script: &'static str,
    status: i32,
    stream: Stream,
    first: &'static str,
}

/// Longest a row may run: the hangs of #23 spun for ever.
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs `script` with `sh -c` in `dir`, `$P` the plateau binary and `$T` a quick analytic
/// theory run, killed at [`DEADLINE`].
fn sh(dir: &Path, script: &str) -> Output {
    let mut child = common::one_torch_thread(&mut Command::new("sh"))
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("P", env!("CARGO_BIN_EXE_plateau"))
        .env(
            "T",
            "theory --d 2 --n 8 --sigma 0.1 --train-sizes 4,16 --analytic",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("{script}: still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A row refused with exit 2, `first` the start of its first stderr line.
fn refused(what: &'static str, script: String, first: &'static str) -> Row {
    Row {
        what,
        script: Box::leak(script.into_boxed_str()),
        status: 2,
        stream: Stream::Stderr,
        first,
    }
}

fn check(rows: &[Row]) {
    for row in rows {
        let dir = tempfile::tempdir().unwrap();
        let out = sh(dir.path(), row.script);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        let what = format!(
            "{}\n  script: {}\n  stdout: {stdout}\n  stderr: {stderr}",
            row.what, row.script
        );
        assert_eq!(out.status.code(), Some(row.status), "{what}");
        let text = match row.stream {
            Stream::Stdout => &stdout,
            Stream::Stderr => &stderr,
        };
        let first = text.lines().next().unwrap_or("");
        assert!(first.starts_with(row.first), "first line: {what}");
        assert!(!stderr.contains("panicked"), "{what}");
    }
}

/// Item 1: a path that is the process's own stdout or stderr is written through it (an
/// append stays an append); `tr` joins the log's lines so that the first line shows both the
/// earlier content and the CSV after it.
#[test]
fn an_output_that_is_a_standard_stream_is_written_through_it() {
    let keep = |what, script| Row {
        what,
        script,
        status: 0,
        stream: Stream::Stdout,
        first: "earlier|d,n,sigma,N,",
    };
    check(&[
        keep(
            "--out /dev/stdout >> log.txt",
            "echo earlier > log.txt; $P $T --out /dev/stdout >> log.txt; s=$?; \
             tr '\\n' '|' < log.txt; exit $s",
        ),
        keep(
            "--out /dev/fd/1 >> log.txt",
            "echo earlier > log.txt; $P $T --out /dev/fd/1 >> log.txt; s=$?; \
             tr '\\n' '|' < log.txt; exit $s",
        ),
        keep(
            "--out /proc/self/fd/1 >> log.txt",
            "echo earlier > log.txt; $P $T --out /proc/self/fd/1 >> log.txt; s=$?; \
             tr '\\n' '|' < log.txt; exit $s",
        ),
        keep(
            "--out /dev/stderr 2>> err.txt",
            "echo earlier > err.txt; $P $T --out /dev/stderr 2>> err.txt; s=$?; \
             tr '\\n' '|' < err.txt; exit $s",
        ),
        keep(
            "--out log.txt >> log.txt (the file standard output appends to)",
            "echo earlier > log.txt; $P $T --out log.txt >> log.txt; s=$?; \
             tr '\\n' '|' < log.txt; exit $s",
        ),
        keep(
            "--out link-to-log >> log.txt",
            "echo earlier > log.txt; ln -s log.txt link; $P $T --out link >> log.txt; s=$?; \
             tr '\\n' '|' < log.txt; exit $s",
        ),
        Row {
            what: "--out /dev/stdin < in.txt: refused, the input untouched",
            script: "echo earlier > in.txt; $P $T --out /dev/stdin < in.txt 2>err.txt; s=$?; \
                     cat in.txt err.txt; exit $s",
            status: 2,
            stream: Stream::Stdout,
            first: "earlier",
        },
        Row {
            what: "--out /dev/stdin: one line",
            script: "echo earlier > in.txt; $P $T --out /dev/stdin < in.txt",
            status: 2,
            stream: Stream::Stderr,
            first: "plateau: error: cannot write /dev/stdin: standard input is not an output",
        },
    ]);
}

/// Item 4, stderr: write errors on it end the program with its own status, no panic (the
/// device is only opened by the shell as the stream's sink).
#[test]
fn write_errors_on_stderr_keep_the_exit_status() {
    check(&[
        Row {
            what: "bad input with stderr on /dev/full: status 2, not a panic (101)",
            script: "$P theory --d 0 --n 8 2>/dev/full",
            status: 2,
            stream: Stream::Stdout,
            first: "",
        },
        Row {
            what: "analytic theory with stderr on /dev/full",
            script: "$P $T 2>/dev/full",
            status: 0,
            stream: Stream::Stdout,
            first: "d,n,sigma,N,",
        },
        Row {
            what: "Monte Carlo theory (prints its estimate on stderr) with stderr on /dev/full",
            script: "$P theory --d 2 --n 8 --sigma 0.1 --train-sizes 4 --runs 2 2>/dev/full",
            status: 0,
            stream: Stream::Stdout,
            first: "d,n,sigma,N,",
        },
        Row {
            what: "flag error with stderr on /dev/full",
            script: "$P theory --no-such-flag 2>/dev/full",
            status: 2,
            stream: Stream::Stdout,
            first: "",
        },
    ]);
}

/// Item 4, stdout: a write error on it is one line of ours and status 2, whatever stderr is;
/// a closed stdout is an error unless the output goes to a file.
#[test]
fn write_errors_on_stdout_are_one_line_and_status_2() {
    let validate = "$P validate --d 3 --n 20 --sigma 0.3 --train-sizes 40 \
                    --estimators least_squares --max-draws 200 --out v";
    check(&[
        Row {
            what: "theory with stdout on /dev/full",
            script: "$P $T >/dev/full",
            status: 2,
            stream: Stream::Stderr,
            first: "plateau: error: cannot write to standard output: No space left on device",
        },
        Row {
            what: "validate with stdout on /dev/full (after its progress lines)",
            script: Box::leak(
                format!("{validate} >/dev/full 2>err; s=$?; tail -n 1 err; exit $s")
                    .into_boxed_str(),
            ),
            status: 2,
            stream: Stream::Stdout,
            first: "plateau: error: cannot write to standard output: No space left on device",
        },
        Row {
            what: "validate with stdout and stderr on /dev/full",
            script: Box::leak(format!("{validate} >/dev/full 2>&1").into_boxed_str()),
            status: 2,
            stream: Stream::Stderr,
            first: "",
        },
        Row {
            what: "theory with stdout closed: refused before the work",
            script: "$P $T >&-",
            status: 2,
            stream: Stream::Stderr,
            first: "plateau: error: cannot write to standard output: it is closed",
        },
        Row {
            what: "theory with stdout on /dev/null opened read-write (Python's \
                   subprocess.DEVNULL, nohup): the output is discarded, no error",
            script: "$P $T 1<>/dev/null",
            status: 0,
            stream: Stream::Stderr,
            first: "",
        },
        Row {
            what: "theory --out FILE with stdout closed: the file is written",
            script: "$P $T --out x.csv >&-; s=$?; head -n 1 x.csv; exit $s",
            status: 0,
            stream: Stream::Stdout,
            first: "d,n,sigma,N,",
        },
    ]);
}

/// Item 6 and the messages of item 14: an output that cannot be created is refused before the
/// work (the first stderr line is the refusal, not the Monte Carlo's estimate line), naming the
/// target (not a temporary file) and a dangling link as such.
#[test]
fn an_output_that_cannot_be_written_is_refused_before_the_work() {
    let mc = "$P theory --d 2 --n 8 --sigma 0.1 --train-sizes 4 --runs 2";
    check(&[
        refused(
            "--out /proc/version",
            format!("{mc} --out /proc/version"),
            "plateau: error: cannot write /proc/version: cannot create a file in /proc: ",
        ),
        refused(
            "--out in a folder that cannot be created",
            format!("{mc} --out /proc/plateau-missing/x.csv"),
            "plateau: error: cannot write /proc/plateau-missing/x.csv: cannot create a file in \
             /proc: ",
        ),
        refused(
            "path --out /proc/version",
            "$P path --d 2 --n 8 --sigma 0.1 --train-size 4 --out /proc/version".into(),
            "plateau: error: cannot write /proc/version",
        ),
        refused(
            "validate --out an unwritable folder",
            "$P validate --d 3 --n 20 --sigma 0.3 --train-sizes 40 --out /proc/plateau-v".into(),
            "plateau: error: cannot write into /proc/plateau-v: cannot create a file in /proc: ",
        ),
        refused(
            "validate --out a dangling link",
            "ln -s missing/deeper v; $P validate --d 3 --n 20 --sigma 0.3 --train-sizes 40 \
             --out v"
                .into(),
            "plateau: error: cannot write into v: v is a link to missing/deeper, which does \
             not exist",
        ),
        refused(
            "--out a file in a dangling link's folder",
            format!("ln -s missing d; {mc} --out d/x.csv"),
            "plateau: error: cannot write d/x.csv: d is a link to missing, which does not exist",
        ),
        refused(
            "scaling --out a file",
            "echo x > f; $P scaling --results f --out f".into(),
            "plateau: error: cannot write into f: f is not a folder",
        ),
    ]);
}

/// Item 5: validate's figure on an empty or huge axis range no longer spins after the files
/// are written (each row has [`DEADLINE`]).
#[test]
fn degenerate_chart_axes_do_not_hang() {
    let base = "$P validate --d 2 --n 10 --sigma 0.1 --estimators least_squares --out v";
    let row = |what, extra: &str| Row {
        what,
        script: Box::leak(
            format!("{base} {extra}; s=$?; ls v | tr '\\n' ' '; exit $s").into_boxed_str(),
        ),
        status: 0,
        stream: Stream::Stdout,
        first: "validate: ",
    };
    check(&[
        // One point compared (the others skipped): an x axis of one value.
        Row {
            first: "validate: PASS 1/1 points pass",
            ..row(
                "least squares at N = n - 1, n, n + 1 (skipped) and 40",
                "--train-sizes 9,10,11,40 --max-draws 200",
            )
        },
        // Nothing to compare is bad input, refused before any file or figure (#23 follow-up:
        // it printed "PASS 0/0" and exited 0).
        Row {
            what: "least squares at N = n - 1, n, n + 1 only",
            script: "$P validate --d 2 --n 10 --sigma 0.1 --estimators least_squares --out v \
                     --train-sizes 9,10,11; s=$?; ls v; exit $s",
            status: 2,
            stream: Stream::Stderr,
            first: "plateau: error: nothing to validate: every requested point is skipped, the \
                    expected risk being infinite there (least_squares at N = 9, 10, 11 (d=2, \
                    n=10, sigma=0.1))",
        },
        row(
            "--tol-z 1e308",
            "--train-sizes 40 --max-draws 200 --tol-z 1e308",
        ),
    ]);
}

/// Item 3: every size estimated before anything is allocated, refused in one line.
#[test]
fn sizes_are_estimated_before_anything_is_allocated() {
    let big = "--d 100000 --n 100000 --sigma 0.1";
    // A five-point curve for `fit` and `plan`.
    let curve = "printf 'N,mse\\n10,0.5\\n20,0.3\\n40,0.2\\n80,0.15\\n160,0.12\\n' > c.csv;";
    check(&[
        refused(
            "theory, least squares, d = n = 1e5, N = 1",
            format!("$P theory {big} --train-sizes 1 --estimators least_squares"),
            "plateau: error: ",
        ),
        refused(
            "theory, dense engine, d = n = 1e5, N = 1",
            format!("$P theory {big} --train-sizes 1 --engine dense"),
            "plateau: error: ",
        ),
        refused(
            "path --method explicit, d = n = 1e5, N = 1",
            format!("$P path {big} --train-size 1 --method explicit"),
            "plateau: error: explicit training set needs an estimated",
        ),
        refused(
            "path --method explicit, N = 2^64 - 1",
            "$P path --d 2 --n 10 --sigma 0.1 --train-size 18446744073709551615 \
             --method explicit"
                .into(),
            "plateau: error: explicit training set needs an estimated",
        ),
        refused(
            "fit --reps 2^64 - 1",
            format!("{curve} $P fit --input c.csv --reps 18446744073709551615"),
            "plateau: error: --reps 18446744073709551615 is above the bound 100000",
        ),
        refused(
            "plan --reps 1e9",
            format!("{curve} $P plan --input c.csv --reps 1000000000"),
            "plateau: error: --reps 1000000000 is above the bound 100000",
        ),
    ]);
}

/// Item 6: SIGTERM or SIGINT while the final file is being written removes its temporary file
/// (`PLATEAU_TEST_HOLD_TEMP_MS` holds the complete temporary file in place before the rename),
/// and the program still dies of the signal.
#[test]
fn an_interrupted_write_leaves_no_temporary_file() {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.csv");
        let mut command = common::command();
        // A shell without job control starts background commands with SIGINT ignored, and the
        // program rightly leaves an ignored signal alone (as under `nohup`): give the child the
        // default action, whatever the test runner inherited.
        // SAFETY: `signal` is async-signal-safe, as a `pre_exec` closure must be.
        unsafe {
            command.pre_exec(move || {
                libc::signal(sig, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = command
            .args(common::words(
                "theory --d 2 --n 8 --sigma 0.1 --train-sizes 4,16 --analytic --out",
            ))
            .arg(&out)
            .env("PLATEAU_TEST_HOLD_TEMP_MS", "60000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let entries = || -> Vec<String> {
            std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let start = Instant::now();
        while entries().is_empty() {
            assert!(start.elapsed() < DEADLINE, "no temporary file appeared");
            std::thread::sleep(Duration::from_millis(10));
        }
        let held = entries();
        assert!(held[0].starts_with(".tmp"), "{held:?}");
        // SAFETY: signals the child this test started.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.signal(), Some(sig), "{stderr}");
        assert_eq!(entries(), Vec::<String>::new(), "signal {sig} left a file");
    }
}

/// Items 3 and 14 for the trainer: sizes refused by the estimate before anything is built
/// (the field spectrum took 80 GB at side 100000, LibTorch panicked), one line with a finite
/// estimate, and a dangling `--out` link named as such.
#[test]
fn train_sizes_and_outputs_are_refused_before_the_work() {
    let train = "$P train --task denoise --train-size 8 --val-size 4 --test-size 8 --epochs 1";
    let needs = "plateau: error: the run needs an estimated ";
    check(&[
        refused(
            "--image-size 100000 on the Gaussian field",
            format!("{train} --data gaussian-field --image-size 100000 --out r"),
            needs,
        ),
        refused(
            "--image-size 20000 on the Gaussian field (took 14 s)",
            format!("{train} --data gaussian-field --image-size 20000 --out r"),
            needs,
        ),
        refused(
            "--image-size 2^64 - 1",
            format!("{train} --data gaussian-field --image-size 18446744073709551615 --out r"),
            "plateau: error: --image-size 18446744073709551615 must be a positive multiple of",
        ),
        refused(
            "--image-size 2^64 - 4 (a multiple of 2^pools)",
            format!("{train} --data gaussian-field --image-size 18446744073709551612 --out r"),
            needs,
        ),
        refused(
            "--image-size 2^64 - 4 on a subspace",
            format!("{train} --data subspace --image-size 18446744073709551612 --out r"),
            needs,
        ),
        refused(
            "bench-train --image-size 100000 (LibTorch panicked)",
            "$P bench-train --image-size 100000 --steps 1 --warmup 0".into(),
            needs,
        ),
        refused(
            "--channels 2^32: an estimate, not inf",
            format!("{train} --data subspace --image-size 16 --channels 4294967296 --out r"),
            needs,
        ),
        refused(
            "--out a dangling link",
            format!("ln -s missing/deeper r; {train} --data subspace --image-size 16 --out r"),
            "plateau: error: cannot write into r: r is a link to missing/deeper, which does \
             not exist",
        ),
        refused(
            "--out in an unwritable folder",
            format!("{train} --data subspace --image-size 16 --out /proc/plateau-r"),
            "plateau: error: cannot write into /proc/plateau-r: cannot create a file in /proc",
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = sh(
        dir.path(),
        &format!("{train} --data subspace --image-size 16 --channels 4294967296 --out r"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("inf"), "{err}");
}

/// Item 2: a second `train --out DIR` while a first one runs there is refused, naming the
/// holder; the first one's files are its own.
#[test]
fn a_second_train_on_a_busy_folder_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let args = |epochs: &'static str| {
        let mut a = common::words(
            "train --task denoise --data subspace --model unet --train-size 8 --val-size 4 \
             --test-size 8 --channels 4 --image-size 16 --early-stop 100000 --epochs",
        );
        a.push(epochs);
        a.push("--out");
        a
    };
    // Long enough to still run when the second starts; killed afterwards.
    let mut first = common::command()
        .args(args("100000"))
        .arg(&run)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = run.join(".train.lock");
    let start = Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |s| s.is_empty()) {
        assert!(
            start.elapsed() < DEADLINE,
            "the first run never locked its folder"
        );
        assert!(first.try_wait().unwrap().is_none(), "the first run ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = common::command()
        .args(args("1"))
        .arg(&run)
        .output()
        .unwrap();
    let still_running = first.try_wait().unwrap().is_none();
    let _ = first.kill();
    let _ = first.wait();
    assert!(
        still_running,
        "the first run ended before the second was refused"
    );
    common::assert_bad_input(
        &second,
        &format!(
            "is in use by another run (plateau train, process {} on ",
            first.id()
        ),
        "second run",
    );
    assert!(!run.join("metrics.json").exists());
}

/// Item 14: a dangling link among the images of `folder:` is a bad file like any other: skipped
/// with `--skip-bad-files`, otherwise named once (not the whole listing failing, with the
/// system's reason repeated).
#[test]
fn a_dangling_link_in_a_data_folder_is_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    for i in 0..60 {
        let img = image::GrayImage::from_fn(20, 20, |x, y| {
            image::Luma([((x * 7 + y * 13 + i) % 256) as u8])
        });
        img.save(images.join(format!("img{i:02}.png"))).unwrap();
    }
    for i in 0..20 {
        std::os::unix::fs::symlink(
            dir.path().join(format!("gone{i}.png")),
            images.join(format!("link{i:02}.png")),
        )
        .unwrap();
    }
    let data = format!("folder:{}", images.display());
    let run = |skip: bool, tag: &str| {
        let mut args = common::words(
            "train --task denoise --model unet --train-size 8 --val-size 2 --test-size 2 \
             --channels 4 --image-size 16 --epochs 1 --data",
        );
        args.push(&data);
        if skip {
            args.push("--skip-bad-files");
        }
        let out = dir.path().join(tag);
        let out = out.to_str().unwrap().to_string();
        common::command()
            .args(&args)
            .args(["--out", &out])
            .output()
            .unwrap()
    };
    let skipped = run(true, "skip");
    let err = String::from_utf8_lossy(&skipped.stderr);
    common::assert_ok(&skipped, "--skip-bad-files");
    assert!(err.contains("plateau: warning: skipped"), "{err}");
    let failed = run(false, "fail");
    let err = String::from_utf8_lossy(&failed.stderr);
    common::assert_bad_input(&failed, "cannot decode", "a dangling link");
    assert!(err.contains("link"), "{err}");
    assert!(err.matches("os error").count() <= 1, "{err}");
}

/// Issue #23's leftover: a `plan` flag of one mode given in another was accepted and ignored
/// (`--exact-floor` from theory: clap waives `requires = "input"` because `--input` conflicts
/// with `--d`). clap now refuses each with its usage error (exit 2) before any file is read
/// (their own modes: [`plan_flags_in_their_own_mode_still_run`]).
#[test]
fn plan_flags_of_another_mode_are_refused_by_clap() {
    let theory = "$P plan --d 10 --n 100 --sigma 0.1";
    let table = "$P plan --input t.csv --x N --p P --y loss";
    check(&[
        refused(
            "--exact-floor from theory",
            format!("{theory} --exact-floor 0.01"),
            "error: the argument '--d <D>' cannot be used with '--exact-floor <MSE>'",
        ),
        refused(
            "--exact-floor with a preset",
            "$P plan --preset field16 --exact-floor 0.01".into(),
            "error: the argument '--preset <PRESET>' cannot be used with '--exact-floor <MSE>'",
        ),
        refused(
            "--exact-floor with a results store",
            "$P plan --results r --exact-floor 0.01".into(),
            "error: the argument '--results <DIR>' cannot be used with '--exact-floor <MSE>'",
        ),
        refused(
            "--floor-se from theory",
            format!("{theory} --floor-se 0.001"),
            "error: the argument '--d <D>' cannot be used with '--floor-se <SE>'",
        ),
        refused(
            "--backtest from theory",
            format!("{theory} --backtest"),
            "error: the argument '--d <D>' cannot be used with '--backtest'",
        ),
        refused(
            "--peak from theory",
            format!("{theory} --peak 255"),
            "error: the argument '--d <D>' cannot be used with '--peak <PEAK>'",
        ),
        refused(
            "--reps from theory",
            format!("{theory} --reps 100"),
            "error: the argument '--d <D>' cannot be used with:",
        ),
        refused(
            "a CSV column from theory",
            format!("{theory} --y loss"),
            "error: the argument '--d <D>' cannot be used with:",
        ),
        refused(
            "a CSV column with a results store",
            "$P plan --results r --group estimator".into(),
            "error: the argument '--results <DIR>' cannot be used with:",
        ),
        refused(
            "--within with the joint law",
            format!("{table} --within 0.1"),
            "error: the argument '--p <COLUMN>' cannot be used with '--within <F[,F...]>'",
        ),
        refused(
            "--target-mse with the joint law",
            format!("{table} --target-mse 0.1"),
            "error: the argument '--p <COLUMN>' cannot be used with '--target-mse <MSE[,MSE...]>'",
        ),
        refused(
            "--at with the joint law",
            format!("{table} --at 1e6"),
            "error: the argument '--p <COLUMN>' cannot be used with '--at <N[,N...]>'",
        ),
    ]);
}

/// The other side of the refusals above: the same flags in their own modes still run.
#[test]
fn plan_flags_in_their_own_mode_still_run() {
    check(&[
        Row {
            what: "--exact-floor and --floor-se with a CSV",
            script:
                "printf 'N,mean\\n16,0.3\\n32,0.2\\n64,0.15\\n128,0.12\\n256,0.11\\n' > c.csv; \
                     $P plan --input c.csv --exact-floor 0.1 --floor-se 0.001 --reps 20 \
                     --format text",
            status: 0,
            stream: Stream::Stdout,
            first: "all",
        },
        Row {
            what: "--within and --at from theory",
            script: "$P plan --d 10 --n 100 --sigma 0.1 --within 0.1 --at 1e4 --format text",
            status: 0,
            stream: Stream::Stdout,
            first: "subspace model d = 10",
        },
    ]);
}
