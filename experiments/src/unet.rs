//! The fastMRI U-Net (Ronneberger et al., as in `fastmri.models.Unet`) in `tch::nn`.
//!
//! Shapes: input and output `[B, K, H, W]` with `K` image channels (1 for grey images, 3 for
//! `--color rgb`, as the paper's colour denoiser) and `H`, `W` divisible by `2^pools`.
//!
//! - `ConvBlock(i, o)`: conv 3x3 (pad 1, no bias) -> instance norm (no affine) ->
//!   LeakyReLU(0.2), twice.
//! - Down path: `ConvBlock(K, C)`, then `pools - 1` blocks doubling the width, each followed by
//!   a 2x2 max-pool; bottleneck `ConvBlock(C 2^(pools-1), C 2^pools)`.
//! - Up path, per level: transposed conv 2x2 stride 2 (no bias) -> instance norm -> LeakyReLU,
//!   concatenation with the skip, `ConvBlock(2c, c)`; a final 1x1 conv (with bias) to `K`
//!   channels.
//!
//! Parameters ([`parameter_count_closed_form`]): only the first conv (`9 K C`) and the last
//! (`K C + K`) depend on `K`, so a colour net has `2 (10 C + 1)` more than a grey one.
//!
//! MRI's complex input ([`UNet::with_io`]) has `K_in = 2K` or `2K + 1` input channels (real and
//! imaginary parts of the zero-filled image, then the mask) and `K` output channels; the first
//! conv is then `9 K_in C` and [`UNet::denoise`] normalises the real and imaginary parts by one
//! shared standard deviation (see there).
//!
//! [`UNet::denoise`] wraps it as fastMRI's `NormUnet` does: each channel of each image is
//! standardised by its own mean and standard deviation before the network and de-standardised after; the output is
//! added to the input (residual learning), and the final 1x1 convolution starts at zero. Without this,
//! bias-free convolutions followed by instance norm make the network exactly invariant to the
//! input's scale, and no scale-equivariant estimator (such as the Wiener filter) could be
//! represented.
//!
//! Precision ([`UNet::in_precision`], see [`crate::precision`]): the weights are `f32`; the
//! layers compute in the kind of their input, casting their weights to it, and [`UNet::forward`]
//! casts its input to the network's compute kind and its output back to `f32`.

use tch::nn;
use tch::{Kind, Tensor};

use crate::precision::{self, cast, cast_like, Precision};

/// Slope of the LeakyReLU for negative inputs.
pub const LEAKY_SLOPE: f64 = 0.2;

pub use plateau_run::settings::UNetShape as UNetConfig;

struct ConvBlock {
    c1: nn::Conv2D,
    c2: nn::Conv2D,
}

fn conv3(p: nn::Path, i: i64, o: i64) -> nn::Conv2D {
    let cfg = nn::ConvConfig {
        padding: 1,
        bias: false,
        ..Default::default()
    };
    nn::conv2d(p, i, o, 3, cfg)
}

/// The 3x3 convolution of `layer` (stride 1, padding 1, no bias) in the kind of `x`.
fn conv3_forward(layer: &nn::Conv2D, x: &Tensor) -> Tensor {
    x.conv2d(
        &cast_like(&layer.ws, x),
        None::<Tensor>,
        [1, 1],
        [1, 1],
        [1, 1],
        1,
    )
}

/// LeakyReLU with slope [`LEAKY_SLOPE`] in one kernel each way.
///
/// tch 0.24 exposes `leaky_relu` only with PyTorch's default slope 0.01, and `prelu` costs a
/// second, weight-gradient pass in backward (about 2x the time). `leaky_relu_backward(g, x, a)`
/// computes `g * (x > 0 ? 1 : a)`; with `g = x` it is the forward `lrelu_a(x)`. Its derivative
/// with respect to `g` is again `lrelu_backward(grad, x, a) = grad * (x > 0 ? 1 : a)`, the
/// exact LeakyReLU gradient, and `x` is detached so no (zero) gradient flows through it.
pub fn leaky_relu(x: &Tensor) -> Tensor {
    x.detach().leaky_relu_backward(x, LEAKY_SLOPE, false)
}

/// Instance norm without affine parameters (eps 1e-5), then LeakyReLU(0.2).
fn norm_act(x: &Tensor) -> Tensor {
    leaky_relu(&x.instance_norm::<Tensor>(None, None, None, None, true, 0.1, 1e-5, false))
}

