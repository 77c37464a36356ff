//! Synthetic tables of runs drawn from a known joint law, for `fit_joint_table` and
//! `plan_joint_table`: 6 sizes N = 16 4^i (16 to 16384) x 6 parameter counts P = 1000 4^j
//! (1000 to 1.0e6), one run per cell, each the law times `exp(3% Gaussian noise)`; with
//! outliers, a few cells (chosen at random) are multiplied by `e^0.7` (about 2: a run that
//! went wrong).
#![allow(dead_code)] // each test file uses a part

use plateau::fit::joint::table::TableGroup;
use plateau::fit::joint::{Family, JointData, JointLaw, JointPoint};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// The law the tables are drawn from.
pub const TRUTH: JointLaw = JointLaw {
    family: Family::Additive,
    e: 0.01,
    a: 0.5,
    alpha: 0.6,
    b: 3.0,
    beta: 0.5,
    q: 1.0,
};

/// Log noise per run.
pub const SIGMA: f64 = 0.03;

/// Log shift of an outlier.
pub const OUTLIER_SHIFT: f64 = 0.7;

/// The runs of one table with `outliers` outlying cells.
pub fn points(law: &JointLaw, outliers: usize, rng: &mut ChaCha8Rng) -> Vec<JointPoint> {
    let noise = Normal::new(0.0, SIGMA).unwrap();
    let mut pts = Vec::new();
    for i in 0..6 {
        for j in 0..6 {
            let n = 16.0 * 4f64.powi(i);
            let p = 1000.0 * 4f64.powi(j);
            let y = law.predict(n, p) * noise.sample(rng).exp();
            pts.push(JointPoint { n, p, y });
        }
    }
    let mut hit = 0;
    while hit < outliers {
        let k = rng.random_range(0..pts.len());
        if pts[k].y < 1.5 * law.predict(pts[k].n, pts[k].p) {
            pts[k].y *= OUTLIER_SHIFT.exp();
            hit += 1;
        }
    }
    pts
}

/// The table as `plateau fit` reads it (group `all`).
pub fn group(points: &[JointPoint]) -> TableGroup {
    TableGroup {
        name: "all".into(),
        rows: points.len(),
        data: JointData::new(points).unwrap(),
    }
}

/// The runs as a CSV with columns `N,P,loss`.
pub fn csv(points: &[JointPoint]) -> String {
    let mut s = String::from("N,P,loss\n");
    for q in points {
        s.push_str(&format!("{},{},{}\n", q.n, q.p, q.y));
    }
    s
}
