//! Runtime dispatch of the division- and reduction-bound inner loops to the best SIMD
//! instruction set of the CPU.
//!
//! Each path can be forced, so that the ones a machine would not pick still run and are tested
//! (`simd::tests`, `theory/tests/structured_engine.rs`): the environment variable
//! `PLATEAU_SIMD=portable|avx2|avx512` caps the level for the whole process (read once; a
//! level above the CPU's is capped at the CPU's), and [`with_level`] caps it on the calling
//! thread for the duration of a closure.

use std::cell::Cell;
use std::sync::OnceLock;

/// An instruction-set level of the hand-written kernels, ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Level {
    /// The baseline target (SSE2 on x86-64), no intrinsics.
    Portable,
    /// AVX2 and FMA.
    Avx2,
    /// AVX-512 F and DQ (and AVX2, FMA).
    Avx512,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 3] = [Level::Portable, Level::Avx2, Level::Avx512];

    /// The name `PLATEAU_SIMD` takes.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The best level this CPU supports.
pub fn detected() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            return Level::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Level::Avx2;
        }
    }
    Level::Portable
}

/// The process-wide cap from `PLATEAU_SIMD` (`None` when unset; an unknown value is ignored
/// with one line on stderr, since a numerical library must not abort on it).
fn env_cap() -> Option<Level> {
    static CAP: OnceLock<Option<Level>> = OnceLock::new();
    *CAP.get_or_init(|| {
        let v = std::env::var("PLATEAU_SIMD").ok()?;
        let found = Level::ALL.into_iter().find(|l| l.name() == v.trim());
        if found.is_none() {
            eprintln!(
                "plateau: warning: PLATEAU_SIMD={v} is not portable, avx2 or avx512; ignored"
            );
        }
        found
    })
}

thread_local! {
    static THREAD_CAP: Cell<Option<Level>> = const { Cell::new(None) };
}

/// The level the kernels run at on this thread: the CPU's, capped by `PLATEAU_SIMD` and by
/// [`with_level`]. Cost: a thread-local read and cached feature tests.
pub fn level() -> Level {
    let mut l = detected();
    if let Some(cap) = env_cap() {
        l = l.min(cap);
    }
    if let Some(cap) = THREAD_CAP.with(Cell::get) {
        l = l.min(cap);
    }
    l
}

/// Runs `f` with the kernels of the calling thread capped at `cap` (work `f` sends to other
/// threads is not affected: use sequential linear algebra inside). Restores the previous cap.
pub fn with_level<T>(cap: Level, f: impl FnOnce() -> T) -> T {
    let previous = THREAD_CAP.with(|c| c.replace(Some(cap)));
    let out = f();
    THREAD_CAP.with(|c| c.set(previous));
    out
}

/// Defines `fn $name(args) -> ret` whose body is compiled three times, for AVX-512, for AVX2 +
/// FMA and for the baseline, and runs the best version this CPU supports, so that the
/// division-bound loops inlined into it are vectorised. The loops keep a fixed order of
/// operations (explicit accumulators, no contraction into FMA), so all versions give
/// bit-identical results (tested by forcing each, [`with_level`]).
macro_rules! simd_kernel {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) -> $ret {
            #[inline(always)]
            fn generic($($arg: $ty),*) -> $ret $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
                fn v4($($arg: $ty),*) -> $ret {
                    generic($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn v3($($arg: $ty),*) -> $ret {
                    generic($($arg),*)
                }
                let level = $crate::simd::level();
                if level >= $crate::simd::Level::Avx512 {
                    // SAFETY: the CPU supports the features `v4` is compiled for.
                    return unsafe { v4($($arg),*) };
                }
                if level >= $crate::simd::Level::Avx2 {
                    // SAFETY: the CPU supports the features `v3` is compiled for.
                    return unsafe { v3($($arg),*) };
                }
            }
            generic($($arg),*)
        }
    };
}

pub(crate) use simd_kernel;
