//! The learning problem of a run: the task (how a measurement is made from a clean image), the
//! data (which clean images) and the image size. Two runs with the same [`Problem`] learn the
//! same mapping; everything else (model, optimiser, data-set size, seed) is how they learn it.
//!
//! The types are plain data, validated on construction ([`Problem::new`]); the operators that
//! apply a task to image tensors live in `plateau-experiments` (LibTorch).
//!
//! In `metrics.json` a problem is written flat, with the keys of earlier versions: `task`,
//! `noise_std` (null unless denoising), `acceleration`, `center_fraction`, `mask` (MRI),
//! `scale`, `downsample` (SR), `data`, `subspace_dim` or `field_exponent`, `field_cutoff`,
//! `field_std` (synthetic data), `color` (real images) and `image_size`.

use std::fmt;
use std::path::PathBuf;

use anyhow::{ensure, Result};
use serde::{Deserialize, Serialize};

/// The low-resolution image of super-resolution.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Downsample {
    /// Means over scale x scale blocks (a linear operator: exact floors for synthetic data).
    #[default]
    Area,
    /// Antialiased bicubic, as PIL and MATLAB imresize (the usual SR benchmark degradation;
    /// real images only).
    Bicubic,
}

impl Downsample {
    /// `area` or `bicubic`.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// How the non-centre k-space columns of MRI are chosen: drawn per example (`random`,
/// `equispaced`), or once for the whole run (`fixed`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum MaskKind {
    /// fastMRI RandomMaskFunc: centre columns plus independent random columns, each with
    /// probability `(W / acc - num_low) / (W - num_low)`.
    #[default]
    Random,
    /// fastMRI equispaced mask: centre columns plus equally spaced columns (random offset).
    Equispaced,
    /// One RandomMaskFunc mask drawn once from the mask seed ([`MaskSeed`]) and shared by every
    /// example of every split: the Bayes estimator is then one fixed linear map, and the
    /// learned-linear theory of `theory/gaussian.md` applies (`theory/field.md`).
    Fixed,
}

impl MaskKind {
    /// `random`, `equispaced` or `fixed`.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// Where the seed of a `--mask fixed` mask comes from (`--mask-seed`): the run's `--seed`
/// (`run`, the default: each seed of a sweep is its own mask), or a given number (every run of
/// a curve shares one mask, whatever its seed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MaskSeed {
    /// The run's `--seed`.
    #[default]
    Run,
    /// This seed.
    Value(u64),
}

impl MaskSeed {
    /// The seed of the mask of a run with seed `run_seed`.
    pub fn resolve(&self, run_seed: u64) -> u64 {
        match *self {
            MaskSeed::Run => run_seed,
            MaskSeed::Value(v) => v,
        }
    }
}

impl fmt::Display for MaskSeed {
    /// `run` or the number (the flag's and the record's spelling).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaskSeed::Run => f.write_str("run"),
            MaskSeed::Value(v) => write!(f, "{v}"),
        }
    }
}

// By hand: `Value` carries the number (no derive spells `run` or an integer).
impl std::str::FromStr for MaskSeed {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "run" => Ok(MaskSeed::Run),
            _ => s.parse::<u64>().map(MaskSeed::Value).map_err(|_| {
                format!("unknown mask seed policy '{s}' (expected run or a non-negative integer)")
            }),
        }
    }
}

/// What the MRI network is given (`--mri-input`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum MriInput {
    /// The zero-filled image's real and imaginary parts as two channels and, when the mask
    /// varies per example, the mask (its columns broadcast over the rows) as a third: exactly
    /// the information of the Bayes estimator behind `floor_mse`.
    Complex,
    /// fastMRI's convention: the zero-filled image's magnitude only (the sign, the phase and the
    /// mask are lost, so `floor_mse` is only a lower bound). Records written before
    /// `--mri-input` existed are magnitude runs.
    #[default]
    Magnitude,
}

