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
//! over day", has what it saves. The server binary's own allocations are mimalloc's
//! (server/src/main.rs): [`give_back`] has it purge its freed pages too (`mi_collect`), which
//! it does on every platform; glibc's part does nothing elsewhere.

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

/// Returns the allocators' free pages to the system; the resident size afterwards, for the log.
///
/// The server binary's Rust allocations are mimalloc's (server/src/main.rs): `mi_collect(true)`
/// frees this thread's empty pages and purges every arena's free memory now, rather than after
/// mimalloc's purge delay, which runs only when some thread next allocates (an idle server
/// would keep a day's freed pages). glibc's `malloc_trim` is for what the C libraries (SQLite,
/// zstd) and the tests' allocations took from glibc.
pub(crate) fn give_back() -> Option<u64> {
    // SAFETY: `mi_collect` takes no pointers; it collects the calling thread's own heap and
    // purges the shared arenas under their own atomics, from any thread.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
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

#[cfg(test)]
mod tests {
    use std::ffi::c_void;

    /// What `give_back` must return to the system of what mimalloc held: at least three
    /// quarters (other tests of this binary allocate meanwhile, from glibc).
    const FREED: usize = 256 << 20;

    /// Blocks freed to mimalloc leave the process's resident memory as soon as the server
    /// gives memory back, not after mimalloc's purge delay (server/src/main.rs: the done-when
    /// of issue 15's item 6 is met only so).
    #[test]
    fn gives_back_what_mimalloc_freed() {
        const BLOCK: usize = 1024;
        // SAFETY: each block is mimalloc's, written within its size, freed once below.
        let blocks: Vec<*mut c_void> = (0..FREED / BLOCK)
            .map(|_| unsafe {
                let block = libmimalloc_sys::mi_malloc(BLOCK);
                assert!(!block.is_null());
                block.cast::<u8>().write_bytes(1, BLOCK);
                block
            })
            .collect();
        let Some(held) = crate::telemetry::resident_bytes() else {
            return; // no /proc: nothing to read the resident size from
        };
        for block in blocks {
            // SAFETY: allocated by `mi_malloc` above, not freed before.
            unsafe { libmimalloc_sys::mi_free(block) };
        }
        let after = super::give_back().unwrap_or(held);
        let given = held.saturating_sub(after);
        assert!(
            given >= (FREED as u64) / 4 * 3,
            "gave back {given} of {FREED} bytes (resident {held} -> {after})"
        );
    }
}
