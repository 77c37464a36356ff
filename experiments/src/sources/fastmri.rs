//! fastMRI HDF5 volumes (Zbontar et al. 2018), read with `hdf5-metno` (the system HDF5).
//!
//! Layout of a file (one volume, `S` slices):
//!
//! - `kspace`: complex64 (h5py's compound `{r, i}`), `(S, H, W)` single-coil or
//!   `(S, coils, H, W)` multi-coil; centred k-space (DC at `(H/2, W/2)`).
//! - `reconstruction_esc` (single-coil) or `reconstruction_rss` (multi-coil): float32
//!   `(S, 320, 320)`, the target images; absent from the challenge's test files.
//! - `ismrmrd_header`: the ISMRMRD XML header as a (variable- or fixed-length) string.
//!
//! [`reconstruct`]: `ifft2c` (centred orthonormal inverse DFT, as `fastmri.ifft2c`) of each
//! coil, root-sum-of-squares over coils (magnitude for single-coil), centre crop to the target
//! size. [`load_slices`] turns a folder of volumes into clean training images: the target
//! (or, without one, the reconstruction) of each slice divided by that slice's maximum, then
//! fitted to `s x s` ([`Planes::fit`]). Files are split by relative path ([`super::files`]).

use std::path::Path;

use anyhow::{Context, Result};
use hdf5_metno as hdf5;
use num_complex::Complex32;
use tch::{Kind, Tensor};

use super::files::split_files;
use super::load::{one_line, Collector, Images, LoadOptions, SkipReason};
use super::planes::Planes;
use crate::fourier::ifft2c;
use crate::streams::Split;

/// One fastMRI volume in memory.
#[derive(Clone, Debug)]
pub struct Volume {
    /// `kspace` shape: `[S, H, W]` or `[S, coils, H, W]`.
    pub kspace_shape: Vec<usize>,
    /// `kspace` values in row-major order.
    pub kspace: Vec<Complex32>,
    /// Target images `[S, h, w]` row-major, with the dataset's name, if the file has one.
    pub target: Option<(String, Vec<usize>, Vec<f32>)>,
    /// The ISMRMRD XML header, if present and a string.
    pub header: Option<String>,
}

impl Volume {
    /// Number of slices.
    pub fn slices(&self) -> usize {
        self.kspace_shape[0]
    }

    /// Multi-coil (`kspace` has 4 dimensions)?
    pub fn multicoil(&self) -> bool {
        self.kspace_shape.len() == 4
    }
}

/// Reads a volume.
///
/// # Errors
/// One line naming the file: not HDF5, no `kspace`, `kspace` not complex or not 3-/4-D, a
/// target whose slice count differs from `kspace`'s.
pub fn read_volume(path: &Path) -> anyhow::Result<Volume> {
    let name = path.display();
    // HDF5 prints its own error stack on failures; keep stderr to our one-line message.
    hdf5::silence_errors(true);
    let file =
        hdf5::File::open(path).map_err(|e| anyhow::anyhow!("{name}: cannot open as HDF5: {e}"))?;
    let ks = file
        .dataset("kspace")
        .map_err(|e| anyhow::anyhow!("{name}: no `kspace` dataset: {e}"))?;
    let kspace_shape = ks.shape();
    anyhow::ensure!(
        matches!(kspace_shape.len(), 3 | 4) && kspace_shape.iter().all(|&d| d > 0),
        "{name}: `kspace` has shape {kspace_shape:?}, expected (slices, H, W) or (slices, coils, H, W)"
    );
    let kspace = ks
        .read_raw::<Complex32>()
        .map_err(|e| anyhow::anyhow!("{name}: cannot read `kspace` as complex64: {e}"))?;
    let mut target = None;
    for t in ["reconstruction_esc", "reconstruction_rss"] {
        if let Ok(ds) = file.dataset(t) {
            let shape = ds.shape();
            anyhow::ensure!(
                shape.len() == 3 && shape[0] == kspace_shape[0],
                "{name}: `{t}` has shape {shape:?}, expected ({}, h, w)",
                kspace_shape[0]
            );
            let v = ds
                .read_raw::<f32>()
                .map_err(|e| anyhow::anyhow!("{name}: cannot read `{t}` as float32: {e}"))?;
            target = Some((t.to_string(), shape, v));
            break;
        }
    }
    let header = file.dataset("ismrmrd_header").ok().and_then(|ds| {
        ds.read_scalar::<hdf5::types::VarLenUnicode>()
            .map(|s| s.to_string())
            .or_else(|_| {
                ds.read_scalar::<hdf5::types::VarLenAscii>()
                    .map(|s| s.to_string())
            })
            .ok()
    });
    Ok(Volume {
        kspace_shape,
        kspace,
        target,
        header,
    })
}

