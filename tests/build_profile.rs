//! The test build's profile (`Cargo.toml`, `[profile.dev.package]`) leaves unoptimised only
//! crates that no test runs: proc macros and what build scripts use. A crate that the tests
//! also run would be slow itself, and at opt-level 0 or 1 it shares its unoptimised copies of
//! generic functions with our crates (faer-heavy fits ran 2.5 to 3 times slower when faer's
//! unused `f32` and complex kernels were left unoptimised).

use std::collections::BTreeSet;
use std::process::Command;

/// Crates below opt-level 2 by design although cargo lists them as linked: their Rust is
/// `extern` declarations around C and C++ that they build at -O0 on purpose (see the comment in
/// `Cargo.toml`).
const FFI_DECLARATIONS: [&str; 3] = ["torch-sys", "zstd-sys", "bzip2-sys"];

/// The `[profile.dev.package]` entries below opt-level 2.
fn unoptimised() -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("the workspace manifest");
    let table: toml::Table = manifest.parse().expect("Cargo.toml parses");
    let packages = table["profile"]["dev"]["package"]
        .as_table()
        .expect("[profile.dev.package] is a table");
    packages
        .iter()
        .filter(|(_, v)| v.get("opt-level").and_then(|o| o.as_integer()).unwrap_or(3) < 2)
        .map(|(name, _)| name.clone())
        .collect()
}

/// Every crate that a test or a binary of the workspace links (its normal and dev
/// dependencies, proc macros and build dependencies left out). The benchmark package is built
/// with the release profile, which has no such overrides.
fn linked() -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--workspace",
            "--exclude",
            "plateau-theory-bench",
            "--edges",
            "normal,dev,no-proc-macro",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "--offline",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

#[test]
fn crates_left_unoptimised_in_test_builds_are_not_linked_into_tests() {
    let unoptimised = unoptimised();
    // The list is not empty (the parse found the section): proc macros are in it.
    assert!(unoptimised.contains("syn"), "{unoptimised:?}");
    let linked = linked();
    assert!(linked.contains("faer"), "cargo tree listed {linked:?}");
    let wrong: Vec<&String> = unoptimised
        .iter()
        .filter(|c| linked.contains(*c) && !FFI_DECLARATIONS.contains(&c.as_str()))
        .collect();
    assert!(
        wrong.is_empty(),
        "linked into tests or binaries but below opt-level 2 in [profile.dev.package]: {wrong:?}"
    );
}
