//! Bakes the LibTorch library folder into the run path of the `plateau` binary and tests, as
//! `experiments/build.rs` does for its own package (`cargo:rustc-link-arg` only applies to the
//! targets of the package whose build script emits it), and tells the binary where that folder
//! is (`PLATEAU_LIBTORCH_LIB`) so `--device cuda` can load `libtorch_cuda.so` at start-up.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_LIB");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let Some(root) = env::var_os("LIBTORCH_LIB").or_else(|| env::var_os("LIBTORCH")) else {
        return;
    };
    let lib = PathBuf::from(root).join("lib");
    let lib = lib.canonicalize().unwrap_or(lib);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    println!("cargo:rustc-env=PLATEAU_LIBTORCH_LIB={}", lib.display());
}