impl ConvBlock {
    fn new(p: nn::Path, i: i64, o: i64) -> Self {
        Self {
            c1: conv3(&p / "conv1", i, o),
            c2: conv3(&p / "conv2", o, o),
        }
    }
    fn forward(&self, x: &Tensor) -> Tensor {
        let h = norm_act(&conv3_forward(&self.c1, x));
        norm_act(&conv3_forward(&self.c2, &h))
    }
}

/// A fastMRI U-Net with `K` input and `K` output channels.
pub struct UNet {
    down: Vec<ConvBlock>,
    bottom: ConvBlock,
    up_transpose: Vec<nn::ConvTranspose2D>,
    up: Vec<ConvBlock>,
    last: nn::Conv2D,
    /// The kind the layers compute in.
    compute: Kind,
    /// Input channels `K_in`.
    k_in: i64,
    /// Output channels `K`.
    k_out: i64,
}

impl UNet {
    /// Creates a single-channel network's variables under `p` (default Kaiming-uniform
    /// initialisation of `tch::nn`).
    pub fn new(p: &nn::Path, cfg: UNetConfig) -> Self {
        Self::with_channels(p, cfg, 1)
    }

    /// Creates a network of `image_channels` (`K >= 1`) input and output channels under `p`.
    pub fn with_channels(p: &nn::Path, cfg: UNetConfig, image_channels: i64) -> Self {
        Self::with_io(p, cfg, image_channels, image_channels)
    }

    /// Creates a network of `k_in` input and `image_channels` (`K`) output channels under `p`:
    /// `k_in = K` (the image), or `2K` / `2K + 1` (MRI's complex input: real parts, imaginary
    /// parts, then the mask).
    pub fn with_io(p: &nn::Path, cfg: UNetConfig, k_in: i64, image_channels: i64) -> Self {
        assert!(
            image_channels >= 1 && (k_in == image_channels || k_in >= 2 * image_channels),
            "a U-Net needs at least one image channel, and K or at least 2K input channels"
        );
        let c = cfg.channels;
        let mut down = vec![ConvBlock::new(p / "down0", k_in, c)];
        let mut ch = c;
        for i in 1..cfg.pools {
            down.push(ConvBlock::new(p / format!("down{i}"), ch, ch * 2));
            ch *= 2;
        }
        let bottom = ConvBlock::new(p / "bottom", ch, ch * 2);
        let (mut up_transpose, mut up) = (Vec::new(), Vec::new());
        let tcfg = nn::ConvTransposeConfig {
            stride: 2,
            bias: false,
            ..Default::default()
        };
        for i in 0..cfg.pools {
            up_transpose.push(nn::conv_transpose2d(
                p / format!("upt{i}"),
                ch * 2,
                ch,
                2,
                tcfg,
            ));
            up.push(ConvBlock::new(p / format!("up{i}"), ch * 2, ch));
            if i + 1 < cfg.pools {
                ch /= 2;
            }
        }
        // Zero-initialised so that `denoise` starts as the identity (see there).
        let last_cfg = nn::ConvConfig {
            ws_init: nn::Init::Const(0.0),
            ..Default::default()
        };
        let last = nn::conv2d(p / "last", ch, image_channels, 1, last_cfg);
        Self {
            down,
            bottom,
            up_transpose,
            up,
            last,
            compute: Kind::Float,
            k_in,
            k_out: image_channels,
        }
    }

    /// The same network computing in `precision` (its weights stay `f32`).
    pub fn in_precision(self, precision: Precision) -> Self {
        Self {
            compute: precision::kind(precision),
            ..self
        }
    }

    /// The kind the layers compute in (`Float`, `BFloat16` or `Half`).
    pub fn compute_kind(&self) -> Kind {
        self.compute
    }

