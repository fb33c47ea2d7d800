//! Giving freed memory back to the system (issue 15: RSS flat day over day, under 250 MB).
//!
//! glibc's allocator keeps what a program frees for its next allocations: after a checkpoint
//! (tens of MB encoded, copied and compressed, then freed) or a day's close (a day of seen ids
//! dropped), the process's RSS stays at its high-water mark though the heap holds far less,
//! and a large block freed raises the allocator's mmap threshold, so the next ones come from
//! the heap and stay there too. [`give_back`] asks glibc to return the free pages
//! (`malloc_trim`): the checkpoint thread calls it after each write, the start once the floor
//! is restored, and [`give_back_every`] every [`PERIOD`] besides (a day's close or a burst of
//! live clients frees memory between checkpoints). BENCHMARKS.md, "The journal and memory day
//! over day", has what it saves. On other platforms it does nothing.

use std::time::Duration;

use crate::shutdown::Shutdown;

/// How often [`give_back_every`] trims: a trim walks the heaps' free memory only, cheap at
/// this pace, and a day's close or a checkpoint is given back within half a minute.
pub(crate) const PERIOD: Duration = Duration::from_secs(30);

/// Blocks this large or larger are mapped on their own (and unmapped when freed) rather than
/// carved from the heap: a checkpoint's buffers, a day's seen-id table, the engine's big maps.
/// Fixing the threshold also stops glibc raising it (to 32 MB) after the first large block is
/// freed, which left those buffers in the heap for good.
const MMAP_THRESHOLD: i32 = 1 << 20;
/// Heaps the allocator may create (glibc's default: eight per core); a few suffice for
/// the recorder, the checkpoint thread and the runtime's workers, and each heap is another
/// place for freed memory to sit in.
const ARENAS: i32 = 4;

/// Sets the allocator up for a server that runs for weeks (see [`MMAP_THRESHOLD`] and
/// [`ARENAS`]): called first thing in `crate::app::run`, before the floor is built.
pub(crate) fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` takes two integers; glibc applies them under its own lock (mallopt(3)).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

/// Returns the allocator's free pages to the system; the resident size afterwards, for the log.
pub(crate) fn give_back() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointers and touches only free memory; it locks each of
    // glibc's arenas in turn and may be called from any thread at any time (malloc_trim(3)).
    unsafe {
        libc::malloc_trim(0);
    }
    crate::telemetry::resident_bytes()
}

/// Calls [`give_back`] every `period` (on a blocking thread: it takes the allocator's locks)
/// until shutdown.
pub(crate) async fn give_back_every(period: Duration, mut shutdown: Shutdown) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = shutdown.recv() => return,
        }
        let _ = tokio::task::spawn_blocking(give_back).await;
    }
}
