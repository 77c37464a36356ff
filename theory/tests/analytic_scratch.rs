use plateau_theory::analytic::*;
use plateau_theory::montecarlo::MonteCarlo;
use plateau_theory::{Estimator, Setup, StepSize};

#[test]
#[ignore]
fn scratch() {
    let idx: usize = std::env::var("SETUP").map(|s| s.parse().unwrap()).unwrap_or(1);
    let runs: usize = std::env::var("RUNS").map(|s| s.parse().unwrap()).unwrap_or(50);
    let setup = Setup::paper_setups()[idx];
    let sizes = setup.default_train_sizes();
    let t = std::time::Instant::now();
    let an = curve(&setup, &sizes, StepSize::Paper).unwrap();
    println!("analytic {:?}", t.elapsed());
    let mc = MonteCarlo::new(setup, sizes.clone(), runs, 1).run(|| {}).unwrap();
    let fl = setup.floor();
    for e in [Estimator::GdEarlyStopped, Estimator::LeastSquares, Estimator::Pca] {
        for &nt in &sizes {
            let a = an.iter().find(|p| p.n_train == nt && p.estimator == e).unwrap().prediction;
            let m = mc.iter().find(|p| p.n_train == nt && p.estimator == e).unwrap();
            let r = a.risk.unwrap_or(f64::NAN);
            let se = m.stderr.unwrap();
            let tol = (0.05 * (m.mean - fl)).max(3.0 * se);
            let ok = (r - m.mean).abs() <= tol;
            println!("{:>16} N={:>6} an={:.6} mc={:.6} se={:.2e} relex={:+.4} z={:+.2} k={:?}/{:?} {}", e.name(), nt, r, m.mean, se, (r - m.mean)/(m.mean - fl), (r-m.mean)/se, a.k_opt, m.k_opt_mean, if ok {"ok"} else if nt >= 4*setup.d() {"FAIL"} else {"(fail)"});
        }
    }
}

#[test]
#[ignore]
fn timing() {
    let setup = Setup::paper_setups()[1];
    for nt in [44usize, 1024] {
        let t = std::time::Instant::now();
        let eq = SpectralEquivalent::new(&setup, nt).unwrap();
        let t1 = t.elapsed();
        let p = eq.gd_path(StepSize::Paper.eta(&setup, nt), 5000);
        let t2 = t.elapsed();
        let pc = eq.pca_risk();
        println!("N={nt} grid {:?} path {:?} supp {:?} {} {}", t1, t2 - t1, eq.support(), p[10], pc);
    }
    let t = std::time::Instant::now();
    for s in Setup::paper_setups() {
        let t = std::time::Instant::now();
        curve(&s, &s.default_train_sizes(), StepSize::Paper).unwrap();
        let t1 = t.elapsed();
        let mut tt = vec![];
        for nt in s.default_train_sizes() {
            let t = std::time::Instant::now();
            let eq = SpectralEquivalent::new(&s, nt).unwrap();
            let t1 = t.elapsed();
            eq.predict(Estimator::GdEarlyStopped, StepSize::Paper);
            tt.push(format!("{nt}:{}/{}", t1.as_micros(), t.elapsed().as_micros()));
        }
        println!("{:?} {:?} {}", (s.d(), s.n(), s.sigma()), t1, tt.join(" "));
    }
    println!("all {:?}", t.elapsed());
}