    /// The raw network `[B, K, H, W] -> [B, K, H, W]`, `f32` in and out; in between, in the
    /// compute kind.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        cast(&self.layers(&cast(x, self.compute)), Kind::Float)
    }

    /// The layers on `x` as it is: every layer computes in `x`'s kind (a floating kind), and so
    /// does the output.
    pub fn layers(&self, x: &Tensor) -> Tensor {
        let mut stack = Vec::with_capacity(self.down.len());
        let mut h = x.shallow_clone();
        for block in &self.down {
            h = block.forward(&h);
            let pooled = h.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
            stack.push(h);
            h = pooled;
        }
        h = self.bottom.forward(&h);
        for (t, block) in self.up_transpose.iter().zip(&self.up) {
            let skip = stack.pop().expect("one skip per level");
            let up = h.conv_transpose2d(
                &cast_like(&t.ws, &h),
                None::<Tensor>,
                [2, 2],
                [0, 0],
                [0, 0],
                1,
                [1, 1],
            );
            h = block.forward(&Tensor::cat(&[norm_act(&up), skip], 1));
        }
        let bias = self.last.bs.as_ref().map(|b| cast_like(b, &h));
        h.conv2d(
            &cast_like(&self.last.ws, &h),
            bias,
            [1, 1],
            [0, 0],
            [1, 1],
            1,
        )
    }

    /// The denoiser `x_hat = y + s * unet((y - m) / s)` with `m`, `s` the mean and standard
    /// deviation of each channel of each noisy image (`[B, K, 1, 1]`, `s` floored at 1e-6, as
    /// fastMRI's `NormUnet` per channel): scale-equivariant, and residual (the network predicts
    /// the negative noise, as in DnCNN). With the zero-initialised output layer, training
    /// starts from the identity `x_hat = y`, i.e. from the input's MSE.
    ///
    /// With complex input (`K_in > K`), `y = [Re z, Im z, mask]`: each of the `2K` complex
    /// channels is centred by its own mean, but both are divided by one standard deviation `s`
    /// (over the `2K` channels of the image), so the ratio of real to imaginary part, which the
    /// Bayes estimator uses, survives; the mask channels pass unchanged. The output is
    /// `Re z + s * unet(...)`: still scale-equivariant, still the baseline `Re z` at the start.
    pub fn denoise(&self, y: &Tensor) -> Tensor {
        if self.k_in == self.k_out {
            let (std, mean) = y.std_mean_dim([2i64, 3].as_slice(), true, true);
            let std = std.clamp_min(1e-6);
            return self.forward(&((y - &mean) / &std)) * &std + y;
        }
        let k = self.k_out;
        let z = y.narrow(1, 0, 2 * k);
        let mean = z.mean_dim([2i64, 3].as_slice(), true, Kind::Float);
        let centred = &z - &mean;
        let std = centred
            .square()
            .mean_dim([1i64, 2, 3].as_slice(), true, Kind::Float)
            .sqrt()
            .clamp_min(1e-6);
        let mut parts = vec![centred / &std];
        if self.k_in > 2 * k {
            parts.push(y.narrow(1, 2 * k, self.k_in - 2 * k));
        }
        self.forward(&Tensor::cat(&parts, 1)) * &std + y.narrow(1, 0, k)
    }
}

