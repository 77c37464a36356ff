//! Real-image sources: image folders (ImageNet-like layout, PNG and JPEG), split by file; the
//! scikit-image photographs (when `make bootstrap` has fetched them); phantoms.

mod common;

use std::collections::{HashMap, HashSet};

use image::{ImageBuffer, Luma, Rgb};
use plateau_experiments::sources::planes::{decode, Planes};
use plateau_experiments::sources::skimage::SKIMAGE_NOT_PHOTOGRAPHS;
use plateau_experiments::sources::{skimage_dir, split_of, Color, Load as _, LoadOptions, Source};
use plateau_experiments::streams::Split;
use plateau_run::hash::fnv1a64;

fn opt(side: usize) -> LoadOptions {
    LoadOptions {
        side,
        color: Color::Gray,
        skip_bad: false,
        seed: 0,
        volumes: None,
    }
}

fn values(t: &tch::Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()
}

#[test]
fn folders_split_by_file_crop_and_report_bad_files() {
    let dir = common::tmpdir("images-folder");
    // 60 constant gray PNGs in class folders; file i has value i (so each image names its file).
    let mut per_split = [0usize; 3];
    for i in 0..60u8 {
        let class = dir.join(format!("n{:02}", i % 4));
        std::fs::create_dir_all(&class).unwrap();
        let img = ImageBuffer::from_pixel(20 + i as u32, 17, Luma([i]));
        let rel = format!("n{:02}/img{i}.png", i % 4);
        img.save(dir.join(&rel)).unwrap();
        per_split[split_of(&rel) as usize - 1] += 1;
    }
    let source = Source::Folder(dir.clone());
    let mut seen: Vec<HashSet<u32>> = Vec::new();
    for (k, split) in [Split::Train, Split::Validation, Split::Test]
        .into_iter()
        .enumerate()
    {
        let n = per_split[k];
        assert!(n >= 2, "split {k} has {n} files");
        let loaded = source.load(split, n, &opt(8)).unwrap();
        assert_eq!(loaded.images.size(), vec![n as i64, 1, 8, 8]);
        let v = values(&loaded.images);
        let ids: HashSet<u32> = v
            .chunks(64)
            .map(|img| {
                assert!(
                    img.iter().all(|&p| p == img[0]),
                    "constant images stay constant"
                );
                (img[0] * 255.0).round() as u32
            })
            .collect();
        assert_eq!(ids.len(), n, "every file once");
        seen.push(ids);
        // Nested: the first 2 are a prefix.
        let two = source.load(split, 2, &opt(8)).unwrap();
        assert_eq!(values(&two.images), v[..128].to_vec());
        // More than the split holds: a clear error.
        let err = source
            .load(split, n + 1, &opt(8))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("usable images") && !err.contains('\n'),
            "{err}"
        );
    }
    assert!(
        seen[0].is_disjoint(&seen[1])
            && seen[0].is_disjoint(&seen[2])
            && seen[1].is_disjoint(&seen[2])
    );

    // A corrupt PNG in the training split: an error naming it, or skipped and counted.
    let bad = common::name_in(Split::Train, "bad", "png");
    std::fs::write(dir.join(&bad), b"\x89PNG garbage").unwrap();
    let n = per_split[0];
    let err = source
        .load(Split::Train, n, &opt(8))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(&bad) && !err.contains('\n'), "{err}");
    let skip = LoadOptions {
        skip_bad: true,
        ..opt(8)
    };
    let loaded = source.load(Split::Train, n, &skip).unwrap();
    assert_eq!(loaded.images.size()[0], n as i64);
    assert_eq!(loaded.skipped.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn folder_skips_say_why_on_one_line() {
    let dir = common::tmpdir("images-skips");
    // A zero-byte JPEG and a PNG smaller than the side, both before the one good file in the
    // training split's (hash) order, so that loading one image visits all three.
    let empty = common::name_in(Split::Train, "empty", "jpg");
    std::fs::write(dir.join(&empty), b"").unwrap();
    let small = common::name_in(Split::Train, "small", "png");
    ImageBuffer::from_pixel(4, 4, Luma([9u8]))
        .save(dir.join(&small))
        .unwrap();
    let last = fnv1a64(empty.as_bytes()).max(fnv1a64(small.as_bytes()));
    let good = (0..)
        .map(|i| format!("good{i}.png"))
        .find(|n| split_of(n) == Split::Train && fnv1a64(n.as_bytes()) > last)
        .unwrap();
    ImageBuffer::from_pixel(8, 8, Luma([200u8]))
        .save(dir.join(&good))
        .unwrap();
    let source = Source::Folder(dir.clone());

    // Without skipping: the zero-byte file fails the load, on one line that names it.
    let err = format!("{:#}", source.load(Split::Train, 1, &opt(8)).err().unwrap());
    assert!(err.contains(&empty) && !err.contains('\n'), "{err:?}");

    // Skipping: each skipped file says why, on one line.
    let skip = LoadOptions {
        skip_bad: true,
        ..opt(8)
    };
    let loaded = source.load(Split::Train, 1, &skip).unwrap();
    assert_eq!(loaded.images.size(), vec![1, 1, 8, 8]);
    let why: Vec<String> = loaded.skipped.iter().map(|s| s.to_string()).collect();
    assert_eq!(why.len(), 2, "{why:?}");
    for (file, reason) in [(&empty, "undecodable"), (&small, "too small")] {
        assert!(
            why.iter()
                .any(|w| w.starts_with(file.as_str()) && w.contains(reason)),
            "{file} should be skipped as {reason}: {why:?}"
        );
    }
    assert!(why.iter().all(|w| !w.contains('\n')), "{why:?}");

    // Too few usable files: the count message says why the others were skipped.
    let err = format!("{:#}", source.load(Split::Train, 2, &skip).err().unwrap());
    assert!(
        err.contains("1 usable images")
            && err.contains("1 too small, 1 undecodable")
            && !err.contains('\n'),
        "{err:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn crops_colour_and_jpeg() {
    let dir = common::tmpdir("images-crop");
    // A horizontal ramp 12 x 6 (w x h), s = 3: q = 2, crop cols 0..6 + 3 = 3..9, rows 0..6.
    let name = common::name_in(Split::Train, "ramp", "png");
    let ramp = ImageBuffer::from_fn(12, 6, |x, _| Luma([(x * 20) as u8]));
    ramp.save(dir.join(&name)).unwrap();
    let v = values(
        &Source::Folder(dir.clone())
            .load(Split::Train, 1, &opt(3))
            .unwrap()
            .images,
    );
    for row in 0..3 {
        for col in 0..3 {
            // Block mean of columns 3 + 2 col and 4 + 2 col.
            let want = ((3 + 2 * col) * 20 + (4 + 2 * col) * 20) as f32 / 2.0 / 255.0;
            assert!((v[row * 3 + col] - want).abs() < 1e-6, "{v:?}");
        }
    }
    std::fs::remove_file(dir.join(&name)).unwrap();
    // RGB: one 3-channel example (`rgb`) or three consecutive channel images (`rgb-split`),
    // the same values; gray is Rec. 709 luma.
    let rgb = ImageBuffer::from_pixel(8, 8, Rgb([255u8, 0, 51]));
    let name = common::name_in(Split::Train, "c", "png");
    rgb.save(dir.join(&name)).unwrap();
    let src = Source::Folder(dir.clone());
    for (color, shape) in [
        (Color::Rgb, vec![1, 3, 8, 8]),
        (Color::RgbSplit, vec![3, 1, 8, 8]),
    ] {
        let colour = src
            .load(Split::Train, 1, &LoadOptions { color, ..opt(8) })
            .unwrap();
        assert_eq!(colour.images.size(), shape);
        let v = values(&colour.images);
        assert_eq!((v[0], v[64], v[128]), (1.0, 0.0, 0.2));
    }
    let gray = values(&src.load(Split::Train, 1, &opt(8)).unwrap().images);
    assert!(
        (gray[0] - (0.2126 + 0.0722 * 0.2)).abs() < 0.01,
        "{}",
        gray[0]
    );
    std::fs::remove_file(dir.join(&name)).unwrap();
    // JPEG decodes (lossy: a constant stays within a few levels).
    let name = common::name_in(Split::Train, "j", "jpg");
    ImageBuffer::from_pixel(16, 16, Luma([128u8]))
        .save(dir.join(&name))
        .unwrap();
    let v = values(&src.load(Split::Train, 1, &opt(8)).unwrap().images);
    assert!(
        v.iter().all(|p| (p - 128.0 / 255.0).abs() < 3.0 / 255.0),
        "{v:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The scikit-image sample photographs (`skimage_dir`, drawings left out) by file name, decoded
/// gray as `--data skimage` decodes them.
fn skimage_photographs() -> Vec<(String, Planes)> {
    let mut photos = Vec::new();
    for entry in std::fs::read_dir(skimage_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if SKIMAGE_NOT_PHOTOGRAPHS.contains(&name.as_str())
            || !ext.is_some_and(|e| ["png", "jpg", "jpeg"].contains(&e.as_str()))
        {
            continue;
        }
        photos.push((name, decode(&path, Color::Gray).unwrap()));
    }
    photos
}

/// For each gray `s x s` patch, the names of the photographs that hold it bit for bit at some
/// position. One pass over each photograph's positions, looking up their first four pixels
/// among the patches' (a full comparison only on a match): `O(h w)` per photograph.
fn photographs_holding<'a>(
    photos: &'a [(String, Planes)],
    patches: &[&[f32]],
    s: usize,
) -> Vec<Vec<&'a str>> {
    let key = |v: &[f32]| -> [u32; 4] { std::array::from_fn(|k| v[k].to_bits()) };
    let mut by_key: HashMap<[u32; 4], Vec<usize>> = HashMap::new();
    for (i, patch) in patches.iter().enumerate() {
        by_key.entry(key(patch)).or_default().push(i);
    }
    let mut holders = vec![Vec::new(); patches.len()];
    for (name, p) in photos.iter().filter(|(_, p)| p.h >= s && p.w >= s) {
        let at = |row: usize, col: usize| &p.data[row * p.w + col..row * p.w + col + s];
        for row in 0..=p.h - s {
            for col in 0..=p.w - s {
                for &i in by_key.get(&key(at(row, col))).into_iter().flatten() {
                    let same = (0..s).all(|r| at(row + r, col) == &patches[i][r * s..(r + 1) * s]);
                    if same && holders[i].last() != Some(&name.as_str()) {
                        holders[i].push(name.as_str());
                    }
                }
            }
        }
    }
    holders
}

#[test]
fn skimage_patches_are_split_by_photograph() {
    if !skimage_dir().is_dir() {
        // Fetched by `make bootstrap` (which `make test` runs first); say so rather than pass
        // silently when running `cargo test` on a machine without it.
        panic!(
            "{} is missing: run `make bootstrap` (scripts/bootstrap-skimage.sh)",
            skimage_dir().display()
        );
    }
    let o = opt(32);
    let train = Source::Skimage.load(Split::Train, 64, &o).unwrap();
    let test = Source::Skimage.load(Split::Test, 64, &o).unwrap();
    let validation = Source::Skimage.load(Split::Validation, 16, &o).unwrap();
    assert_eq!(train.images.size(), vec![64, 1, 32, 32]);
    // Nested and seeded.
    let again = Source::Skimage.load(Split::Train, 16, &o).unwrap();
    assert_eq!(
        values(&again.images),
        values(&train.images)[..16 * 1024].to_vec()
    );
    // Each patch is found in a photograph of its own split and in none of another split, so
    // the splits draw from different photographs (not only different patches of the same ones).
    let photos = skimage_photographs();
    let mut used = Vec::new();
    for (split, loaded) in [
        (Split::Train, &train),
        (Split::Validation, &validation),
        (Split::Test, &test),
    ] {
        let mut names = HashSet::new();
        let v = values(&loaded.images);
        let patches: Vec<&[f32]> = v.chunks(32 * 32).collect();
        for holders in photographs_holding(&photos, &patches, 32) {
            assert!(
                !holders.is_empty(),
                "{split:?}: a patch found in no photograph"
            );
            for name in holders {
                assert_eq!(
                    split_of(name),
                    split,
                    "a {split:?} patch comes from {name}, a photograph of another split"
                );
                names.insert(name.to_string());
            }
        }
        used.push(names);
    }
    assert!(used[0].len() >= 2, "training patches from {:?}", used[0]);
    assert!(
        used[0].is_disjoint(&used[1])
            && used[0].is_disjoint(&used[2])
            && used[1].is_disjoint(&used[2]),
        "photographs shared between splits: {used:?}"
    );
    let v = values(&test.images);
    assert!(v.iter().all(|p| (0.0..=1.0).contains(p)));
}
