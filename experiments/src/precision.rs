//! Mixed-precision training (`--precision fp32|bf16|fp16`), by hand: tch 0.24's `autocast` is
//! CUDA-only and fp16-only, so the network casts for itself.
//!
//! What each precision computes in:
//! - Master weights: always `f32`. The VarStore, the gradients and Adam's moments are `f32`
//!   and Adam updates `f32` weights, so small updates are not lost to a short significand.
//! - Forward and backward of the network: in the compute kind ([`kind`]). [`crate::unet::UNet`]
//!   casts its input to that kind and every layer casts its `f32` weights to the kind of its
//!   input ([`cast_like`]) inside the autograd graph, so convolutions, instance norms,
//!   activations and their gradients with respect to activations are `bf16` / `fp16` tensors,
//!   and the cast's backward turns each weight gradient back into `f32`. The network's output
//!   is cast back to `f32`.
//! - Loss and everything around the network (the denoiser's standardisation and residual, the
//!   metrics): `f32` (metrics in `f64`).
//! - fp16 only: a dynamic loss scale ([`LossScaler`], PyTorch's `GradScaler`) so that small
//!   activation gradients do not underflow half precision (smallest normal 6.1e-5, subnormal
//!   6e-8). bf16 has `f32`'s exponent range and needs none.
//!
//! Validation and test predictions run the network in the same precision as training (the
//! model is judged as it would be deployed). A fp16 run's loss scale is not checkpointed: a
//! resumed run starts again from [`ScalerConfig::init_scale`] (as Adam's moments restart).

use tch::nn;
use tch::{Device, Kind, Tensor};

pub use plateau_run::settings::Precision;

/// The tensor kind a precision's network computes in.
pub fn kind(precision: Precision) -> Kind {
    match precision {
        Precision::Fp32 => Kind::Float,
        Precision::Bf16 => Kind::BFloat16,
        Precision::Fp16 => Kind::Half,
    }
}

/// `t` as a tensor of `kind`: `t` itself (no copy, no graph node) when it already is, else a
/// differentiable cast (its gradient is cast back to `t`'s kind).
pub fn cast(t: &Tensor, kind: Kind) -> Tensor {
    if t.kind() == kind {
        t.shallow_clone()
    } else {
        t.to_kind(kind)
    }
}

/// A layer's parameter cast to the kind of the layer's `input` (see [`cast`]): a layer fed a
/// bf16 tensor computes in bf16 while its weight stays `f32`.
pub fn cast_like(param: &Tensor, input: &Tensor) -> Tensor {
    cast(param, input.kind())
}

/// The dynamic loss scale's settings; the default is PyTorch's `torch.amp.GradScaler`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScalerConfig {
    /// Scale of the first step.
    pub init_scale: f64,
    /// Factor applied after `growth_interval` consecutive steps with finite gradients (> 1).
    pub growth_factor: f64,
    /// Factor applied after a step with an infinite or NaN gradient (in `(0, 1)`).
    pub backoff_factor: f64,
    /// Consecutive good steps before the scale grows.
    pub growth_interval: i64,
}

impl Default for ScalerConfig {
    fn default() -> Self {
        Self {
            init_scale: 65536.0,
            growth_factor: 2.0,
            backoff_factor: 0.5,
            growth_interval: 2000,
        }
    }
}

/// A dynamic loss scale with PyTorch `GradScaler` semantics, on LibTorch's own kernels
/// (`_amp_non_finite_check_and_unscale_`, `_amp_update_scale_`, on CPU and CUDA):
///
/// 1. backward of `scale * loss` (gradients are `scale` times too large, so small ones survive
///    half precision);
/// 2. every gradient divided by `scale`, noting whether any element is infinite or NaN;
/// 3. such a step is skipped (the caller does not call the optimiser) and the scale is
///    multiplied by `backoff_factor`; otherwise, after `growth_interval` consecutive good steps,
///    by `growth_factor`.
///
/// The scale, the growth tracker and the flag are one-element tensors on the parameters'
/// device; [`LossScaler::backward`] reads the flag back once per step (a device sync).
#[derive(Debug)]
pub struct LossScaler {
    params: Vec<Tensor>,
    config: ScalerConfig,
    /// `[1]` f32: the current scale.
    scale: Tensor,
    /// `[1]` i32: consecutive good steps since the last change of scale.
    growth_tracker: Tensor,
    /// `[1]` f32: 1 when the last step found a non-finite gradient.
    found_inf: Tensor,
}

