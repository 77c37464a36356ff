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
//! size. [`index`] turns a folder of volumes into clean training images: the target
//! (or, without one, the reconstruction) of each slice divided by that slice's maximum, then
//! fitted to `s x s` ([`Planes::fit`]). Files are split by relative path ([`super::files`]).
//!
//! The index of a split ([`FastMriExamples`]) is the list of usable `(volume, slice)` pairs;
//! reading an example reads that one slice ([`read_slice`], an HDF5 hyperslab).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hdf5_metno as hdf5;
use num_complex::Complex32;
use tch::{Kind, Tensor};

use plateau_run::hash::fnv1a64;

use super::files::split_files;
use super::load::{one_line, Collector, Color, Examples, Indexed, Layout, LoadOptions, SkipReason};
use super::planes::Planes;
use crate::fourier::ifft2c;
use crate::streams::Split;

/// The target datasets, single-coil then multi-coil.
const TARGETS: [&str; 2] = ["reconstruction_esc", "reconstruction_rss"];

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
    for t in TARGETS {
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
    for t in TARGETS {
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

/// One slice's image, `((h, w), h * w row-major)`, as [`read_images`] gives it for the whole
/// volume, reading only that slice (an HDF5 hyperslab) of the target or of the k-space.
///
/// # Errors
/// As [`read_images`], or a slice past the end; one line naming the file.
pub fn read_slice(path: &Path, slice: usize) -> anyhow::Result<((usize, usize), Vec<f32>)> {
    let name = path.display();
    hdf5::silence_errors(true);
    let file =
        hdf5::File::open(path).map_err(|e| anyhow::anyhow!("{name}: cannot open as HDF5: {e}"))?;
    let check = |what: &str, shape: &[usize], dims: &[usize]| {
        anyhow::ensure!(
            dims.contains(&shape.len()) && slice < shape[0],
            "{name}: `{what}` has shape {shape:?}, no slice {slice}"
        );
        Ok(())
    };
    for t in TARGETS {
        if let Ok(ds) = file.dataset(t) {
            let shape = ds.shape();
            check(t, &shape, &[3])?;
            let v = ds
                .read_slice_2d::<f32, _>((slice, .., ..))
                .map_err(|e| anyhow::anyhow!("{name}: cannot read `{t}` as float32: {e}"))?;
            return Ok(((shape[1], shape[2]), v.into_iter().collect()));
        }
    }
    let ks = file
        .dataset("kspace")
        .map_err(|e| anyhow::anyhow!("{name}: no `kspace` dataset: {e}"))?;
    let mut shape = ks.shape();
    check("kspace", &shape, &[3, 4])?;
    let read = |sel: hdf5::Selection| {
        ks.read_slice_2d::<Complex32, _>(sel)
            .map_err(|e| anyhow::anyhow!("{name}: cannot read `kspace` as complex64: {e}"))
    };
    let kspace: Vec<Complex32> = if shape.len() == 3 {
        read((slice, .., ..).into())?.into_iter().collect()
    } else {
        let mut v = Vec::new();
        for coil in 0..shape[1] {
            v.extend(read((slice, coil, .., ..).into())?);
        }
        v
    };
    shape[0] = 1;
    let (h, w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let vol = Volume {
        kspace_shape: shape,
        kspace,
        target: None,
        header: None,
    };
    let crop = (320.min(h), 320.min(w));
    Ok((crop, reconstruct(&vol, crop)))
}

/// The usable slices of a split's volumes: example `i` is slice `slices[i].1` of volume
/// `files[slices[i].0]`, divided by its maximum and fitted to `s x s` (one slice read per
/// example).
#[derive(Clone, Debug)]
pub struct FastMriExamples {
    files: Vec<std::path::PathBuf>,
    slices: Vec<(usize, usize)>,
    layout: Layout,
}

impl Examples for FastMriExamples {
    fn layout(&self) -> Layout {
        self.layout
    }

    fn example(&self, index: usize) -> anyhow::Result<Vec<f32>> {
        let (file, slice) = self.slices[index];
        let path = &self.files[file];
        let ((h, w), image) = read_slice(path, slice)?;
        let normalised = normalise(&image)
            .ok_or_else(|| anyhow::anyhow!("{}: slice {slice} is now blank", path.display()))?;
        let planes = Planes {
            channels: 1,
            h,
            w,
            data: normalised,
        };
        let s = self.layout.side;
        planes
            .fit(s)
            .ok_or_else(|| anyhow::anyhow!("{}: now smaller than {s}x{s}", path.display()))
    }
}

/// A slice divided by its maximum; `None` when the maximum is not finite and positive.
fn normalise(slice: &[f32]) -> Option<Vec<f32>> {
    let max = slice.iter().cloned().fold(0.0f32, f32::max);
    (max.is_finite() && max > 0.0).then(|| slice.iter().map(|v| v / max).collect())
}

/// The usable slices (indices) of one volume's `images` (`[slices, shape.0, shape.1]`), in
/// slice order; blank slices and a volume smaller than the side are recorded as skipped.
/// Without `opt.volumes`, stops at the slice that makes `count` with those already collected.
fn usable_slices(
    images: &[f32],
    shape: (usize, usize),
    rel: &str,
    opt: &LoadOptions,
    count: usize,
    volumes: &mut Collector<(usize, Vec<usize>)>,
) -> Vec<usize> {
    let mut usable = Vec::new();
    for (k, slice) in images.chunks_exact(shape.0 * shape.1).enumerate() {
        if opt.volumes.is_none() && volumes.got() + usable.len() == count {
            break;
        }
        if normalise(slice).is_none() {
            let max = slice.iter().cloned().fold(0.0f32, f32::max);
            volumes.skip(rel, SkipReason::Blank { max });
            continue;
        }
        if shape.0.min(shape.1) < opt.side {
            volumes.skip(rel, SkipReason::TooSmall { side: opt.side });
            break;
        }
        usable.push(k);
    }
    usable
}

/// The first `count` `(file, slice)` pairs of `volumes` (each `(file, its usable slices)`):
/// in volume order, or with `round_robin` one slice of each volume in turn.
fn interleave(
    volumes: &[(usize, Vec<usize>)],
    round_robin: bool,
    count: usize,
) -> Vec<(usize, usize)> {
    if !round_robin {
        return volumes
            .iter()
            .flat_map(|(f, v)| v.iter().map(move |&k| (*f, k)))
            .take(count)
            .collect();
    }
    let longest = volumes.iter().map(|v| v.1.len()).max().unwrap_or(0);
    (0..longest)
        .flat_map(|r| {
            volumes
                .iter()
                .filter_map(move |(f, v)| v.get(r).map(|&k| (*f, k)))
        })
        .take(count)
        .collect()
}

/// Reads the volumes of `files` in order until there are `count` usable slices (or, with
/// `opt.volumes = Some(K)`, `K` volumes with a usable slice): each volume's index in `files`
/// and its usable slices, in slice order (or hash order with `opt.volumes`).
fn usable_volumes(
    files: &[(String, PathBuf)],
    count: usize,
    opt: &LoadOptions,
) -> Result<Collector<(usize, Vec<usize>)>> {
    let mut volumes: Collector<(usize, Vec<usize>)> = Collector::new(count);
    let enough = |volumes: &Collector<_>| match opt.volumes {
        None => volumes.is_full(),
        Some(k) => volumes.usable().len() >= k,
    };
    for (f, (rel, path)) in files.iter().enumerate() {
        if enough(&volumes) {
            break;
        }
        let (shape, images) = match read_images(path) {
            Ok(v) => v,
            Err(e) if opt.skip_bad => {
                let e = one_line(&format!("{e:#}"));
                volumes.skip(rel, SkipReason::Undecodable(e));
                continue;
            }
            Err(e) => anyhow::bail!(one_line(&format!("{e:#}"))),
        };
        let mut usable = usable_slices(&images, shape, rel, opt, count, &mut volumes);
        if !usable.is_empty() {
            if opt.volumes.is_some() {
                usable.sort_by_key(|k| fnv1a64(format!("{rel}#{k}").as_bytes()));
            }
            let n = usable.len();
            volumes.push((f, usable), n);
        }
    }
    Ok(volumes)
}

/// The index of `count` clean `s x s` images from the slices of the volumes of `split` under
/// `root` (see the module docs), in `[0, 1]`, and what was skipped. Unreadable files fail with
/// their name, or are skipped when `skip_bad`; blank slices and volumes smaller than `s` are
/// skipped. Reads each volume's images once, one volume at a time.
///
/// Without `opt.volumes`, the examples are the first `count` usable slices in volume order.
/// With `opt.volumes = Some(K)` (`--train-volumes`), they come from the first `K` volumes with
/// a usable slice: round-robin over the volumes, each volume's slices in the order of
/// `fnv1a64("{relative path}#{slice}")`, so `count` slices spread evenly over the `K` volumes,
/// and the set for `count` is a prefix of the set for `4 count` (as the volumes of `K` are a
/// prefix of those of `4 K`).
///
/// # Errors
/// A missing folder, an unreadable file (without `skip_bad`), fewer than `count` slices, or
/// fewer than `K` usable volumes; one line each.
pub fn index(root: &Path, split: Split, count: usize, opt: &LoadOptions) -> Result<Indexed> {
    let files =
        split_files(root, &["h5"], split).with_context(|| format!("fastmri:{}", root.display()))?;
    let volumes = usable_volumes(&files, count, opt)?;
    if let Some(k) = opt.volumes {
        anyhow::ensure!(
            volumes.usable().len() == k,
            "fastmri:{}: the {} split has {} usable volumes, {k} requested (--train-volumes; {} files, {})",
            root.display(),
            split.name(),
            volumes.usable().len(),
            files.len(),
            volumes.skip_summary()
        );
    }
    let (volumes, skipped) = volumes.finish(|got, skips| {
        format!(
            "fastmri:{}: the {} split has {got} usable slices{}, {count} requested ({} files, {skips})",
            root.display(),
            split.name(),
            opt.volumes
                .map_or(String::new(), |k| format!(" in its first {k} volumes")),
            files.len(),
        )
    })?;
    let slices = interleave(&volumes, opt.volumes.is_some(), count);
    let layout = Layout {
        items: slices.len(),
        color: Color::Gray,
        side: opt.side,
    };
    let examples = FastMriExamples {
        files: files.into_iter().map(|(_, p)| p).collect(),
        slices,
        layout,
    };
    Ok(Indexed {
        examples: Box::new(examples),
        skipped,
    })
}
