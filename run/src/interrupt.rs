//! Temporary files removed when the program is interrupted.
//!
//! [`crate::files::write_atomic`] writes a hidden temporary file next to its target and renames
//! it; killed by SIGINT, SIGTERM or SIGHUP in between, the program used to leave the temporary
//! file behind (27 MB seen). While such a file exists it is registered here ([`Pending`]); on
//! one of those signals a handler removes every registered file and the program then dies of
//! the same signal, as it would have without the handler. SIGKILL cannot be caught.
//!
//! The handler may only make async-signal-safe calls, so the registry is a fixed table of
//! path buffers ([`SLOTS`] files at once, paths below [`MAX_PATH`] bytes; a file beyond either
//! is simply not registered) marked ready by an atomic flag, and the handler calls `unlink`.
//! A signal that was ignored when the handler would be installed (`nohup`) stays ignored, and
//! a handler someone else installed is left in place.

use std::cell::UnsafeCell;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Once;

/// Temporary files that can be registered at once.
pub const SLOTS: usize = 16;

/// Longest registered path in bytes, its NUL included.
pub const MAX_PATH: usize = 4096;

/// The signals after which registered files are removed.
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

const FREE: u8 = 0;
const FILLING: u8 = 1;
const ARMED: u8 = 2;

/// One registered path: `state` says whether `path` holds a complete NUL-terminated path.
struct Slot {
    state: AtomicU8,
    path: UnsafeCell<[u8; MAX_PATH]>,
}

// SAFETY: `path` is written only by the thread that moved `state` from FREE to FILLING, and
// read (by the handler) only while `state` is ARMED.
unsafe impl Sync for Slot {}

static TABLE: [Slot; SLOTS] = [const {
    Slot {
        state: AtomicU8::new(FREE),
        path: UnsafeCell::new([0; MAX_PATH]),
    }
}; SLOTS];

static INSTALL: Once = Once::new();

/// A temporary file that the signal handler removes if the program is interrupted; dropping it
/// unregisters the file (after it was renamed into place or deleted).
#[must_use = "the file is unregistered when this is dropped"]
pub struct Pending {
    slot: Option<usize>,
}

impl Pending {
    /// Registers `path` (installing the handlers on first use). `O(SLOTS + path length)`.
    pub fn register(path: &Path) -> Pending {
        INSTALL.call_once(install);
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        if bytes.len() >= MAX_PATH || bytes.contains(&0) {
            return Pending { slot: None };
        }
        let slot = TABLE.iter().position(|s| {
            s.state
                .compare_exchange(FREE, FILLING, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        });
        if let Some(i) = slot {
            // SAFETY: this thread owns the slot (FILLING) until it stores ARMED.
            let buf = unsafe { &mut *TABLE[i].path.get() };
            buf[..bytes.len()].copy_from_slice(bytes);
            buf[bytes.len()] = 0;
            TABLE[i].state.store(ARMED, Ordering::Release);
        }
        Pending { slot }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            TABLE[i].state.store(FREE, Ordering::Release);
        }
    }
}

/// Removes every registered file, then lets the signal take its default course (the handler
/// was installed with `SA_RESETHAND`, and the signal is blocked while it runs, so the raised
/// one is delivered on return and ends the program as an unhandled one would).
extern "C" fn on_signal(sig: libc::c_int) {
    for slot in &TABLE {
        if slot.state.load(Ordering::Acquire) == ARMED {
            // SAFETY: an ARMED slot holds a NUL-terminated path; unlink is async-signal-safe.
            unsafe { libc::unlink(slot.path.get().cast::<libc::c_char>()) };
        }
    }
    // SAFETY: raise is async-signal-safe.
    unsafe { libc::raise(sig) };
}

/// Installs [`on_signal`] for [`SIGNALS`] that still have their default action.
fn install() {
    for sig in SIGNALS {
        // SAFETY: sigaction with a zeroed struct reads the current action; the new action's
        // handler is an `extern "C" fn(c_int)`, as `sa_sigaction` without SA_SIGINFO expects.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction != libc::SIG_DFL
            {
                continue;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            new.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(sig, &new, std::ptr::null_mut());
        }
    }
}

/// The paths registered now (for tests).
#[cfg(test)]
fn armed() -> Vec<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    TABLE
        .iter()
        .filter(|s| s.state.load(Ordering::Acquire) == ARMED)
        .map(|s| {
            // SAFETY: read while ARMED, in a test that registers from one thread.
            let buf = unsafe { &*s.path.get() };
            let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
            std::ffi::OsStr::from_bytes(&buf[..end]).into()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_path_is_armed_until_dropped() {
        let p = Path::new("/nonexistent/plateau-interrupt-test/.tmpABC");
        let pending = Pending::register(p);
        assert!(armed().iter().any(|a| a == p));
        drop(pending);
        assert!(!armed().iter().any(|a| a == p));
        // Too long a path is not registered (and does not fail).
        let long = "x".repeat(MAX_PATH);
        let none = Pending::register(Path::new(&long));
        assert!(none.slot.is_none());
    }
}
