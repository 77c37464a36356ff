//! Writing results: whole files appear atomically, so an interrupted run never leaves a partial
//! file behind, and with the permissions any other program would give them.
//!
//! Atomic replacement (a temporary file renamed over the path) is only right for regular files:
//! renaming over `/dev/stdout`, a FIFO or a symbolic link would replace the special file or the
//! link itself, and renaming over the file that standard output is redirected to (`--out
//! /dev/stdout >> log.txt`) would replace the log. [`write_atomic`] therefore looks at what the
//! path is first (see [`Target`]). [`check_writable`] and [`check_folder`] tell, before long
//! work, whether its output can be written at all; a temporary file is removed if the program
//! is interrupted while it exists ([`crate::interrupt`]).

use std::fs::{File, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The `--out` value that means standard output.
pub const STDOUT: &str = "-";

/// Mode requested for a new file; the kernel removes the process's umask bits from it (0644
/// under the usual umask 022), as for any file a shell redirection creates.
#[cfg(unix)]
const NEW_FILE_MODE: u32 = 0o666;

/// What a path names, and so how to write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Nothing yet: create a file atomically (mode 0666 minus the umask).
    New(PathBuf),
    /// A regular file, possibly reached through symbolic links (the path is the resolved file):
    /// replace it atomically, keeping its permissions; the links stay links.
    Regular(PathBuf),
    /// A character device, FIFO, socket or a dangling symbolic link: open it and write through
    /// it (no rename; not atomic, as nothing else is possible).
    Through(PathBuf),
    /// One of this process's open descriptors: `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`,
    /// `/proc/self/fd/N`, or any path to the very file that standard output or error is
    /// redirected to. Written through the descriptor at its own offset (after `>>`, an append),
    /// never reopened, truncated or renamed over.
    Descriptor(i32),
}

impl Target {
    /// Classifies `path` (one `lstat` and, for a link, one `stat`).
    ///
    /// # Errors
    /// The path is a folder, or cannot be examined.
    pub fn of(path: &Path) -> Result<Target> {
        if let Some(fd) = descriptor_alias(path) {
            return Ok(Target::Descriptor(fd));
        }
        let link = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Target::New(path.into())),
            Err(e) => return Err(e).with_context(|| format!("cannot examine {}", path.display())),
        };
        let is_link = link.file_type().is_symlink();
        let meta = if is_link {
            match std::fs::metadata(path) {
                Ok(m) => m,
                // A dangling link: opening it creates its target, as a redirection would.
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    return Ok(Target::Through(path.into()))
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot examine {}", path.display()))
                }
            }
        } else {
            link
        };
        if meta.is_dir() {
            bail!("{} is a folder, not a file", path.display());
        }
        if !meta.is_file() {
            return Ok(Target::Through(path.into()));
        }
        if let Some(fd) = [1, 2].into_iter().find(|&fd| same_file_as(&meta, fd)) {
            return Ok(Target::Descriptor(fd));
        }
        if is_link {
            let real = std::fs::canonicalize(path)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            return Ok(Target::Regular(real));
        }
        Ok(Target::Regular(path.into()))
    }
}

/// The descriptor that `path` names by its spelling: `/dev/stdin`, `/dev/stdout`,
/// `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`, `/proc/thread-self/fd/N` or
/// `/proc/<this process>/fd/N`.
fn descriptor_alias(path: &Path) -> Option<i32> {
    let s = path.to_str()?;
    match s {
        "/dev/stdin" => return Some(0),
        "/dev/stdout" => return Some(1),
        "/dev/stderr" => return Some(2),
        _ => {}
    }
    let own = format!("/proc/{}/fd/", std::process::id());
    let n = [
        "/dev/fd/",
        "/proc/self/fd/",
        "/proc/thread-self/fd/",
        own.as_str(),
    ]
    .into_iter()
    .find_map(|prefix| s.strip_prefix(prefix))?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// Whether `meta` is the file open on descriptor `fd` (same device and inode; Linux's
/// `/proc/self/fd`, elsewhere never).
fn same_file_as(meta: &std::fs::Metadata, fd: i32) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/self/fd/{fd}"))
        .is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
}

