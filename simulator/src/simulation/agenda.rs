//! The agenda: timed actions worked through in time order, ties in the order they were
//! scheduled (so a seed gives the same day, event for event).

use std::cmp::Ordering;

use floorwatch_core::{Millis, NotReadyReason};

/// An action on the agenda. Entries compare by time, then by the order they were scheduled in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) at: Millis,
    pub(super) order: u64,
    pub(super) action: Action,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

/// Things that happen at a time. Actions about an agent's current activity carry the agent's
/// `turn` when they were scheduled; one whose turn has passed (the caller hung up while it
/// rang, say) is dropped.
#[derive(Debug, Clone, Copy)]
pub(super) enum Action {
    Arrival {
        queue: usize,
    },
    IvrDone {
        call: usize,
    },
    SignIn {
        agent: usize,
    },
    ShiftEnd {
        agent: usize,
    },
    NotReadyDue {
        agent: usize,
        reason: NotReadyReason,
        length: Millis,
    },
    NotReadyEnd {
        agent: usize,
        turn: u32,
    },
    RingEnd {
        agent: usize,
        turn: u32,
    },
    HoldStart {
        agent: usize,
        turn: u32,
    },
    HoldEnd {
        agent: usize,
        turn: u32,
    },
    TalkEnd {
        agent: usize,
        turn: u32,
    },
    AfterCallWorkEnd {
        agent: usize,
        turn: u32,
    },
    Abandon {
        call: usize,
        leg: u32,
    },
    TimeOut {
        call: usize,
        leg: u32,
    },
    LogoutWave {
        wave: usize,
    },
    ComeBack {
        agent: usize,
    },
    CloseDay,
}
