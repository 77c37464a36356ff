//! fastMRI HDF5 round trip: tiny files of the fastMRI layout are written with `hdf5-metno`, then
//! read back, reconstructed (centred inverse DFT, root-sum-of-squares, centre crop), loaded as
//! training images and undersampled, with known values:
//!
//! - k-space holding only a DC value `v` reconstructs to the constant `|v| / sqrt(H W)`; with
//!   coils `a_c`, to `sqrt(sum |a_c|^2) / sqrt(H W)`;
//! - k-space `fft2c(x)` of a known non-negative image reconstructs to `x` (centre crop);
//! - a constant slice loads as the constant 1 (normalised by its maximum) and any mask that
//!   keeps the centre column leaves it unchanged;
//! - a corrupt file fails with its name, or is skipped and counted with `skip_bad`.

#![cfg(feature = "fastmri")]

use std::path::Path;

mod common;

use hdf5_metno as hdf5;
use num_complex::Complex32;
use plateau_experiments::fourier::fft2c;
use plateau_experiments::sources::fastmri::{read_volume, reconstruct};
use plateau_experiments::sources::{Color, Load as _, LoadOptions, Source};
use plateau_experiments::streams::Split;
use plateau_experiments::task::{MaskKind, Measure as _, Task};
use tch::{Device, Kind, Tensor};

fn write(
    path: &Path,
    kshape: &[usize],
    kspace: &[Complex32],
    target: Option<(&str, [usize; 3], &[f32])>,
) {
    let file = hdf5::File::create(path).unwrap();
    let ds = file
        .new_dataset::<Complex32>()
        .shape(kshape.to_vec())
        .create("kspace")
        .unwrap();
    ds.write_raw(kspace).unwrap();
    if let Some((name, shape, values)) = target {
        let t = file
            .new_dataset::<f32>()
            .shape(shape.to_vec())
            .create(name)
            .unwrap();
        t.write_raw(values).unwrap();
    }
    let header: hdf5::types::VarLenUnicode = "<ismrmrdHeader>test</ismrmrdHeader>".parse().unwrap();
    let h = file
        .new_dataset::<hdf5::types::VarLenUnicode>()
        .shape(())
        .create("ismrmrd_header")
        .unwrap();
    h.write_scalar(&header).unwrap();
}

/// `fft2c` of a real `h x w` image as complex64 values, row-major.
fn kspace_of(x: &[f32], h: usize, w: usize) -> Vec<Complex32> {
    let t = Tensor::from_slice(x).view([1, 1, h as i64, w as i64]);
    let k = fft2c(&t).view_as_real().contiguous().flatten(0, -1);
    let v = Vec::<f32>::try_from(k).unwrap();
    v.chunks_exact(2)
        .map(|c| Complex32::new(c[0], c[1]))
        .collect()
}