/// Creates `dir` and its missing parents; a dangling symbolic link on the way is named as such
/// (the system's answer, "File exists", names nothing).
///
/// # Errors
/// One line naming the folder that cannot be created, and why.
pub fn create_folder(dir: &Path) -> Result<()> {
    if let Some((link, target)) = dangling_link_on(dir) {
        bail!(
            "cannot create folder {}: {} is a link to {}, which does not exist",
            dir.display(),
            link.display(),
            target.display()
        );
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create folder {}: {}", dir.display(), io_reason(&e)))
}

/// The first dangling symbolic link among `dir` and its ancestors, and where it points.
fn dangling_link_on(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    dir.ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .find_map(|a| {
            let m = std::fs::symlink_metadata(a).ok()?;
            if m.file_type().is_symlink() && std::fs::metadata(a).is_err() {
                Some((a.to_path_buf(), std::fs::read_link(a).ok()?))
            } else {
                None
            }
        })
}

/// An I/O error's reason without the "(os error N)" suffix, so that a message chaining several
/// errors says it once ("No such file or directory"), and without the temporary file's name
/// that `tempfile` appends (" at path ...").
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    let end = [" (os error ", " at path "]
        .iter()
        .filter_map(|cut| text.find(cut))
        .min()
        .unwrap_or(text.len());
    text[..end].to_string()
}

/// Checks, before long work, that [`write_atomic`] will be able to write `path`: a new or
/// regular file needs a folder in which a file can be created (tried with a hidden file,
/// removed at once; missing folders are not created yet, their nearest existing ancestor is
/// tried); a descriptor must be open for writing; a device or FIFO is only opened at the end.
///
/// # Errors
/// One line naming `path` and what stands in the way.
pub fn check_writable(path: &Path) -> Result<()> {
    let why = match Target::of(path)? {
        Target::New(p) | Target::Regular(p) => probe_folder(&folder_of(&p)).err(),
        Target::Through(_) => None,
        Target::Descriptor(fd) => descriptor_writable(fd).err(),
    };
    match why {
        Some(why) => bail!("cannot write {}: {why}", path.display()),
        None => Ok(()),
    }
}

/// Checks, before long work, that [`emit`] will be able to write to `out`: a file as
/// [`check_writable`], standard output (no `--out`, or `--out -`) as [`check_stdout`].
///
/// # Errors
/// One line naming the output and what stands in the way.
pub fn check_emit(out: Option<&Path>) -> Result<()> {
    match out {
        Some(path) if path.as_os_str() != STDOUT => check_writable(path),
        _ => check_stdout(),
    }
}

/// Checks, before long work, that standard output is open: after `>&-` the results would be
/// lost.
///
/// # Errors
/// Standard output was closed at start.
pub fn check_stdout() -> Result<()> {
    if crate::stdio::stdout_closed() {
        bail!("cannot write to standard output: it is closed");
    }
    Ok(())
}

/// Checks, before long work, that files can be written into the folder `dir` (created later if
/// missing; then its nearest existing ancestor must take a new folder).
///
/// # Errors
/// One line naming `dir` and what stands in the way.
pub fn check_folder(dir: &Path) -> Result<()> {
    probe_folder(dir).map_err(|why| anyhow::anyhow!("cannot write into {}: {why}", dir.display()))
}

/// The folder a file `path` is written in (`.` for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Why nothing can be created in `dir`, if so: a dangling link or a file on the way, or the
/// nearest existing ancestor refuses a new hidden file (created and removed at once).
fn probe_folder(dir: &Path) -> std::result::Result<(), String> {
    if let Some((link, target)) = dangling_link_on(dir) {
        return Err(format!(
            "{} is a link to {}, which does not exist",
            link.display(),
            target.display()
        ));
    }
    let existing = dir
        .ancestors()
        .find(|a| a.as_os_str().is_empty() || std::fs::symlink_metadata(a).is_ok())
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .unwrap_or(Path::new("."));
    if !existing.is_dir() {
        return Err(format!("{} is not a folder", existing.display()));
    }
    tempfile::Builder::new()
        .prefix(".plateau-probe")
        .tempfile_in(existing)
        .map(drop)
        .map_err(|e| {
            format!(
                "cannot create a file in {}: {}",
                existing.display(),
                io_reason(&e)
            )
        })
}