impl LossScaler {
    /// A scaler for the gradients of `params` (all on `device`).
    ///
    /// # Panics
    /// When the factors or the interval are out of range (a programming error).
    pub fn new(params: Vec<Tensor>, config: ScalerConfig, device: Device) -> Self {
        assert!(
            config.init_scale > 0.0
                && config.growth_factor > 1.0
                && config.backoff_factor > 0.0
                && config.backoff_factor < 1.0
                && config.growth_interval >= 1,
            "invalid loss-scaler settings {config:?}"
        );
        let scalar = |v: f64, k: Kind| Tensor::full([1], v, (k, device));
        Self {
            params,
            config,
            scale: scalar(config.init_scale, Kind::Float),
            growth_tracker: scalar(0.0, Kind::Int),
            found_inf: scalar(0.0, Kind::Float),
        }
    }

    /// The current scale.
    pub fn scale(&self) -> f64 {
        self.scale.double_value(&[0])
    }

    /// Backward of the scaled `loss` (a one-element `f32` tensor), then unscaling of the
    /// gradients and the update of the scale. Returns whether the gradients are finite, i.e.
    /// whether the caller should apply the optimiser step. Gradients accumulate as in
    /// `Tensor::backward`: zero them before.
    pub fn backward(&mut self, loss: &Tensor) -> bool {
        (loss * &self.scale).backward();
        self.unscale_and_update()
    }

    /// Steps 2 and 3 of the type's description, on the gradients as they are.
    fn unscale_and_update(&mut self) -> bool {
        let _ = self.found_inf.zero_();
        let inv_scale = self.scale.reciprocal();
        for p in &self.params {
            let mut grad = p.grad();
            if grad.defined() {
                grad.internal_amp_non_finite_check_and_unscale(&mut self.found_inf, &inv_scale);
            }
        }
        let finite = self.found_inf.double_value(&[0]) == 0.0;
        let _ = self.scale.internal_amp_update_scale_(
            &self.growth_tracker,
            &self.found_inf,
            self.config.growth_factor,
            self.config.backoff_factor,
            self.config.growth_interval,
        );
        finite
    }
}

/// A [`LossScaler`]'s state between steps, saved with a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScalerState {
    /// The current scale (an `f32`, exact in `f64`).
    pub scale: f64,
    /// Consecutive good steps since the last change of scale.
    pub growth_tracker: i64,
}

impl LossScaler {
    /// The state to save.
    pub fn state(&self) -> ScalerState {
        ScalerState {
            scale: self.scale(),
            growth_tracker: self.growth_tracker.int64_value(&[0]),
        }
    }

    /// Continues from a saved state.
    pub fn restore(&mut self, state: ScalerState) {
        let _ = self.scale.fill_(state.scale);
        let _ = self.growth_tracker.fill_(state.growth_tracker);
    }
}

/// How a precision turns the loss into `f32` gradients of the master weights.
#[derive(Debug)]
pub enum Backward {
    /// Plain backward (fp32, bf16).
    Plain,
    /// Backward through a dynamic loss scale (fp16).
    Scaled(LossScaler),
}

impl Backward {
    /// The backward of `precision` for the trainable variables of `vs` (a scaler with PyTorch's
    /// defaults for fp16).
    pub fn new(precision: Precision, vs: &nn::VarStore) -> Self {
        match precision {
            Precision::Fp32 | Precision::Bf16 => Backward::Plain,
            Precision::Fp16 => Backward::Scaled(LossScaler::new(
                vs.trainable_variables(),
                ScalerConfig::default(),
                vs.device(),
            )),
        }
    }