impl MriInput {
    /// `complex` or `magnitude`.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// Greyscale or colour for photographs.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Color {
    /// Luma (Rec. 709 weights).
    #[default]
    Gray,
    /// One network with 3 input and 3 output channels, as the paper's denoiser: an example is
    /// `[3, s, s]`, the noise or measurement is applied to each channel independently.
    Rgb,
    /// Each of the three channels reconstructed as a separate single-channel image (an
    /// example is `[1, s, s]`, a photograph gives three). Records written before `rgb` meant
    /// the joint network say `rgb` for this.
    RgbSplit,
}

impl Color {
    /// Colour planes decoded per photograph (1 or 3).
    pub fn planes(&self) -> usize {
        match self {
            Color::Gray => 1,
            Color::Rgb | Color::RgbSplit => 3,
        }
    }

    /// Channels of one example, i.e. of the network's input and output (1 or 3).
    pub fn image_channels(&self) -> usize {
        match self {
            Color::Gray | Color::RgbSplit => 1,
            Color::Rgb => 3,
        }
    }

    /// Examples per photograph (3 for `rgb-split`, else 1).
    pub fn examples_per_image(&self) -> usize {
        self.planes() / self.image_channels()
    }

    /// `gray`, `rgb` or `rgb-split`.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// A reconstruction task.
#[derive(Clone, Copy, Debug, PartialEq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Task {
    /// Additive white Gaussian noise of standard deviation `sigma` (pixel units).
    Denoise {
        /// Noise standard deviation.
        sigma: f64,
    },
    /// Accelerated single-coil MRI (noise-free Cartesian column undersampling).
    Mri {
        /// Acceleration factor (about `W / acceleration` columns are sampled).
        acceleration: usize,
        /// Fraction of fully sampled centre columns (`num_low = round(W * center_fraction)`).
        center_fraction: f64,
        /// Random, equispaced or fixed columns.
        mask: MaskKind,
        /// The seed of a fixed mask (ignored by the other kinds).
        mask_seed: MaskSeed,
        /// What the network is given.
        input: MriInput,
    },
    /// Super-resolution: downsampling by `scale`, bicubic upsampling.
    Sr {
        /// Downsampling factor (2 or 4).
        scale: usize,
        /// The downsampling kernel.
        downsample: Downsample,
    },
}

/// Number of fully sampled centre columns of a `width`-column k-space: fastMRI's
/// `round(width * center_fraction)`.
pub fn num_low(width: usize, center_fraction: f64) -> usize {
    (width as f64 * center_fraction).round() as usize
}

impl Task {
    /// Checks the parameters for `side x side` images.
    ///
    /// # Errors
    /// One line: `sigma` not finite and positive, acceleration below 1, a centre fraction outside
    /// `(0, 1)` or with more centre columns than `W / acceleration`, a scale that is not 2 or 4 or
    /// does not divide the side.
    pub fn validate(&self, side: usize) -> Result<()> {
        match *self {
            Task::Denoise { sigma } => ensure!(
                sigma.is_finite() && sigma > 0.0,
                "--noise-std must be finite and positive, got {sigma}"
            ),
            Task::Mri {
                acceleration,
                center_fraction,
                ..
            } => {
                ensure!(
                    acceleration >= 1,
                    "--acceleration must be at least 1, got {acceleration}"
                );
                ensure!(
                    center_fraction.is_finite() && center_fraction > 0.0 && center_fraction < 1.0,
                    "--center-fraction must be in (0, 1), got {center_fraction}"
                );
                let low = num_low(side, center_fraction);
                ensure!(
                    low >= 1 && low < side && low as f64 <= side as f64 / acceleration as f64,
                    "--center-fraction {center_fraction} gives {low} centre columns of {side}, \
                     not in 1..=W/acceleration = {:.1}",
                    side as f64 / acceleration as f64
                );
            }
            Task::Sr { scale, .. } => {
                ensure!(
                    scale == 2 || scale == 4,
                    "--scale must be 2 or 4, got {scale}"
                );
                ensure!(
                    side.is_multiple_of(scale) && side / scale >= 2,
                    "--image-size {side} must be a multiple of --scale {scale} (and at least 2x it)"
                );
            }
        }
        Ok(())
    }

