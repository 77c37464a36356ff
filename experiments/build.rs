//! Bakes the LibTorch library folder into the run path of this package's
//! binaries, tests, examples and benches, so they run without LD_LIBRARY_PATH.
//!
//! torch-sys adds `-L $LIBTORCH/lib` at link time but no run path, and cargo only
//! puts search paths inside `target/` on LD_LIBRARY_PATH. LIBTORCH comes from
//! `.cargo/config.toml` (or the environment).
//!
//! `cargo:rustc-link-arg` only applies to the targets of the package whose build
//! script emits it. When the root package `plateau` (or any other package with a
//! binary) links tch through this crate, it needs the same build script.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_LIB");

    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    // Same precedence as torch-sys: LIBTORCH_LIB overrides LIBTORCH for the libraries.
    let Some(root) = env::var_os("LIBTORCH_LIB").or_else(|| env::var_os("LIBTORCH")) else {
        return; // torch-sys will explain what is missing
    };
    let lib = PathBuf::from(root).join("lib");
    // The run path must be absolute: tests run from the package directory.
    let lib = lib.canonicalize().unwrap_or(lib);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
}
