//! Frame order: every frame must be one `seq` after the last, or the client resubscribes for a
//! fresh snapshot.

use floorwatch_core::wire::LiveFrame;

/// What to do with an incoming frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The next frame in order: apply it.
    Apply,
    /// A frame sent before the snapshot we are waiting for: its contents are superseded.
    Ignore,
    /// A frame is missing: send the subscription again and wait for a fresh snapshot.
    Resync,
}

/// Checks that frames arrive one `seq` after another (wire.rs: "a client that sees a gap sends
/// its subscription again and gets a fresh snapshot").
#[derive(Debug, Clone, Default)]
pub struct FrameOrder {
    next: Option<u64>,
    awaiting_snapshot: bool,
}

impl FrameOrder {
    /// Called whenever a `Subscribe` goes out: only a snapshot is meaningful until it answers.
    pub fn subscribed(&mut self) {
        self.awaiting_snapshot = true;
    }

    /// What to do with `frame`, given the frames before it.
    pub fn check(&mut self, frame: &LiveFrame) -> Verdict {
        let seq = frame.seq();
        match frame {
            LiveFrame::Snapshot { .. } => {
                self.next = Some(seq.wrapping_add(1));
                self.awaiting_snapshot = false;
                Verdict::Apply
            }
            // A refusal is shown whatever came before it.
            LiveFrame::Error { .. } => {
                self.next = Some(seq.wrapping_add(1));
                Verdict::Apply
            }
            LiveFrame::Delta { .. } | LiveFrame::Heartbeat { .. } => {
                if self.awaiting_snapshot {
                    self.next = Some(seq.wrapping_add(1));
                    return Verdict::Ignore;
                }
                if self.next == Some(seq) {
                    self.next = Some(seq.wrapping_add(1));
                    Verdict::Apply
                } else {
                    self.awaiting_snapshot = true;
                    Verdict::Resync
                }
            }
        }
    }
}