    /// `denoise`, `mri` or `sr`.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// Name of the baseline that the network input (its first channels) is.
    pub fn baseline_name(&self) -> &'static str {
        match self {
            Task::Denoise { .. } => "noisy input",
            Task::Mri {
                input: MriInput::Complex,
                ..
            } => "zero-filled (real part)",
            Task::Mri { .. } => "zero-filled",
            Task::Sr { .. } => "bicubic",
        }
    }

    /// Channels of the network input for images of `image_channels` channels: `2K` (real and
    /// imaginary parts) for MRI's complex input, plus one mask channel when the mask varies per
    /// example; `K` otherwise.
    pub fn input_channels(&self, image_channels: usize) -> usize {
        match *self {
            Task::Mri {
                input: MriInput::Complex,
                mask,
                ..
            } => 2 * image_channels + usize::from(mask != MaskKind::Fixed),
            _ => image_channels,
        }
    }

    /// What the exact floor of this task assumes is known, and whether the network input holds
    /// exactly that (`metrics.json`: `floor_information`, `input_has_floor_information`).
    pub fn floor_information(&self) -> (&'static str, bool) {
        match *self {
            Task::Denoise { .. } => ("the noisy image", true),
            Task::Sr { .. } => ("the low-resolution image", true),
            Task::Mri { mask, input, .. } => (
                if mask == MaskKind::Fixed {
                    "the complex k-space samples of the one fixed mask"
                } else {
                    "the complex k-space samples and each example's mask"
                },
                input == MriInput::Complex,
            ),
        }
    }

    /// How `floor_mse` is to be named: the Bayes error when the network has the information the
    /// floor assumes, else a lower bound (MRI's magnitude input).
    pub fn floor_label(&self) -> &'static str {
        if self.floor_information().1 {
            FLOOR_LABEL
        } else {
            LOWER_BOUND_LABEL
        }
    }
}

/// [`Task::floor_label`] of a floor that binds.
pub const FLOOR_LABEL: &str = "Bayes error";
/// [`Task::floor_label`] of MRI's magnitude input: the floor assumes complex data.
pub const LOWER_BOUND_LABEL: &str =
    "Bayes error given complex data: a lower bound for magnitude input";

/// Synthetic images whose Bayes error floor is known exactly.
#[derive(Clone, Copy, Debug, PartialEq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Synthetic {
    /// The `dim` lowest 2-D DCT modes with standard normal coefficients (the paper's model as
    /// pictures).
    Subspace {
        /// Subspace dimension `d` (`1 <= d <= s^2`).
        dim: usize,
    },
    /// Stationary Gaussian field, spectrum `(cutoff^2 + |f|^2)^(-exponent/2)`, pixel std `std`.
    GaussianField {
        /// Power-law exponent (2 for `1/f^2`).
        exponent: f64,
        /// Low-frequency cutoff `f0` in cycles per pixel.
        cutoff: f64,
        /// Pixel standard deviation of the clean field.
        std: f64,
    },
}

impl Synthetic {
    /// `subspace` or `gaussian-field`.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// Checks the parameters for `side x side` images (through the theory's own constructors,
    /// so that what passes here is what the floor computation accepts).
    ///
    /// # Errors
    /// One line: `side < 2`, a subspace dimension outside `1..=side^2`, invalid field parameters.
    pub fn validate(&self, side: usize) -> Result<()> {
        ensure!(side >= 2, "image size must be at least 2, got {side}");
        // Saturating: an absurd side is refused by the memory estimate, not by an overflow.
        let n = side.saturating_mul(side);
        match *self {
            Synthetic::Subspace { dim } => ensure!(
                (1..=n).contains(&dim),
                "subspace dimension must be in 1..={n} for {side}x{side} images, got {dim}"
            ),
            Synthetic::GaussianField {
                exponent,
                cutoff,
                std,
            } => {
                ensure!(
                    std.is_finite() && std > 0.0,
                    "field std must be finite and positive, got {std}"
                );
                // The parameters only: building the spectrum here (`side^2` values, 3.2 GB and
                // 14 s at side 20000) came before the memory estimate could refuse the run.
                plateau_theory::field::FieldSpectrum::check(side, exponent, cutoff, std * std)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
        Ok(())
    }
}

/// Where real images come from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Every PNG / JPEG under a folder (recursively), one centre crop per file.
    Folder(PathBuf),
    /// The scikit-image sample photographs (`.deps/skimage-data`), random patches.
    Skimage,
    /// Random ellipse phantoms.
    Phantoms,
    /// fastMRI HDF5 volumes under a folder, one image per slice.
    FastMri(PathBuf),
}

impl Source {
    /// Colour planes decoded per image for `color` (3 for colour photographs).
    pub fn channels(&self, color: Color) -> usize {
        match self {
            Source::Folder(_) | Source::Skimage => color.planes(),
            Source::Phantoms | Source::FastMri(_) => 1,
        }
    }

