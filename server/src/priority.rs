//! Thread priorities: work nobody watches happen yields the cores to work the floor waits on.
//!
//! The recorder thread is the serial part of ingest (docs/ARCHITECTURE.md, "The path of one
//! event"): every event is journaled, marked and applied there, in order, and a replay or a
//! busy floor keeps both cores of a small machine full. The history thread merges closed
//! quarter-hours into SQLite after the fact: nothing is acknowledged on it, a drill-down reads
//! its unwritten closes from memory, and a report or a checkpoint that needs the store waits
//! for it explicitly (`HistorySender::flush`). When the two compete for a core the recorder
//! should win; when the machine is idle a lower priority changes nothing (the scheduler shares
//! only what is contended). BENCHMARKS.md, "Ninth pass: priorities", has what it buys.

/// The nice value of [`lower_this_thread`]: the scheduler gives a thread at +5 about a third
/// of the weight of one at 0 (CFS weights 335 against 1024), so a contended history thread
/// still gets a quarter of a core and never starves.
const BACKGROUND_NICE: i32 = 5;

/// Lowers the calling thread's priority to [`BACKGROUND_NICE`], for a thread whose work may lag
/// (see the module doc). Failing to is logged and otherwise harmless: the thread runs as before.
pub(crate) fn lower_this_thread(thread: &'static str) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `gettid` takes nothing; `setpriority` takes integers. On Linux, with
        // `PRIO_PROCESS` and a thread id, it sets that thread's nice value alone (setpriority(2),
        // "BUGS": threads do not share a nice value).
        let set = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, BACKGROUND_NICE)
        };
        if set != 0 {
            let error = std::io::Error::last_os_error();
            tracing::warn!(thread, %error, "could not lower the thread's priority");
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = thread;
}

/// The calling thread's nice value (for the tests).
#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
fn this_thread_nice() -> i32 {
    // SAFETY: as in `lower_this_thread`; `getpriority` may return -1 as a value, which the
    // test's range of 0..=19 never is.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    #[test]
    fn a_lowered_thread_runs_nicer_and_the_others_do_not() {
        let before = this_thread_nice();
        let lowered = std::thread::spawn(|| {
            let before = this_thread_nice();
            lower_this_thread("test");
            (before, this_thread_nice())
        })
        .join()
        .unwrap();
        // Raising the priority back is not allowed without privileges: the nice value only
        // goes up, by our constant, or stays at the top if the tests already run at it.
        assert_eq!(lowered.1, (lowered.0 + BACKGROUND_NICE).min(19));
        assert_eq!(
            this_thread_nice(),
            before,
            "only the calling thread is lowered"
        );
    }
}