/// Reconstructs every slice: `ifft2c` per coil, root-sum-of-squares over coils, centre crop to
/// `crop = (h, w)` (clamped to the k-space size). Returns `[S, h, w]` row-major `f32`.
pub fn reconstruct(vol: &Volume, crop: (usize, usize)) -> Vec<f32> {
    let sh = &vol.kspace_shape;
    let (h, w) = (sh[sh.len() - 2], sh[sh.len() - 1]);
    let coils = if vol.multicoil() { sh[1] } else { 1 };
    let flat: Vec<f32> = vol.kspace.iter().flat_map(|c| [c.re, c.im]).collect();
    let k = Tensor::from_slice(&flat)
        .view([sh[0] as i64, coils as i64, h as i64, w as i64, 2])
        .view_as_complex();
    let img = ifft2c(&k)
        .abs()
        .square()
        .sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        .sqrt();
    let (ch, cw) = (crop.0.min(h), crop.1.min(w));
    let (r0, c0) = ((h - ch) / 2, (w - cw) / 2);
    let img = img
        .narrow(1, r0 as i64, ch as i64)
        .narrow(2, c0 as i64, cw as i64)
        .contiguous();
    Vec::<f32>::try_from(img.flatten(0, -1)).expect("float tensor")
}

/// The slice images of a volume, `((h, w), [S, h, w] row-major)`: the stored target when the
/// file has one (without reading the much larger k-space), else the reconstruction cropped to
/// at most `320 x 320` (fastMRI's target size).
///
/// # Errors
/// As [`read_volume`], naming the file.
pub fn read_images(path: &Path) -> anyhow::Result<((usize, usize), Vec<f32>)> {
    let name = path.display();
    hdf5::silence_errors(true);
    let file =
        hdf5::File::open(path).map_err(|e| anyhow::anyhow!("{name}: cannot open as HDF5: {e}"))?;
    for t in ["reconstruction_esc", "reconstruction_rss"] {
        if let Ok(ds) = file.dataset(t) {
            let shape = ds.shape();
            anyhow::ensure!(
                shape.len() == 3 && shape.iter().all(|&d| d > 0),
                "{name}: `{t}` has shape {shape:?}, expected (slices, h, w)"
            );
            let v = ds
                .read_raw::<f32>()
                .map_err(|e| anyhow::anyhow!("{name}: cannot read `{t}` as float32: {e}"))?;
            return Ok(((shape[1], shape[2]), v));
        }
    }
    drop(file);
    let vol = read_volume(path)?;
    let sh = &vol.kspace_shape;
    let crop = (320.min(sh[sh.len() - 2]), 320.min(sh[sh.len() - 1]));
    Ok((crop, reconstruct(&vol, crop)))
}

/// Clean `s x s` images from the slices of the volumes of `split` under `root` (see the module
/// docs), `count` of them, in `[0, 1]`, and what was skipped. Unreadable files fail with their
/// name, or are skipped when `skip_bad`; blank slices and volumes smaller than `s` are skipped.
///
/// # Errors
/// A missing folder, an unreadable file (without `skip_bad`), or fewer than `count` slices; one
/// line each.
pub fn load_slices(root: &Path, split: Split, count: usize, opt: &LoadOptions) -> Result<Images> {
    let (s, skip_bad) = (opt.side, opt.skip_bad);
    let files =
        split_files(root, &["h5"], split).with_context(|| format!("fastmri:{}", root.display()))?;
    let mut slices = Collector::new(count, s * s);
    for (rel, path) in &files {
        if slices.is_full() {
            break;
        }
        let (shape, images) = match read_images(path) {
            Ok(v) => v,
            Err(e) if skip_bad => {
                slices.skip(rel, SkipReason::Undecodable(one_line(&format!("{e:#}"))));
                continue;
            }
            Err(e) => anyhow::bail!(one_line(&format!("{e:#}"))),
        };
        let per = shape.0 * shape.1;
        for slice in images.chunks_exact(per) {
            if slices.is_full() {
                break;
            }
            let max = slice.iter().cloned().fold(0.0f32, f32::max);
            if !(max.is_finite() && max > 0.0) {
                slices.skip(rel, SkipReason::Blank { max });
                continue;
            }
            let planes = Planes {
                channels: 1,
                h: shape.0,
                w: shape.1,
                data: slice.iter().map(|v| v / max).collect(),
            };
            match planes.fit(s) {
                Some(v) => slices.push(v),
                None => {
                    slices.skip(rel, SkipReason::TooSmall { side: s });
                    break;
                }
            }
        }
    }
    slices.finish(|got, skips| {
        format!(
            "fastmri:{}: the {} split has {got} usable slices, {count} requested ({} files, {skips})",
            root.display(),
            split.name(),
            files.len(),
        )
    })
}