    /// Whether `--color rgb` / `rgb-split` applies (photographs).
    pub fn has_color(&self) -> bool {
        matches!(self, Source::Folder(_) | Source::Skimage)
    }
}

impl fmt::Display for Source {
    /// The `--data` spelling: `folder:PATH`, `skimage`, `phantoms`, `fastmri:PATH`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Folder(p) => write!(f, "folder:{}", p.display()),
            Source::Skimage => f.write_str("skimage"),
            Source::Phantoms => f.write_str("phantoms"),
            Source::FastMri(p) => write!(f, "fastmri:{}", p.display()),
        }
    }
}

/// The `--data` value: synthetic images by kind (their parameters come from other flags), or a
/// real source.
#[derive(Clone, Debug, PartialEq)]
pub enum DataArg {
    /// `subspace`.
    Subspace,
    /// `gaussian-field`.
    GaussianField,
    /// `skimage`, `phantoms`, `folder:PATH`, `fastmri:PATH`.
    Real(Source),
}

impl DataArg {
    /// Whether the data are synthetic (exact floor).
    pub fn is_synthetic(&self) -> bool {
        !matches!(self, DataArg::Real(_))
    }
}

// By hand: `folder:` and `fastmri:` carry a path.
impl std::str::FromStr for DataArg {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let path = |p: &str, what: &str| {
            if p.is_empty() {
                Err(format!("--data {what}: needs a path, as in {what}:PATH"))
            } else {
                Ok(PathBuf::from(p))
            }
        };
        Ok(match s {
            "subspace" => DataArg::Subspace,
            "gaussian-field" => DataArg::GaussianField,
            "skimage" => DataArg::Real(Source::Skimage),
            "phantoms" => DataArg::Real(Source::Phantoms),
            _ => {
                if let Some(p) = s.strip_prefix("folder:") {
                    DataArg::Real(Source::Folder(path(p, "folder")?))
                } else if let Some(p) = s.strip_prefix("fastmri:") {
                    DataArg::Real(Source::FastMri(path(p, "fastmri")?))
                } else {
                    return Err(format!(
                        "unknown data '{s}' (expected subspace, gaussian-field, skimage, phantoms, \
                         folder:PATH or fastmri:PATH)"
                    ));
                }
            }
        })
    }
}

/// Which clean images.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// Synthetic images with an exact floor.
    Synthetic(Synthetic),
    /// Real images.
    Real {
        /// Where they come from.
        source: Source,
        /// Grey or colour (photographs; gray for the others).
        color: Color,
    },
}

impl Data {
    /// The `--data` spelling (`subspace`, `gaussian-field`, `skimage`, `folder:PATH`, ...).
    pub fn name(&self) -> String {
        match self {
            Data::Synthetic(s) => s.name().to_string(),
            Data::Real { source, .. } => source.to_string(),
        }
    }

    /// PSNR / SSIM data range: `None` (each clean image's `max - min`) for the signed synthetic
    /// images, 1 for real images in `[0, 1]` (a flat patch would otherwise have range 0).
    pub fn psnr_range(&self) -> Option<f64> {
        match self {
            Data::Synthetic(_) => None,
            Data::Real { .. } => Some(1.0),
        }
    }
}

/// A validated learning problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "ProblemWire", try_from = "ProblemWire")]
pub struct Problem {
    task: Task,
    data: Data,
    image_size: usize,
}

