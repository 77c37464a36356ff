//! The standard streams, made safe to write: a message that cannot be written never panics,
//! and a closed standard output is an error instead of a silent loss.
//!
//! Rust's `eprintln!` / `println!` panic when the write fails (`2>/dev/full`, a reader that went
//! away), which ends the program with status 101 whatever it was doing; and when a stream is
//! closed (`>&-`) std quietly drops everything written to it. So:
//!
//! - [`guard`] runs first in both binaries: a closed standard output is remembered
//!   ([`stdout_closed`]) so that writing results to it fails with one line;
//! - [`note`] writes a line to standard error and drops it when it cannot be written: the
//!   program goes on and ends with its own exit status. The crates' `eprintln!` is this
//!   (a `macro_rules!` at each crate root shadows std's).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether descriptor 1 was closed when the program started ([`guard`]).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether descriptor 1 was closed when the process image started, seen by
/// [`check_stdout_at_exec`] before Rust's runtime reopens it.
static STDOUT_CLOSED_AT_EXEC: AtomicBool = AtomicBool::new(false);

/// Runs from `.init_array`, before `main` and before Rust's runtime puts `/dev/null` on a
/// closed descriptor 0, 1 or 2 (which it does in `lang_start`, so that after it a closed
/// standard output cannot be told from one a parent deliberately opened on `/dev/null`, as
/// Python's `subprocess.DEVNULL`, `nohup` and service managers do). Async-signal-safe: one
/// `fcntl` and an atomic store.
extern "C" fn check_stdout_at_exec() {
    // SAFETY: F_GETFL only queries the descriptor's status flags.
    if unsafe { libc::fcntl(1, libc::F_GETFL) } == -1 {
        STDOUT_CLOSED_AT_EXEC.store(true, Ordering::Relaxed);
    }
}

#[used]
#[link_section = ".init_array"]
static CHECK_STDOUT_AT_EXEC: extern "C" fn() = check_stdout_at_exec;

/// Remembers whether standard output was closed when the program started, and makes sure
/// descriptors 0, 1 and 2 are open (on `/dev/null`), so that no file the program opens later
/// takes their number. Call it first in `main`. A few system calls.
///
/// Whether descriptor 1 was closed is read before Rust's runtime started
/// (`check_stdout_at_exec`); a standard output on `/dev/null`, opened read-write or not, is
/// the caller's choice to discard the output and is kept.
pub fn guard() {
    // The constructor's static is referenced so that the linker keeps it in every binary.
    std::hint::black_box(&CHECK_STDOUT_AT_EXEC);
    if STDOUT_CLOSED_AT_EXEC.load(Ordering::Relaxed) {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
    for fd in 0..=2 {
        // SAFETY: F_GETFL only queries the descriptor's status flags.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags != -1 {
            continue;
        }
        if fd == 1 {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        }
        let mode = if fd == 0 {
            libc::O_RDONLY
        } else {
            libc::O_WRONLY
        };
        // SAFETY: a NUL-terminated path; open returns the lowest free descriptor, which is `fd`
        // (the lower ones are open, or were opened by this loop).
        let null = unsafe { libc::open(c"/dev/null".as_ptr(), mode) };
        if null >= 0 && null != fd {
            // SAFETY: both descriptors are this process's; `null` is ours to close.
            unsafe {
                libc::dup2(null, fd);
                libc::close(null);
            }
        }
    }
}

/// Whether standard output was closed at start (`plateau ... >&-`): results written to it
/// would be lost, so [`crate::files::write_stdout`] refuses.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Writes `args` and a newline to standard error, dropping them when they cannot be written
/// (a full disk, a closed pipe): a message must not end the program (std's `eprintln!` panics).
pub fn note(args: fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_fmt(format_args!("{args}\n"))
        .and_then(|()| err.flush());
}

/// [`note`] without the newline (std's `eprint!`).
pub fn note_part(args: fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.flush());
}