/// Whether descriptor `fd` is open for writing (`fcntl(F_GETFL)`); 0 never is an output.
fn descriptor_writable(fd: i32) -> std::result::Result<(), String> {
    if fd == 0 {
        return Err("standard input is not an output".into());
    }
    if fd == 1 && crate::stdio::stdout_closed() {
        return Err("standard output is closed".into());
    }
    // SAFETY: F_GETFL only queries the descriptor's status flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags == -1 {
        return Err(format!("descriptor {fd} is not open"));
    }
    if flags & libc::O_ACCMODE == libc::O_RDONLY {
        return Err(format!("descriptor {fd} is open for reading only"));
    }
    Ok(())
}

/// Writes `bytes` to `path`. A new or regular file is written through a temporary file in the
/// same folder and a rename, so readers see either the old file or the complete new one; a new
/// file gets mode 0666 minus the umask, an existing one keeps its mode; a symbolic link to a
/// regular file replaces the file it points to and stays a link. A special file (FIFO, device) or
/// a dangling link is written through. Creates missing parent folders.
///
/// # Errors
/// The path is a folder, or a folder or file cannot be created or written (one line naming it).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    match Target::of(path)? {
        Target::New(p) => replace(&p, bytes, None),
        Target::Regular(p) => {
            let perms = std::fs::metadata(&p)
                .with_context(|| format!("cannot examine {}", p.display()))?
                .permissions();
            replace(&p, bytes, Some(perms))
        }
        Target::Through(p) => write_through(&p, bytes),
        Target::Descriptor(fd) => write_descriptor(fd, path, bytes),
    }
}

/// Writes `bytes` through this process's descriptor `fd` (a duplicate of it: same offset and
/// flags), standard output through [`write_stdout`].
fn write_descriptor(fd: i32, path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::fd::BorrowedFd;
    descriptor_writable(fd)
        .map_err(|why| anyhow::anyhow!("cannot write {}: {why}", path.display()))?;
    if fd == 1 {
        return write_stdout(bytes);
    }
    // SAFETY: `fd` was just found open (fcntl) and this program does not close it meanwhile.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut file = File::from(
        borrowed
            .try_clone_to_owned()
            .with_context(|| format!("cannot write {}", path.display()))?,
    );
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The temporary-file-and-rename write; `keep` is the mode of the file replaced, if any.
fn replace(path: &Path, bytes: &[u8], keep: Option<Permissions>) -> Result<()> {
    let dir = &folder_of(path);
    create_folder(dir)?;
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(Permissions::from_mode(NEW_FILE_MODE));
    }
    // The temporary file's own name is never shown: the error names the target.
    let mut tmp = builder.tempfile_in(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot write {}: cannot create a file in {}: {}",
            path.display(),
            dir.display(),
            io_reason(&e)
        )
    })?;
    let _pending = crate::interrupt::Pending::register(tmp.path());
    if let Some(perms) = keep {
        // Exactly the old mode, not masked by this process's umask.
        tmp.as_file()
            .set_permissions(perms)
            .with_context(|| format!("cannot set the permissions of {}", path.display()))?;
    }
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    hold_for_tests();
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Test hook: with `PLATEAU_TEST_HOLD_TEMP_MS=ms` in the environment, waits that long with the
/// complete temporary file in place before renaming it, so that a test can interrupt the
/// program at that moment (tests/cli_outputs.rs). Unset, it costs one environment lookup.
fn hold_for_tests() {
    if let Some(ms) = std::env::var_os("PLATEAU_TEST_HOLD_TEMP_MS")
        .and_then(|v| v.to_str().and_then(|v| v.parse::<u64>().ok()))
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Opens `path` (following links) and writes `bytes` into it.
fn write_through(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file: File = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `text` to `--out` when given (atomically for a regular file, see [`write_atomic`]),
/// else, or for `--out -`, to standard output.
///
/// # Errors
/// The file cannot be written, or standard output is closed for another reason than a reader
/// that went away (a broken pipe ends the program quietly, see [`write_stdout`]).
pub fn emit(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(path) if path.as_os_str() != STDOUT => write_atomic(path, text.as_bytes()),
        _ => write_stdout(text.as_bytes()),
    }
}

/// Writes `bytes` to standard output and flushes. When the reader has gone away (`plateau ... |
/// head -1`) the process exits at once with status 0, as `cat` and `ls` do (Rust ignores
/// SIGPIPE, so without this the write would fail or `println!` would panic).
///
/// # Errors
/// Standard output was closed at start ([`crate::stdio::guard`]), or any other write error
/// (a full disk).
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    check_stdout()?;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}