    /// Accumulates the gradients of `loss` into the variables' `f32` gradients; returns whether
    /// the optimiser should step (false: a fp16 step whose gradients overflowed, skipped).
    pub fn run(&mut self, loss: &Tensor) -> bool {
        match self {
            Backward::Plain => {
                loss.backward();
                true
            }
            Backward::Scaled(scaler) => scaler.backward(loss),
        }
    }

    /// The loss scale to save with a checkpoint (`None` without one).
    pub fn saved(&self) -> Option<ScalerState> {
        match self {
            Backward::Plain => None,
            Backward::Scaled(scaler) => Some(scaler.state()),
        }
    }

    /// Continues from a checkpoint's loss scale.
    ///
    /// # Errors
    /// A fp16 run resumed from a checkpoint without a loss scale (one line).
    pub fn restore(&mut self, saved: Option<&ScalerState>) -> anyhow::Result<()> {
        match (self, saved) {
            (Backward::Plain, _) => Ok(()),
            (Backward::Scaled(scaler), Some(state)) => {
                scaler.restore(*state);
                Ok(())
            }
            (Backward::Scaled(_), None) => anyhow::bail!(
                "cannot resume: the checkpoint holds no fp16 loss scale; start the run again in a \
                 new folder"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(v: &[f32]) -> Tensor {
        Tensor::from_slice(v).set_requires_grad(true)
    }

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t).unwrap()
    }

    fn scaler(params: &[&Tensor], growth_interval: i64) -> LossScaler {
        let config = ScalerConfig {
            init_scale: 1024.0,
            growth_interval,
            ..ScalerConfig::default()
        };
        let params = params.iter().map(|p| p.shallow_clone()).collect();
        LossScaler::new(params, config, Device::Cpu)
    }

    #[test]
    fn a_cast_is_differentiable_and_keeps_the_gradient_in_f32() {
        let w = cpu(&[1.0, 2.0, 3.0]);
        let x = Tensor::from_slice(&[0.5f32, 0.25, 0.125]).to_kind(Kind::BFloat16);
        let y = (cast_like(&w, &x) * &x).sum(Kind::Float);
        assert_eq!(cast_like(&w, &x).kind(), Kind::BFloat16);
        y.backward();
        assert_eq!(w.grad().kind(), Kind::Float);
        assert_eq!(values(&w.grad()), vec![0.5, 0.25, 0.125]);
        // Same kind: the tensor itself, no copy.
        assert_eq!(cast(&w, Kind::Float).data_ptr(), w.data_ptr());
    }

    #[test]
    fn finite_gradients_are_unscaled_and_the_step_is_taken() {
        let w = cpu(&[1.0, -2.0]);
        let mut s = scaler(&[&w], 3);
        let loss = (&w * Tensor::from_slice(&[3.0f32, 5.0])).sum(Kind::Float);
        assert!(s.backward(&loss));
        // d(scale * loss)/dw = scale * (3, 5), unscaled back to (3, 5) exactly (powers of 2).
        assert_eq!(values(&w.grad()), vec![3.0, 5.0]);
        assert_eq!(s.scale(), 1024.0);
    }

    #[test]
    fn an_infinite_or_nan_gradient_skips_the_step_and_halves_the_scale() {
        for bad in [f32::INFINITY, f32::NAN] {
            let (w, v) = (cpu(&[1.0, 1.0]), cpu(&[1.0]));
            let mut s = scaler(&[&w, &v], 3);
            let loss =
                (&w * Tensor::from_slice(&[1.0f32, bad])).sum(Kind::Float) + v.sum(Kind::Float);
            assert!(!s.backward(&loss), "{bad}");
            assert_eq!(s.scale(), 512.0, "{bad}");
            // The other parameters' gradients are still unscaled.
            assert_eq!(values(&v.grad()), vec![1.0]);
        }
    }

    #[test]
    fn the_scale_grows_after_growth_interval_good_steps_and_an_overflow_resets_the_count() {
        let w = cpu(&[1.0]);
        let mut s = scaler(&[&w], 3);
        let mut step = |g: f32| {
            let mut grad = w.grad();
            if grad.defined() {
                let _ = grad.zero_();
            }
            let ok = s.backward(&(&w * f64::from(g)).sum(Kind::Float));
            (ok, s.scale())
        };
        // Two good steps: unchanged; the third: doubled.
        assert_eq!(step(1.0), (true, 1024.0));
        assert_eq!(step(1.0), (true, 1024.0));
        assert_eq!(step(1.0), (true, 2048.0));
        // Two good, one overflow (halved), then three good ones to grow again.
        assert_eq!(step(1.0), (true, 2048.0));
        assert_eq!(step(1.0), (true, 2048.0));
        assert_eq!(step(f32::INFINITY), (false, 1024.0));
        assert_eq!(step(1.0), (true, 1024.0));
        assert_eq!(step(1.0), (true, 1024.0));
        assert_eq!(step(1.0), (true, 2048.0));
    }

    #[test]
    fn a_restored_scaler_continues_as_the_saved_one() {
        let w = cpu(&[1.0]);
        let good = |s: &mut LossScaler| {
            let mut grad = w.grad();
            if grad.defined() {
                let _ = grad.zero_();
            }
            assert!(s.backward(&w.sum(Kind::Float)));
            s.state()
        };
        // Two good steps into an interval of 3: a fresh scaler would need three more to grow.
        let mut a = scaler(&[&w], 3);
        good(&mut a);
        let saved = good(&mut a);
        assert_eq!(
            saved,
            ScalerState {
                scale: 1024.0,
                growth_tracker: 2
            }
        );
        let mut b = scaler(&[&w], 3);
        b.restore(saved);
        assert_eq!(good(&mut b), good(&mut a));
        assert_eq!(b.scale(), 2048.0);
        // Through `Backward`: a fp16 resume needs the saved scale.
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = vs.root().zeros("w", &[1]);
        let mut backward = Backward::new(Precision::Fp16, &vs);
        assert!(backward.restore(None).is_err());
        backward.restore(Some(&saved)).unwrap();
        assert_eq!(backward.saved(), Some(saved));
        assert_eq!(Backward::new(Precision::Fp32, &vs).saved(), None);
    }

    #[test]
    fn scaling_rescues_gradients_that_underflow_half_precision() {
        // A gradient of 2^-26 (below fp16's smallest subnormal, 2^-24) flowing through a
        // half-precision activation: lost without scaling, kept with a scale of 2^16.
        let grad_of = |scale: Option<f64>| {
            let w = cpu(&[1.0]);
            let h = cast(&w, Kind::Half);
            let loss = (cast(&h, Kind::Float) * 2f64.powi(-26)).sum(Kind::Float);
            match scale {
                None => loss.backward(),
                Some(init_scale) => {
                    let config = ScalerConfig {
                        init_scale,
                        ..ScalerConfig::default()
                    };
                    let mut s = LossScaler::new(vec![w.shallow_clone()], config, Device::Cpu);
                    assert!(s.backward(&loss));
                }
            }
            values(&w.grad())[0]
        };
        assert_eq!(grad_of(None), 0.0);
        assert_eq!(grad_of(Some(65536.0)), 2f32.powi(-26));
    }

    #[test]
    fn only_fp16_scales_the_loss() {
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = vs.root().zeros("w", &[2]);
        for (p, scaled) in [
            (Precision::Fp32, false),
            (Precision::Bf16, false),
            (Precision::Fp16, true),
        ] {
            let b = Backward::new(p, &vs);
            assert_eq!(matches!(b, Backward::Scaled(_)), scaled, "{p:?}");
        }
        assert_eq!(kind(Precision::Bf16), Kind::BFloat16);
        assert_eq!(kind(Precision::Fp16), Kind::Half);
    }
}