#[test]
fn single_and_multicoil_volumes_round_trip() {
    let dir = common::tmpdir("fastmri-roundtrip");
    let (h, w) = (8usize, 12usize);
    // Slice 0: DC only, 3 + 4i. Slice 1: fft2c of a known non-negative image.
    let mut k = vec![Complex32::new(0.0, 0.0); 2 * h * w];
    k[(h / 2) * w + w / 2] = Complex32::new(3.0, 4.0);
    let x1: Vec<f32> = (0..h * w).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
    k[h * w..].copy_from_slice(&kspace_of(&x1, h, w));
    let target: Vec<f32> = (0..2 * 6 * 6).map(|i| i as f32).collect();
    let single = dir.join("single.h5");
    write(
        &single,
        &[2, h, w],
        &k,
        Some(("reconstruction_esc", [2, 6, 6], &target)),
    );

    let vol = read_volume(&single).unwrap();
    assert_eq!(vol.kspace_shape, vec![2, h, w]);
    assert!(!vol.multicoil());
    assert_eq!(
        vol.header.as_deref(),
        Some("<ismrmrdHeader>test</ismrmrdHeader>")
    );
    let (name, shape, values) = vol.target.clone().unwrap();
    assert_eq!(
        (name.as_str(), shape, values),
        ("reconstruction_esc", vec![2, 6, 6], target)
    );
    let rec = reconstruct(&vol, (6, 6));
    assert_eq!(rec.len(), 2 * 36);
    let dc = 5.0 / ((h * w) as f32).sqrt();
    assert!(
        rec[..36].iter().all(|v| (v - dc).abs() < 1e-5),
        "{:?}",
        &rec[..36]
    );
    // Centre crop of x1: rows 1..7, cols 3..9.
    for r in 0..6 {
        for c in 0..6 {
            let want = x1[(r + 1) * w + c + 3];
            let got = rec[36 + r * 6 + c];
            assert!((got - want).abs() < 1e-5, "({r},{c}) {got} vs {want}");
        }
    }

    // Multi-coil: 3 coils with DC values 1, 2i, -2 -> RSS 3 / sqrt(H W).
    let (ch, cw) = (8usize, 8usize);
    let mut mk = vec![Complex32::new(0.0, 0.0); 3 * ch * cw];
    for (c, v) in [
        Complex32::new(1.0, 0.0),
        Complex32::new(0.0, 2.0),
        Complex32::new(-2.0, 0.0),
    ]
    .into_iter()
    .enumerate()
    {
        mk[c * ch * cw + (ch / 2) * cw + cw / 2] = v;
    }
    let multi = dir.join("multi.h5");
    write(&multi, &[1, 3, ch, cw], &mk, None);
    let vol = read_volume(&multi).unwrap();
    assert!(vol.multicoil() && vol.target.is_none());
    let rec = reconstruct(&vol, (320, 320));
    assert_eq!(rec.len(), 64, "crop clamps to the k-space size");
    assert!(rec.iter().all(|v| (v - 3.0 / 8.0).abs() < 1e-5), "{rec:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn folders_of_volumes_load_mask_and_report_bad_files() {
    let dir = common::tmpdir("fastmri-folder");
    let (h, w) = (16usize, 16usize);
    // A train volume: 3 DC-only slices (constant images); no target, so it is reconstructed.
    let mut k = vec![Complex32::new(0.0, 0.0); 3 * h * w];
    for s in 0..3 {
        k[s * h * w + (h / 2) * w + w / 2] = Complex32::new(2.0 + s as f32, 0.0);
    }
    write(
        &dir.join(common::name_in(Split::Train, "train", "h5")),
        &[3, h, w],
        &k,
        None,
    );
    let opt = LoadOptions {
        side: 8,
        color: Color::Gray,
        skip_bad: false,
        seed: 0,
        volumes: None,
    };
    let source = Source::FastMri(dir.clone());
    let loaded = source.load(Split::Train, 3, &opt).unwrap();
    assert_eq!(loaded.images.size(), vec![3, 1, 8, 8]);
    let v = Vec::<f32>::try_from(loaded.images.flatten(0, -1)).unwrap();
    assert!(
        v.iter().all(|x| (x - 1.0).abs() < 1e-5),
        "constant slices load as 1"
    );
    // Undersampling keeps the constant (its k-space is the DC column, always sampled).
    for mask in [MaskKind::Random, MaskKind::Equispaced] {
        let task = Task::Mri {
            acceleration: 4,
            center_fraction: 0.08,
            mask,
            mask_seed: Default::default(),
            input: plateau_experiments::task::MriInput::Magnitude,
        };
        let zf = task.measure(&loaded.images, Split::Train, 0, 0);
        assert!((zf - 1.0).abs().max().double_value(&[]) < 1e-5);
    }
    // A non-constant image loses energy under a 4x mask.
    let x = Tensor::rand([1, 1, 8, 8], (Kind::Float, Device::Cpu));
    let task = Task::Mri {
        acceleration: 4,
        center_fraction: 0.08,
        mask: MaskKind::Random,
        mask_seed: Default::default(),
        input: plateau_experiments::task::MriInput::Magnitude,
    };
    let zf = task.measure(&x, Split::Train, 0, 0);
    assert!((zf - &x).abs().max().double_value(&[]) > 1e-3);
    // Too few slices: a one-line error naming the folder and the split.
    let err = source
        .load(Split::Train, 4, &opt)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("train split has 3 usable slices, 4 requested"),
        "{err}"
    );

    // A validation volume with a stored target: the target (not the k-space) is used, divided
    // by each slice's maximum and reduced by 2x2 block means to 8x8.
    let target: Vec<f32> = (0..2 * 16 * 16).map(|i| (i % 256) as f32 + 1.0).collect();
    let kz = vec![Complex32::new(0.0, 0.0); 2 * h * w];
    write(
        &dir.join(common::name_in(Split::Validation, "val", "h5")),
        &[2, h, w],
        &kz,
        Some(("reconstruction_esc", [2, 16, 16], &target)),
    );
    let val = source.load(Split::Validation, 2, &opt).unwrap();
    let v = Vec::<f32>::try_from(val.images.flatten(0, -1)).unwrap();
    for (slice, img) in v.chunks(64).enumerate() {
        for (i, got) in img.iter().enumerate() {
            let (r, c) = (i / 8, i % 8);
            let at = |a: usize, b: usize| ((2 * r + a) * 16 + 2 * c + b) as f32 + 1.0;
            let want = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4.0 / 256.0;
            assert!(
                (got - want).abs() < 1e-6,
                "slice {slice} pixel {i}: {got} vs {want}"
            );
        }
    }

    // A corrupt file in the same split.
    let bad = common::name_in(Split::Train, "corrupt", "h5");
    std::fs::write(dir.join(&bad), b"not an HDF5 file").unwrap();
    let err = source
        .load(Split::Train, 3, &opt)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(&bad) && !err.contains('\n'), "{err}");
    let loaded = source
        .load(
            Split::Train,
            3,
            &LoadOptions {
                skip_bad: true,
                ..opt
            },
        )
        .unwrap();
    assert_eq!(loaded.images.size()[0], 3);
    assert_eq!(loaded.skipped.len(), 1, "{:?}", loaded.skipped);
    let why = loaded.skipped[0].to_string();
    assert!(
        why.contains(&bad) && why.contains("undecodable") && !why.contains('\n'),
        "{why}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The ids (`100 v + k + 1`, volume `v` of the training split's order, slice `k`) of the
/// training examples for `count` slices from `volumes` volumes.
fn slice_ids(source: &Source, count: usize, volumes: Option<usize>) -> anyhow::Result<Vec<u32>> {
    let opt = LoadOptions {
        side: 8,
        color: Color::Gray,
        skip_bad: false,
        seed: 0,
        volumes,
    };
    let loaded = source.load(Split::Train, count, &opt)?;
    let v = Vec::<f32>::try_from(loaded.images.flatten(0, -1)).unwrap();
    Ok(v.chunks(64)
        .map(|img| (img[0] * 1000.0).round() as u32)
        .collect())
}

#[test]
fn train_volumes_spread_nested_slices_over_the_first_volumes() {
    let dir = common::tmpdir("fastmri-volumes");
    // Three training volumes of 4 slices (8 x 8 targets, so `fit` is the identity). Slice k of
    // the v-th volume in the split's order is 1 everywhere but pixel 0, which holds its id / 1000.
    let mut by_hash: Vec<String> = (0..)
        .map(|i| format!("vol{i}.h5"))
        .filter(|n| plateau_experiments::sources::split_of(n) == Split::Train)
        .take(3)
        .collect();
    // The split's volume order (`sources::files`).
    by_hash.sort_by_key(|n| (plateau_run::hash::fnv1a64(n.as_bytes()), n.clone()));
    for (v, name) in by_hash.iter().enumerate() {
        let mut target = vec![1.0f32; 4 * 64];
        for k in 0..4 {
            target[k * 64] = (100 * v + k + 1) as f32 / 1000.0;
        }
        let kz = vec![Complex32::new(0.0, 0.0); 4 * 64];
        let t = Some(("reconstruction_esc", [4, 8, 8], target.as_slice()));
        write(&dir.join(name), &[4, 8, 8], &kz, t);
    }
    let source = Source::FastMri(dir.clone());
    // Without --train-volumes: the first slices in volume order.
    assert_eq!(slice_ids(&source, 5, None).unwrap(), [1, 2, 3, 4, 101]);
    // Two volumes: round-robin over them, so 4 slices are 2 of each; nested in the count.
    let four = slice_ids(&source, 4, Some(2)).unwrap();
    let volume = |id: &u32| id / 100;
    assert_eq!(four.iter().map(volume).collect::<Vec<_>>(), [0, 1, 0, 1]);
    assert_eq!(slice_ids(&source, 2, Some(2)).unwrap(), four[..2]);
    let all = slice_ids(&source, 8, Some(2)).unwrap();
    assert_eq!(all[..4], four);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 2, 3, 4, 101, 102, 103, 104], "every slice once");
    // One volume's slices are among those of two (the volumes are nested).
    let one = slice_ids(&source, 4, Some(1)).unwrap();
    assert!(one.iter().all(|id| all.contains(id) && volume(id) == 0));
    // Too few volumes or slices: one line saying so.
    for (count, k, want) in [
        (4, 4, "has 3 usable volumes, 4 requested"),
        (9, 2, "8 usable slices in its first 2 volumes, 9 requested"),
    ] {
        let e = format!("{:#}", slice_ids(&source, count, Some(k)).unwrap_err());
        assert!(e.contains(want) && !e.contains('\n'), "{e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
