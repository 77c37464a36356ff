//! Adam and RMSprop written on tch tensors, so that their state is ordinary named tensors that a
//! checkpoint saves and a resumed run restores. tch 0.24's optimisers keep their moments inside
//! the C++ object with no way to read or set them, so a resumed run used to restart them.
//!
//! The update rules are PyTorch's (`torch.optim.Adam` / `RMSprop`, single-tensor path), with the
//! hyper-parameters the trainer uses ([`Rule::of`]):
//!
//! - Adam (`beta1`, `beta2`, `eps`; no weight decay, no AMSGrad), per parameter `p` with
//!   gradient `g` at step `t = 1, 2, ...`:
//!   `m <- beta1 m + (1 - beta1) g`, `v <- beta2 v + (1 - beta2) g^2`,
//!   `p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)`.
//! - RMSprop (`alpha`, `eps`, `momentum`; not centred, no weight decay):
//!   `v <- alpha v + (1 - alpha) g^2`, `u = g / (sqrt(v) + eps)`; with momentum
//!   `b <- momentum b + u`, `p <- p - lr b`, else `p <- p - lr u`.
//!
//! State: one step counter `t` and per trainable variable `NAME` the slots
//! `NAME.exp_avg`, `NAME.exp_avg_sq` (Adam) or `NAME.square_avg` (+ `NAME.momentum_buffer`)
//! (RMSprop), each of the variable's shape and kind. The learning rate is not state: the
//! trainer's schedule owns it (`state.json`).
//!
//! Cost per step: a handful of element-wise kernels per variable, `O(parameters)`; memory: one
//! or two extra copies of the parameters.

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use tch::nn::VarStore;
use tch::{Device, Tensor};

pub use plateau_run::settings::OptimiserKind;

/// Adam's `beta1` (PyTorch's and `tch::nn::Adam`'s default).
pub const ADAM_BETA1: f64 = 0.9;
/// Adam's `beta2`.
pub const ADAM_BETA2: f64 = 0.999;
/// Adam's `eps`.
pub const ADAM_EPS: f64 = 1e-8;
/// RMSprop's smoothing constant `alpha` (PyTorch's default).
pub const RMSPROP_ALPHA: f64 = 0.99;
/// RMSprop's `eps`.
pub const RMSPROP_EPS: f64 = 1e-8;

/// Name of the step counter in the saved state.
const STEP: &str = "step";

/// An update rule and its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// Adam.
    Adam {
        /// Decay of the first moment.
        beta1: f64,
        /// Decay of the second moment.
        beta2: f64,
        /// Added to the denominator.
        eps: f64,
    },
    /// RMSprop.
    RmsProp {
        /// Decay of the squared-gradient average.
        alpha: f64,
        /// Added to the denominator.
        eps: f64,
        /// Momentum of the update (0: none, and no momentum buffer).
        momentum: f64,
    },
}

impl Rule {
    /// The rule the trainer runs for `kind`: PyTorch's defaults, RMSprop without momentum (as
    /// fastMRI's U-Net baseline).
    pub fn of(kind: OptimiserKind) -> Rule {
        match kind {
            OptimiserKind::Adam => Rule::Adam {
                beta1: ADAM_BETA1,
                beta2: ADAM_BETA2,
                eps: ADAM_EPS,
            },
            OptimiserKind::Rmsprop => Rule::RmsProp {
                alpha: RMSPROP_ALPHA,
                eps: RMSPROP_EPS,
                momentum: 0.0,
            },
        }
    }

    /// The names of the per-variable state tensors.
    fn slots(&self) -> &'static [&'static str] {
        match self {
            Rule::Adam { .. } => &["exp_avg", "exp_avg_sq"],
            Rule::RmsProp { momentum, .. } if *momentum != 0.0 => {
                &["square_avg", "momentum_buffer"]
            }
            Rule::RmsProp { .. } => &["square_avg"],
        }
    }
}

/// A trainable variable and its state slots (in the order of [`Rule::slots`]).
struct Param {
    name: String,
    value: Tensor,
    slots: Vec<Tensor>,
}

/// An optimiser over the trainable variables of a `VarStore`.
pub struct Optimizer {
    rule: Rule,
    lr: f64,
    step: i64,
    params: Vec<Param>,
}

impl Optimizer {
    /// An optimiser of `rule` at learning rate `lr` over the trainable variables of `vs` as they
    /// are now (variables added later are not optimised), with zero state.
    pub fn new(rule: Rule, vs: &VarStore, lr: f64) -> Optimizer {
        let mut named: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let params = named
            .into_iter()
            .map(|(name, value)| Param {
                slots: rule.slots().iter().map(|_| value.zeros_like()).collect(),
                name,
                value,
            })
            .collect();
        Optimizer {
            rule,
            lr,
            step: 0,
            params,
        }
    }

    /// Sets the learning rate of the next steps.
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Steps taken (restored by [`Optimizer::load`]).
    pub fn steps(&self) -> i64 {
        self.step
    }

