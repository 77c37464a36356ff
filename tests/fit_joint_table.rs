//! `plateau fit --model joint`: the joint law in (N, P) fitted to any table of runs.

mod common;

use common::{assert_bad_input, plateau, plateau_ok};

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let mut s = String::from("N,P,loss\n");
    for i in 0..5 {
        for j in 0..5 {
            let n = 16.0 * 4f64.powi(i);
            let p = 1000.0 * 4f64.powi(j);
            let y = 0.01 + 0.5 * n.powf(-0.6) + 3.0 * p.powf(-0.5);
            let wiggle = 1.0 + 0.01 * (((i * 5 + j) * 7 % 5) as f64 - 2.0);
            s.push_str(&format!("{n},{p},{}\n", y * wiggle));
        }
    }
    std::fs::write(&path, s).unwrap();
    let p = path.to_str().unwrap();
    let out = plateau_ok(&["fit", "--input", p, "--x", "N", "--p", "P", "--y", "loss", "--model", "joint", "--reps", "200"]);
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    let out = plateau(&["fit", "--input", p, "--x", "N", "--p", "Q", "--y", "loss", "--model", "joint"]);
    assert_bad_input(&out, "no column 'Q'", "missing");
}