impl Problem {
    /// Checks the task and data for `image_size x image_size` images and their combination.
    ///
    /// # Errors
    /// One line naming the flag at fault.
    pub fn new(task: Task, data: Data, image_size: usize) -> Result<Problem> {
        ensure!(
            image_size >= 7,
            "--image-size must be at least 7 (the SSIM window), got {image_size}"
        );
        task.validate(image_size)?;
        match &data {
            Data::Synthetic(s) => {
                s.validate(image_size)?;
                ensure!(
                    !matches!(
                        task,
                        Task::Sr {
                            downsample: Downsample::Bicubic,
                            ..
                        }
                    ),
                    "--downsample bicubic is for real images: synthetic data has an exact \
                     floor_mse only for --downsample area"
                );
            }
            Data::Real { source, color } => ensure!(
                *color == Color::Gray || source.has_color(),
                "--color {} applies to photographs (folder:PATH, skimage) only",
                color.name()
            ),
        }
        Ok(Problem {
            task,
            data,
            image_size,
        })
    }

    /// The task.
    pub fn task(&self) -> Task {
        self.task
    }

    /// The data.
    pub fn data(&self) -> &Data {
        &self.data
    }

    /// Image side `s` (pixels).
    pub fn image_size(&self) -> usize {
        self.image_size
    }

    /// Channels of one example, the network's input and output channels: 3 for `--color rgb`,
    /// else 1.
    pub fn image_channels(&self) -> usize {
        match &self.data {
            Data::Real { color, .. } => color.image_channels(),
            Data::Synthetic(_) => 1,
        }
    }

    /// Channels of the network input ([`Task::input_channels`]): more than
    /// [`Problem::image_channels`] for MRI's complex input.
    pub fn input_channels(&self) -> usize {
        self.task.input_channels(self.image_channels())
    }

    /// The synthetic data's kind, `None` for real images.
    pub fn synthetic(&self) -> Option<Synthetic> {
        match self.data {
            Data::Synthetic(s) => Some(s),
            Data::Real { .. } => None,
        }
    }
}

/// The flat form of a [`Problem`] in `metrics.json` (the keys of earlier versions).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct ProblemWire {
    task: String,
    #[serde(default)]
    noise_std: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acceleration: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    center_fraction: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mask: Option<MaskKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mask_seed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mri_input: Option<MriInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scale: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    downsample: Option<Downsample>,
    data: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subspace_dim: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field_exponent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field_cutoff: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field_std: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    color: Option<Color>,
    image_size: usize,
}

impl From<Problem> for ProblemWire {
    fn from(p: Problem) -> ProblemWire {
        let mut w = ProblemWire {
            task: p.task.name().into(),
            data: p.data.name(),
            image_size: p.image_size,
            ..ProblemWire::default()
        };
        match p.task {
            Task::Denoise { sigma } => w.noise_std = Some(sigma),
            Task::Mri {
                acceleration,
                center_fraction,
                mask,
                mask_seed,
                input,
            } => {
                w.acceleration = Some(acceleration);
                w.center_fraction = Some(center_fraction);
                w.mask = Some(mask);
                w.mask_seed = (mask == MaskKind::Fixed).then(|| mask_seed.to_string());
                w.mri_input = Some(input);
            }
            Task::Sr { scale, downsample } => {
                w.scale = Some(scale);
                w.downsample = Some(downsample);
            }
        }
        match p.data {
            Data::Synthetic(Synthetic::Subspace { dim }) => w.subspace_dim = Some(dim),
            Data::Synthetic(Synthetic::GaussianField {
                exponent,
                cutoff,
                std,
            }) => {
                w.field_exponent = Some(exponent);
                w.field_cutoff = Some(cutoff);
                w.field_std = Some(std);
            }
            Data::Real { color, .. } => w.color = Some(color),
        }
        w
    }
}

impl TryFrom<ProblemWire> for Problem {
    type Error = String;

