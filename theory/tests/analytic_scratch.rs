use plateau_theory::analytic::*;
use plateau_theory::montecarlo::MonteCarlo;
use plateau_theory::{Estimator, Setup, StepSize};

fn mc_cached(idx: usize, runs: usize, seed: u64) -> Vec<(usize, String, f64, f64)> {
    let path = format!("/tmp/mc_{idx}_{runs}_{seed}.txt");
    if let Ok(s) = std::fs::read_to_string(&path) {
        return s
            .lines()
            .map(|l| {
                let v: Vec<&str> = l.split(' ').collect();
                (
                    v[0].parse().unwrap(),
                    v[1].to_string(),
                    v[2].parse().unwrap(),
                    v[3].parse().unwrap(),
                )
            })
            .collect();
    }
    let setup = Setup::paper_setups()[idx];
    let mc = MonteCarlo::new(setup, setup.default_train_sizes(), runs, seed)
        .run(|| {})
        .unwrap();
    let out: Vec<(usize, String, f64, f64)> = mc
        .iter()
        .map(|m| {
            (
                m.n_train,
                m.estimator.name().to_string(),
                m.mean,
                m.stderr.unwrap(),
            )
        })
        .collect();
    std::fs::write(
        &path,
        out.iter()
            .map(|(n, e, m, s)| format!("{n} {e} {m:e} {s:e}\n"))
            .collect::<String>(),
    )
    .unwrap();
    out
}

#[test]
#[ignore]
fn scratch() {
    let runs: usize = std::env::var("RUNS")
        .map(|s| s.parse().unwrap())
        .unwrap_or(50);
    let shift: usize = std::env::var("SHIFT")
        .map(|s| s.parse().unwrap())
        .unwrap_or(0);
    let all: bool = std::env::var("ALL").is_ok();
    for idx in 0..8 {
        if idx == 4 {
            continue;
        }
        let setup = Setup::paper_setups()[idx];
        let mc = mc_cached(idx, runs, 1);
        let fl = setup.floor();
        for e in [
            Estimator::GdEarlyStopped,
            Estimator::LeastSquares,
            Estimator::Pca,
        ] {
            for nt in setup.default_train_sizes() {
                if nt < 4 * setup.d() && !all {
                    continue;
                }
                let r = if shift == 0 || nt <= shift {
                    expected_risk(&setup, nt, e, StepSize::Paper).unwrap().risk
                } else {
                    let eq = SpectralEquivalent::new(&setup, nt - shift).unwrap();
                    match e {
                        Estimator::GdEarlyStopped => Some(
                            eq.gd_path(StepSize::Paper.eta(&setup, nt), 5000)
                                .into_iter()
                                .fold(f64::INFINITY, f64::min),
                        ),
                        Estimator::Pca => Some(eq.pca_risk()),
                        _ => least_squares(&setup, nt).unwrap().and_then(|v| {
                            if nt > setup.n() {
                                Some(v)
                            } else {
                                eq.ridge_risk(0.0)
                            }
                        }),
                    }
                };
                let Some(r) = r else { continue };
                let m = mc.iter().find(|p| p.0 == nt && p.1 == e.name()).unwrap();
                let tol = (0.05 * (m.2 - fl)).max(3.0 * m.3);
                let ok = (r - m.2).abs() <= tol;
                println!(
                    "{idx} {:>16} N={:>6} an={:.6} mc={:.6} relex={:+.4} z={:+.2} {}",
                    e.name(),
                    nt,
                    r,
                    m.2,
                    (r - m.2) / (m.2 - fl),
                    (r - m.2) / m.3,
                    if ok { "ok" } else { "FAIL" }
                );
            }
        }
    }
}

#[test]
#[ignore]
fn table() {
    for idx in 0..8 {
        if idx == 4 { continue; }
        let setup = Setup::paper_setups()[idx];
        let mc = mc_cached(idx, 50, 1);
        let fl = setup.floor();
        let pts = curve(&setup, &setup.default_train_sizes(), StepSize::Paper).unwrap();
        println!("\n#### ({}, {}, {}) (setup {idx})\n", setup.d(), setup.n(), setup.sigma());
        println!("| N | GD-ES rel | GD-ES z | LS rel | LS z | PCA rel | PCA z |");
        println!("|---|---|---|---|---|---|---|");
        for nt in setup.default_train_sizes() {
            let cell = |e: Estimator| {
                let p = pts.iter().find(|p| p.n_train == nt && p.estimator == e).unwrap().prediction;
                let m = mc.iter().find(|p| p.0 == nt && p.1 == e.name()).unwrap();
                match p.risk { Some(r) => format!("{:+.3} | {:+.1}", (r - m.2) / (m.2 - fl), (r - m.2) / m.3), None => "inf | -".to_string() }
            };
            let mark = if nt >= 4 * setup.d() { "" } else { " *" };
            println!("| {nt}{mark} | {} | {} | {} |", cell(Estimator::GdEarlyStopped), cell(Estimator::LeastSquares), cell(Estimator::Pca));
        }
    }
}