    /// Zeroes the gradients, back-propagates `loss` and takes one step.
    pub fn backward_step(&mut self, loss: &Tensor) {
        self.zero_grad();
        loss.backward();
        self.step();
    }

    /// Zeroes the gradients of the optimised variables.
    pub fn zero_grad(&mut self) {
        for p in &self.params {
            let mut g = p.value.grad();
            if g.defined() {
                let _ = g.detach_().zero_();
            }
        }
    }

    /// One update of every variable that has a gradient.
    pub fn step(&mut self) {
        self.step += 1;
        let (rule, lr, t) = (self.rule, self.lr, self.step);
        tch::no_grad(|| {
            for p in &mut self.params {
                let g = p.value.grad();
                if g.defined() {
                    update(rule, lr, t, &mut p.value, &g, &mut p.slots);
                }
            }
        });
    }

    /// The state as named tensors: `STEP` and `NAME.SLOT` per variable.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![(STEP.to_string(), Tensor::from_slice(&[self.step]))];
        for p in &self.params {
            for (slot, t) in self.rule.slots().iter().zip(&p.slots) {
                out.push((format!("{}.{slot}", p.name), t.to_device(Device::Cpu)));
            }
        }
        out
    }

    /// Writes the state to `path` (safetensors).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        Tensor::write_safetensors(&self.state(), path)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Restores the state written by [`Optimizer::save`] for the same rule and variables.
    ///
    /// # Errors
    /// One line when the file is unreadable, or lacks, adds or mis-shapes a tensor (the state of
    /// another optimiser or network).
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let saved = Tensor::read_safetensors(path)
            .with_context(|| format!("cannot read the optimiser state {}", path.display()))?;
        let mut saved: std::collections::HashMap<String, Tensor> = saved.into_iter().collect();
        let bad = |what: String| {
            anyhow::anyhow!(
                "{} is not this run's optimiser state: {what}",
                path.display()
            )
        };
        let step = saved
            .remove(STEP)
            .ok_or_else(|| bad(format!("no '{STEP}'")))?;
        ensure!(step.numel() == 1, bad(format!("'{STEP}' is not a scalar")));
        let slots = self.rule.slots();
        let mut restored = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let mut tensors = Vec::with_capacity(slots.len());
            for slot in slots {
                let name = format!("{}.{slot}", p.name);
                let t = saved
                    .remove(&name)
                    .ok_or_else(|| bad(format!("no '{name}'")))?;
                if t.size() != p.value.size() || t.kind() != p.value.kind() {
                    bail!(bad(format!("'{name}' has another shape or type")));
                }
                tensors.push(t.to_device(p.value.device()));
            }
            restored.push(tensors);
        }
        if let Some(extra) = saved.keys().next() {
            bail!(bad(format!("unexpected '{extra}'")));
        }
        for (p, tensors) in self.params.iter_mut().zip(restored) {
            p.slots = tensors;
        }
        self.step = step.int64_value(&[0]);
        Ok(())
    }
}

