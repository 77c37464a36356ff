//! Making LibTorch's CUDA backend available to a `tch` binary.
//!
//! A plain `tch` binary links only `libtorch_cpu` and `libc10`: the linker drops
//! `libtorch_cuda.so` as unneeded (no symbol of it is referenced), so CUDA stays unavailable
//! even on a GPU machine. Linking it with `--no-as-needed` would make every start need the
//! whole CUDA stack (cuBLAS, cuDNN, ...), also on CPU-only machines. Instead, [`load`] opens it
//! with `dlopen(RTLD_NOW | RTLD_GLOBAL)` when a CUDA device is asked for; its static
//! initialisers then register the CUDA kernels with the dispatcher.

use std::ffi::{CStr, CString};

/// The LibTorch root this crate was compiled against (from `.cargo/config.toml`), if known.
const LIBTORCH: Option<&str> = option_env!("LIBTORCH");

/// Loads `libtorch_cuda.so`: first from `$LIBTORCH/lib` as compiled in, then by the loader's
/// search path (the binary's run path, `LD_LIBRARY_PATH`).
///
/// # Errors
/// The loader's message when neither works (library missing, or its CUDA dependencies such as
/// cuBLAS or cuDNN are not installed).
pub fn load() -> anyhow::Result<()> {
    let mut candidates = Vec::new();
    if let Some(root) = std::env::var_os("LIBTORCH")
        .map(|p| p.to_string_lossy().into_owned())
        .or(LIBTORCH.map(String::from))
    {
        candidates.push(format!("{root}/lib/libtorch_cuda.so"));
    }
    candidates.push("libtorch_cuda.so".to_string());
    let mut errors = Vec::new();
    for name in &candidates {
        let c = CString::new(name.as_str())?;
        // SAFETY: dlopen with a valid NUL-terminated path; the handle is intentionally kept
        // open for the life of the process.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if !handle.is_null() {
            return Ok(());
        }
        // SAFETY: dlerror returns a thread-local C string or null.
        let err = unsafe { libc::dlerror() };
        let msg = if err.is_null() {
            "unknown error".to_string()
        } else {
            unsafe { CStr::from_ptr(err) }
                .to_string_lossy()
                .into_owned()
        };
        errors.push(msg);
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