    fn try_from(w: ProblemWire) -> std::result::Result<Problem, String> {
        let need = |v: Option<f64>, k: &str| v.ok_or_else(|| format!("the record lacks '{k}'"));
        let task = match w.task.as_str() {
            "denoise" => Task::Denoise {
                sigma: need(w.noise_std, "noise_std")?,
            },
            "mri" => Task::Mri {
                acceleration: w.acceleration.ok_or("the record lacks 'acceleration'")?,
                center_fraction: need(w.center_fraction, "center_fraction")?,
                mask: w.mask.unwrap_or_default(),
                mask_seed: w.mask_seed.as_deref().unwrap_or("run").parse()?,
                // Records written before --mri-input existed gave the magnitude.
                input: w.mri_input.unwrap_or_default(),
            },
            "sr" => Task::Sr {
                scale: w.scale.ok_or("the record lacks 'scale'")?,
                // Records written before --downsample existed used area downsampling.
                downsample: w.downsample.unwrap_or_default(),
            },
            other => return Err(format!("unknown task '{other}' in the record")),
        };
        let data = match w.data.parse::<DataArg>()? {
            DataArg::Subspace => Data::Synthetic(Synthetic::Subspace {
                dim: w.subspace_dim.ok_or("the record lacks 'subspace_dim'")?,
            }),
            DataArg::GaussianField => Data::Synthetic(Synthetic::GaussianField {
                exponent: need(w.field_exponent, "field_exponent")?,
                cutoff: need(w.field_cutoff, "field_cutoff")?,
                std: need(w.field_std, "field_std")?,
            }),
            DataArg::Real(source) => Data::Real {
                source,
                color: w.color.unwrap_or_default(),
            },
        };
        // A record is what a run wrote: its problem was validated then. Not re-validated here,
        // so that a record stays readable when a later version tightens a check.
        Ok(Problem {
            task,
            data,
            image_size: w.image_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field() -> Data {
        Data::Synthetic(Synthetic::GaussianField {
            exponent: 2.0,
            cutoff: 0.05,
            std: 0.25,
        })
    }

    #[test]
    fn problems_round_trip_through_the_flat_record() {
        let cases = [
            Problem::new(Task::Denoise { sigma: 0.1 }, field(), 32).unwrap(),
            Problem::new(
                Task::Mri {
                    acceleration: 4,
                    center_fraction: 0.08,
                    mask: MaskKind::Equispaced,
                    mask_seed: MaskSeed::Run,
                    input: MriInput::Magnitude,
                },
                Data::Synthetic(Synthetic::Subspace { dim: 10 }),
                32,
            )
            .unwrap(),
            Problem::new(
                Task::Sr {
                    scale: 2,
                    downsample: Downsample::Bicubic,
                },
                Data::Real {
                    source: Source::Folder("/data/photos".into()),
                    color: Color::Rgb,
                },
                32,
            )
            .unwrap(),
        ];
        for p in cases {
            let json = serde_json::to_value(&p).unwrap();
            assert!(json.get("task").is_some() && json.get("image_size").is_some());
            let back: Problem = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(back, p, "{json}");
        }
    }

    #[test]
    fn colours_have_their_flag_names_and_channels() {
        for (c, name, image, planes) in [
            (Color::Gray, "gray", 1, 1),
            (Color::Rgb, "rgb", 3, 3),
            (Color::RgbSplit, "rgb-split", 1, 3),
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), name);
            assert_eq!(c.name(), name);
            assert_eq!((c.image_channels(), c.planes()), (image, planes));
            assert_eq!(c.examples_per_image() * image, planes);
        }
        let rgb = Data::Real {
            source: Source::Skimage,
            color: Color::Rgb,
        };
        let p = Problem::new(Task::Denoise { sigma: 0.1 }, rgb, 16).unwrap();
        assert_eq!(p.image_channels(), 3);
    }

    #[test]
    fn records_of_earlier_versions_still_read() {
        // An SR line written before --downsample existed, and a denoising line with the
        // fields of other tasks set to null.
        let sr: Problem = serde_json::from_str(
            r#"{"task":"sr","scale":2,"data":"gaussian-field","field_exponent":2.0,
                "field_cutoff":0.05,"field_std":0.25,"image_size":32,"noise_std":null}"#,
        )
        .unwrap();
        assert_eq!(
            sr.task(),
            Task::Sr {
                scale: 2,
                downsample: Downsample::Area
            }
        );
        let dn: Problem = serde_json::from_str(
            r#"{"task":"denoise","noise_std":0.1,"data":"subspace","subspace_dim":10,
                "image_size":16,"acceleration":null}"#,
        )
        .unwrap();
        assert_eq!(dn.synthetic(), Some(Synthetic::Subspace { dim: 10 }));
    }

    #[test]
    fn mri_input_and_fixed_masks_round_trip_and_older_records_are_magnitude() {
        let mri = |mask, mask_seed, input| {
            Problem::new(
                Task::Mri {
                    acceleration: 4,
                    center_fraction: 0.125,
                    mask,
                    mask_seed,
                    input,
                },
                field(),
                16,
            )
            .unwrap()
        };
        for (mask, seed, input, written_seed) in [
            (
                MaskKind::Fixed,
                MaskSeed::Value(7),
                MriInput::Complex,
                Some("7"),
            ),
            (
                MaskKind::Fixed,
                MaskSeed::Run,
                MriInput::Magnitude,
                Some("run"),
            ),
            (MaskKind::Random, MaskSeed::Run, MriInput::Complex, None),
        ] {
            let p = mri(mask, seed, input);
            let json = serde_json::to_value(&p).unwrap();
            assert_eq!(json["mri_input"], input.name());
            assert_eq!(json.get("mask_seed").and_then(|v| v.as_str()), written_seed);
            let back: Problem = serde_json::from_value(json).unwrap();
            assert_eq!(back, p);
        }
        // An MRI line of an earlier version: magnitude input, per-example masks.
        let old: Problem = serde_json::from_str(
            r#"{"task":"mri","acceleration":4,"center_fraction":0.125,"mask":"random",
                "data":"gaussian-field","field_exponent":2.0,"field_cutoff":0.05,
                "field_std":0.25,"image_size":16}"#,
        )
        .unwrap();
        assert!(matches!(
            old.task(),
            Task::Mri {
                input: MriInput::Magnitude,
                mask_seed: MaskSeed::Run,
                ..
            }
        ));
        assert_eq!(old.task().floor_label(), LOWER_BOUND_LABEL);
        assert_eq!(old.task().input_channels(1), 1);
        let complex = mri(MaskKind::Random, MaskSeed::Run, MriInput::Complex).task();
        assert_eq!(
            (complex.input_channels(1), complex.floor_label()),
            (3, FLOOR_LABEL)
        );
        let fixed = mri(MaskKind::Fixed, MaskSeed::Run, MriInput::Complex).task();
        assert_eq!(fixed.input_channels(1), 2);
        assert!("x7"
            .parse::<MaskSeed>()
            .unwrap_err()
            .contains("unknown mask seed policy"));
        assert_eq!("12".parse::<MaskSeed>().unwrap().resolve(3), 12);
        assert_eq!(MaskSeed::Run.resolve(3), 3);
    }

    #[test]
    fn invalid_combinations_are_refused() {
        let bicubic = Task::Sr {
            scale: 2,
            downsample: Downsample::Bicubic,
        };
        let e = Problem::new(bicubic, field(), 32).unwrap_err();
        assert!(e.to_string().contains("real images"), "{e}");
        let rgb_phantoms = Data::Real {
            source: Source::Phantoms,
            color: Color::Rgb,
        };
        let e = Problem::new(Task::Denoise { sigma: 0.1 }, rgb_phantoms, 32).unwrap_err();
        assert!(e.to_string().contains("photographs"), "{e}");
        assert!(Problem::new(Task::Denoise { sigma: 0.0 }, field(), 32).is_err());
        assert!(Problem::new(Task::Denoise { sigma: 0.1 }, field(), 6).is_err());
        let sub = Data::Synthetic(Synthetic::Subspace { dim: 65 });
        assert!(Problem::new(Task::Denoise { sigma: 0.1 }, sub, 8).is_err());
    }
}
