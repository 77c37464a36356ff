//! Making LibTorch's CUDA backend available to a `tch` binary.
//!
//! A plain `tch` binary links only `libtorch_cpu` and `libc10`: the linker drops
//! `libtorch_cuda.so` as unneeded (no symbol of it is referenced), so CUDA stays unavailable
//! even on a GPU machine. Linking it with `--no-as-needed` would make every start need the
//! whole CUDA stack (cuBLAS, cuDNN, ...), also on CPU-only machines. Instead, [`load`] opens it
//! with `dlopen(RTLD_NOW | RTLD_GLOBAL)` (through `libloading`) when a CUDA device is asked for; its static
//! initialisers then register the CUDA kernels with the dispatcher.
//!
//! Where the libraries come from at run time:
//! - `libtorch_cpu.so` and `libc10.so` are found by the dynamic loader when the binary starts.
//!   The binaries carry the LibTorch folder they were built against as `DT_RUNPATH` (not the
//!   older `DT_RPATH`; check with `readelf -d target/debug/plateau-train | grep -i path`), and
//!   the loader searches `LD_LIBRARY_PATH` *before* `DT_RUNPATH`: to run carried binaries
//!   against another LibTorch 2.11.0 (for example a CUDA wheel's `torch/lib`), put that folder
//!   on `LD_LIBRARY_PATH`.
//! - `libtorch_cuda.so` is opened by [`load`]: from `$PLATEAU_LIBTORCH_LIB` when that is set
//!   (and only from there, so a wrong folder is an error rather than a silent fallback), else
//!   from `$LIBTORCH/lib` (environment, then as compiled in), then by the loader's search path.

use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};

/// The LibTorch root this crate was compiled against (from `.cargo/config.toml`), if known.
const LIBTORCH: Option<&str> = option_env!("LIBTORCH");

/// Folder whose `libtorch_cuda.so` [`load`] opens instead of the compiled-in one.
pub const LIB_ENV: &str = "PLATEAU_LIBTORCH_LIB";

/// The paths [`load`] tries, in order: `lib_override/libtorch_cuda.so` alone when an override
/// folder is given; else `root/lib/libtorch_cuda.so` for the LibTorch root (the `LIBTORCH`
/// environment variable, else the compiled-in one), then the bare name for the loader's search
/// path (`LD_LIBRARY_PATH`, the binary's run path).
pub fn candidates(
    lib_override: Option<&str>,
    root_env: Option<&str>,
    root_compiled: Option<&str>,
) -> Vec<String> {
    if let Some(lib) = lib_override {
        return vec![format!("{}/libtorch_cuda.so", lib.trim_end_matches('/'))];
    }
    let mut v = Vec::new();
    if let Some(root) = root_env.or(root_compiled) {
        v.push(format!(
            "{}/lib/libtorch_cuda.so",
            root.trim_end_matches('/')
        ));
    }
    v.push("libtorch_cuda.so".to_string());
    v
}

/// Loads `libtorch_cuda.so` from the first of [`candidates`] that opens.
///
/// # Errors
/// The loader's message for each candidate when none works (library missing, or its CUDA
/// dependencies such as cuBLAS or cuDNN are not installed).
pub fn load() -> anyhow::Result<()> {
    let var = |name: &str| std::env::var_os(name).map(|p| p.to_string_lossy().into_owned());
    let (lib, root) = (var(LIB_ENV), var("LIBTORCH"));
    let candidates = candidates(lib.as_deref(), root.as_deref(), LIBTORCH);
    let mut errors = Vec::new();
    for name in &candidates {
        // SAFETY: loading runs the library's static initialisers, which is the point (they
        // register the CUDA kernels); libtorch_cuda.so is built to be loaded this way.
        match unsafe { Library::open(Some(name), RTLD_NOW | RTLD_GLOBAL) } {
            Ok(lib) => {
                // Kept open for the life of the process: the dispatcher holds its kernels.
                std::mem::forget(lib);
                return Ok(());
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    anyhow::bail!(
        "cannot load LibTorch's CUDA library libtorch_cuda.so ({})",
        errors.join("; ")
    )
}

/// Parses a device name (`cpu`, `cuda`, `cuda:N`), loading the CUDA library first when a CUDA
/// device is named, and checks that LibTorch can use it.
pub fn device(name: &str) -> anyhow::Result<tch::Device> {
    // Syntax first (as if any number of GPUs were visible), so a typo is not reported as a
    // loader error.
    let parsed = crate::device::choose_with_cuda_count(name, usize::MAX)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if parsed.is_cuda() {
        load()?;
    }
    crate::device::choose(name).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_override_folder_is_the_only_candidate() {
        assert_eq!(
            candidates(Some("/opt/torch/lib/"), Some("/env"), Some("/built")),
            vec!["/opt/torch/lib/libtorch_cuda.so"]
        );
        assert_eq!(
            candidates(None, Some("/env"), Some("/built")),
            vec!["/env/lib/libtorch_cuda.so", "libtorch_cuda.so"]
        );
        assert_eq!(
            candidates(None, None, Some("/built")),
            vec!["/built/lib/libtorch_cuda.so", "libtorch_cuda.so"]
        );
        assert_eq!(candidates(None, None, None), vec!["libtorch_cuda.so"]);
    }
}