/// One update of `p` (in place) with gradient `g` at step `t`.
fn update(rule: Rule, lr: f64, t: i64, p: &mut Tensor, g: &Tensor, slots: &mut [Tensor]) {
    match rule {
        Rule::Adam { beta1, beta2, eps } => {
            let (m, rest) = slots.split_first_mut().expect("Adam has two slots");
            let v = &mut rest[0];
            let _ = m.g_mul_scalar_(beta1).g_add_(&(g * (1.0 - beta1)));
            let _ = v.g_mul_scalar_(beta2).g_add_(&(g * g * (1.0 - beta2)));
            let t = i32::try_from(t).unwrap_or(i32::MAX);
            let (bc1, bc2) = (1.0 - beta1.powi(t), 1.0 - beta2.powi(t));
            let denom = v.sqrt() / bc2.sqrt() + eps;
            let _ = p.g_sub_(&(&*m / denom * (lr / bc1)));
        }
        Rule::RmsProp {
            alpha,
            eps,
            momentum,
        } => {
            let (v, rest) = slots.split_first_mut().expect("RMSprop has a slot");
            let _ = v.g_mul_scalar_(alpha).g_add_(&(g * g * (1.0 - alpha)));
            let u = g / (v.sqrt() + eps);
            if momentum != 0.0 {
                let b = &mut rest[0];
                let _ = b.g_mul_scalar_(momentum).g_add_(&u);
                let _ = p.g_sub_(&(&*b * lr));
            } else {
                let _ = p.g_sub_(&(u * lr));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{self, OptimizerConfig};
    use tch::Reduction;

    /// A least-squares problem in `f64`: `y = x w*`, `x` `[32, 5]`, `w` `[5, 3]`, and the
    /// variables `w`, `b` at a starting point that depends on `seed`. Deterministic values, not
    /// LibTorch's global generator, which the tests running in parallel share.
    fn problem(seed: u32) -> (VarStore, Tensor, Tensor) {
        let fill = |rows: i64, cols: i64, phase: f64| {
            let v: Vec<f64> = (0..rows * cols)
                .map(|i| (1.7 * i as f64 + phase + f64::from(seed)).sin())
                .collect();
            Tensor::from_slice(&v).view([rows, cols])
        };
        let x = fill(32, 5, 0.3);
        let y = x.mm(&fill(5, 3, 1.1));
        let mut vs = VarStore::new(Device::Cpu);
        let _ = vs.root().var_copy("w", &fill(5, 3, 2.9));
        let _ = vs.root().var_copy("b", &fill(1, 3, 0.7).view([3]));
        vs.double();
        (vs, x, y)
    }

    fn loss(vs: &VarStore, x: &Tensor, y: &Tensor) -> Tensor {
        let v = vs.variables();
        (x.mm(&v["w"]) + &v["b"]).mse_loss(y, Reduction::Mean)
    }

    fn weights(vs: &VarStore) -> Vec<f64> {
        let mut v: Vec<_> = vs.variables().into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.iter()
            .flat_map(|(_, t)| Vec::<f64>::try_from(t.flatten(0, -1)).unwrap())
            .collect()
    }

    /// Largest difference between the two stores' weights after `steps` steps of ours and of
    /// tch's C++ optimiser, with the lr changed half-way (as ReduceLROnPlateau does).
    fn max_difference(rule: Rule, mut theirs: nn::Optimizer, vs_theirs: &VarStore) -> f64 {
        let (vs, x, y) = problem(7);
        let mut ours = Optimizer::new(rule, &vs, 1e-2);
        for step in 0..20 {
            if step == 10 {
                ours.set_lr(5e-3);
                theirs.set_lr(5e-3);
            }
            ours.backward_step(&loss(&vs, &x, &y));
            theirs.backward_step(&loss(vs_theirs, &x, &y));
        }
        assert_eq!(ours.steps(), 20);
        let (a, b) = (weights(&vs), weights(vs_theirs));
        let moved = a
            .iter()
            .zip(weights(&problem(7).0))
            .any(|(p, p0)| (p - p0).abs() > 1e-3);
        assert!(moved, "the optimiser did not move the weights");
        a.iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max)
    }

    /// Both run in `f64` and differ only in the rounding of the same operations (the order of a
    /// multiply-add), a few ulps of weights of order 1 per step: 1e-12 after 20 steps is tight.
    const TOLERANCE: f64 = 1e-12;

    #[test]
    fn adam_matches_tchs_adam() {
        let (vs, ..) = problem(7);
        let theirs = nn::Adam::default().build(&vs, 1e-2).unwrap();
        let d = max_difference(Rule::of(OptimiserKind::Adam), theirs, &vs);
        assert!(d < TOLERANCE, "Adam differs from tch's by {d:e}");
    }

    #[test]
    fn rmsprop_matches_tchs_rmsprop_with_and_without_momentum() {
        for momentum in [0.0, 0.9] {
            let (vs, ..) = problem(7);
            let cfg = nn::RmsProp {
                momentum,
                ..Default::default()
            };
            let theirs = cfg.build(&vs, 1e-2).unwrap();
            let rule = Rule::RmsProp {
                alpha: RMSPROP_ALPHA,
                eps: RMSPROP_EPS,
                momentum,
            };
            let d = max_difference(rule, theirs, &vs);
            assert!(
                d < TOLERANCE,
                "RMSprop (momentum {momentum}) differs by {d:e}"
            );
        }
    }

    #[test]
    fn a_restored_state_continues_exactly_and_a_foreign_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("optim.safetensors");
        let run = |interrupt: bool| {
            let (vs, x, y) = problem(3);
            let mut opt = Optimizer::new(Rule::of(OptimiserKind::Adam), &vs, 1e-2);
            for _ in 0..5 {
                opt.backward_step(&loss(&vs, &x, &y));
            }
            if interrupt {
                opt.save(&file).unwrap();
                opt = Optimizer::new(Rule::of(OptimiserKind::Adam), &vs, 1e-2);
                opt.load(&file).unwrap();
            }
            for _ in 0..5 {
                opt.backward_step(&loss(&vs, &x, &y));
            }
            weights(&vs)
        };
        assert_eq!(run(true), run(false));
        // Restarted moments (the old behaviour) give other weights.
        let (vs, x, y) = problem(3);
        let mut fresh = Optimizer::new(Rule::of(OptimiserKind::Adam), &vs, 1e-2);
        for k in 0..10 {
            if k == 5 {
                fresh = Optimizer::new(Rule::of(OptimiserKind::Adam), &vs, 1e-2);
            }
            fresh.backward_step(&loss(&vs, &x, &y));
        }
        assert_ne!(weights(&vs), run(false));
        // Adam's state does not load into RMSprop (another set of slots).
        let mut other = Optimizer::new(Rule::of(OptimiserKind::Rmsprop), &vs, 1e-2);
        let e = other.load(&file).unwrap_err().to_string();
        assert!(e.contains("not this run's optimiser state"), "{e}");
        assert!(!e.contains('\n'));
    }
}