/// Progress of long work on standard error: an indicatif bar on a terminal; otherwise (a log
/// file, a Slurm job, CI) plain lines, `plateau: WHAT k/len, 12.3 s`, at most one per
/// [`Progress::PLAIN_EVERY`] plus the last, so logs show that work goes on; nothing when quiet.
///
/// `inc` may be called from any thread.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: Option<std::sync::Mutex<Plain>>,
}

struct Plain {
    what: String,
    len: u64,
    done: u64,
    start: std::time::Instant,
    last: Option<std::time::Instant>,
}

impl Progress {
    /// Least time between two plain progress lines.
    pub const PLAIN_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

    /// Progress over `len` steps of `what` (`quiet`: report nothing).
    pub fn new(len: u64, what: &str, quiet: bool) -> Progress {
        use std::io::IsTerminal;
        if quiet {
            return Progress {
                bar: None,
                plain: None,
            };
        }
        if std::io::stderr().is_terminal() {
            return Progress {
                bar: Some(progress(len, what)),
                plain: None,
            };
        }
        Progress {
            bar: None,
            plain: Some(std::sync::Mutex::new(Plain {
                what: what.to_string(),
                len,
                done: 0,
                start: std::time::Instant::now(),
                last: None,
            })),
        }
    }

    /// `n` more steps done.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
        if let Some(plain) = &self.plain {
            let mut p = plain
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            p.done += n;
            let now = std::time::Instant::now();
            let due = p.last.is_none_or(|t| now - t >= Self::PLAIN_EVERY);
            if due || p.done >= p.len {
                p.last = Some(now);
                eprintln!(
                    "plateau: {} {}/{}, {:.1} s",
                    p.what,
                    p.done,
                    p.len,
                    (now - p.start).as_secs_f64()
                );
            }
        }
    }

    /// Step `pos` of `len` reached, described by `line` (a terminal shows it beside the bar;
    /// a log gets it as one line, always: for a few long steps such as training epochs).
    pub fn step(&self, pos: u64, line: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(pos);
            bar.set_message(line.to_string());
        }
        if self.plain.is_some() {
            eprintln!("plateau: {line}");
        }
    }

    /// Removes the bar (plain lines need nothing).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A progress bar on standard error for `len` steps (hidden when stderr is not a terminal; see
/// [`Progress`] for work that must also report into logs).
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise} (eta {eta})",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_file_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, Permissions::from_mode(0o664)).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(mode(&p), 0o664);
    }

    /// A link to a file and a dangling link: each stays a link, and its target gets the bytes.
    #[test]
    fn a_link_stays_a_link_and_its_target_is_written() {
        for dangling in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("target.csv");
            let link = dir.path().join("link.csv");
            if !dangling {
                std::fs::write(&target, "old").unwrap();
            }
            std::os::unix::fs::symlink(&target, &link).unwrap();
            write_atomic(&link, b"new").unwrap();
            assert!(
                std::fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink(),
                "dangling: {dangling}"
            );
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        }
    }

    #[test]
    fn a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(dir.path(), b"x").unwrap_err();
        assert!(format!("{err:#}").contains("is a folder"), "{err:#}");
    }

    #[test]
    fn a_fifo_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"through").unwrap();
        assert_eq!(reader.join().unwrap(), b"through");
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
    }
}