/// Number of scalar parameters in a VarStore.
pub fn parameter_count(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

/// The parameter count of a U-Net of shape `cfg` with `image_channels` input and output channels
/// (`K`), in closed form ([`plateau_run::budget::unet_parameters`], where the formula is
/// derived; the memory estimate uses the same copy). `O(P)`.
///
/// # Panics
/// When the count does not fit `i64` (no such network can be allocated).
pub fn parameter_count_closed_form(cfg: UNetConfig, image_channels: i64) -> i64 {
    let k = u64::try_from(image_channels).expect("image channels are positive");
    plateau_run::budget::unet_parameters(cfg, k)
        .and_then(|p| i64::try_from(p).ok())
        .expect("a parameter count that fits i64")
}

/// `f32` zeros of shape `[batch, 1, side, side]`, for shape checks.
pub fn zeros_image(batch: i64, side: i64, device: tch::Device) -> Tensor {
    Tensor::zeros([batch, 1, side, side], (Kind::Float, device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn shapes_and_parameter_count_match_fastmri() {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = UNet::new(
            &vs.root(),
            UNetConfig {
                channels: 4,
                pools: 2,
            },
        );
        let out = net.forward(&zeros_image(2, 16, Device::Cpu));
        assert_eq!(out.size(), vec![2, 1, 16, 16]);
        // fastmri.models.Unet(1, 1, chans=4, num_pool_layers=2, drop_prob=0):
        // down 1->4: 9*4 + 9*16 = 180; 4->8: 9*32 + 9*64 = 864; bottom 8->16: 9*128 + 9*256 = 3456
        // upT 16->8: 4*128 = 512; up 16->8: 9*128 + 9*64 = 1728; upT 8->4: 4*32 = 128;
        // up 8->4: 9*32 + 9*16 = 432; last 4->1: 4 + 1 = 5. Total 7305.
        assert_eq!(parameter_count(&vs), 7305);
        assert_eq!(parameter_count_closed_form(net_shape(4, 2), 1), 7305);
    }

    fn net_shape(channels: i64, pools: usize) -> UNetConfig {
        UNetConfig { channels, pools }
    }

    #[test]
    fn a_colour_net_maps_three_channels_and_starts_as_the_identity() {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = UNet::with_channels(&vs.root(), net_shape(4, 2), 3);
        let y = Tensor::randn([2, 3, 16, 16], (Kind::Float, Device::Cpu));
        assert_eq!(net.forward(&y).size(), vec![2, 3, 16, 16]);
        let out = net.denoise(&y);
        assert!((out - &y).abs().max().double_value(&[]) < 1e-6);
        // The first conv gains 9 C (K - 1) weights, the last C (K - 1) + (K - 1).
        assert_eq!(parameter_count(&vs), 7305 + 2 * (10 * 4 + 1));
    }

    #[test]
    fn colour_adds_the_first_and_last_convs_extra_weights() {
        let build = |k| {
            let vs = nn::VarStore::new(Device::Cpu);
            UNet::with_channels(&vs.root(), net_shape(2, 1), k);
            parameter_count(&vs)
        };
        // 3x3 first conv: 2 more input channels x 9 x C; 1x1 last conv: 2 more outputs x
        // (C + bias).
        assert_eq!(build(3) - build(1), 2 * (10 * 2 + 1));
    }

    #[test]
    fn validation_rejects_bad_sizes() {
        let cfg = UNetConfig {
            channels: 8,
            pools: 2,
        };
        assert!(cfg.validate(32).is_ok());
        assert!(cfg.validate(30).is_err());
        assert!(UNetConfig {
            channels: 0,
            pools: 2
        }
        .validate(32)
        .is_err());
    }

    /// The relative RMS difference between the network's output in `precision` and in fp32
    /// (same weights, a random output layer so the output depends on the rest), after checking
    /// that it computes in `kind` and that f32 gradients reach every f32 weight.
    fn rounding_error(precision: Precision, kind: Kind) -> f64 {
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let mut net = UNet::with_channels(&vs.root(), net_shape(8, 2), 1);
        let random = net.last.ws.randn_like();
        tch::no_grad(|| net.last.ws.copy_(&random));
        let y = Tensor::randn([4, 1, 16, 16], (Kind::Float, Device::Cpu));
        let reference = net.forward(&y);
        let net = net.in_precision(precision);
        assert_eq!(net.compute_kind(), kind);
        assert_eq!(net.layers(&y.to_kind(kind)).kind(), kind, "{precision:?}");
        let out = net.forward(&y);
        assert_eq!(out.kind(), Kind::Float, "{precision:?}");
        out.square().sum(Kind::Float).backward();
        for (name, w) in vs.variables() {
            let g = w.grad();
            assert_eq!((w.kind(), g.kind()), (Kind::Float, Kind::Float), "{name}");
            let norm = g.norm().double_value(&[]);
            assert!(
                norm.is_finite() && norm > 0.0,
                "{precision:?} {name}: {norm}"
            );
        }
        (&out - &reference).norm().double_value(&[]) / reference.norm().double_value(&[])
    }

    #[test]
    fn reduced_precision_computes_in_its_kind_and_differs_from_fp32_by_its_rounding() {
        // Unit roundoffs u: bf16 keeps 8 significand bits (2^-8), fp16 11 (2^-11). Every layer
        // rounds its output, so the output's relative error is a few u (measured: 4.1 u for
        // both, ~20 roundings of a 2-pool net); u / 8 .. 16 u rejects fp32 arithmetic (~1e-7)
        // and a broken cast (~1). Rounding errors scale with u, so bf16's error is about
        // 2^3 = 8 times fp16's (within a factor 2).
        let (bf16, fp16) = (
            rounding_error(Precision::Bf16, Kind::BFloat16),
            rounding_error(Precision::Fp16, Kind::Half),
        );
        for (err, u) in [(bf16, 2f64.powi(-8)), (fp16, 2f64.powi(-11))] {
            assert!(
                err > u / 8.0 && err < 16.0 * u,
                "error {err:.3e}, u {u:.3e}"
            );
        }
        assert!(
            (4.0..16.0).contains(&(bf16 / fp16)),
            "{bf16:.3e} / {fp16:.3e}"
        );
    }

    #[test]
    fn leaky_relu_has_slope_0_2_and_the_right_gradient() {
        let x = Tensor::from_slice(&[-1.0f32, 2.0, -3.0]).set_requires_grad(true);
        let y = leaky_relu(&x);
        assert_eq!(Vec::<f32>::try_from(&y).unwrap(), vec![-0.2, 2.0, -0.6]);
        (&y * Tensor::from_slice(&[1.0f32, 10.0, 100.0]))
            .sum(Kind::Float)
            .backward();
        assert_eq!(
            Vec::<f32>::try_from(x.grad()).unwrap(),
            vec![0.2, 10.0, 20.0]
        );
    }
}
