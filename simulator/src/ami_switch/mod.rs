//! A fake Asterisk switch, without the sockets: the simulated day as the AMI events a switch
//! would raise, the switch's state that answers QueueStatus, manager sessions, and where the
//! links drop. `floorwatch-sim ami-server` puts a TCP listener and a clock around it.
//!
//! ```no_run
//! use floorwatch_sim::ami_switch::{AfterCallWork, AmiDay};
//! use floorwatch_sim::{Scenario, Simulation};
//! let scenario = Scenario::preset("small")?;
//! let simulation = Simulation::new(&scenario, jiff::civil::date(2026, 3, 9), 42);
//! let mut day = AmiDay::new(&scenario, simulation, AfterCallWork::Pause);
//! while let Some(moment) = day.release() {
//!     for event in &moment.events {
//!         print!("{}", event.message.encode());
//!     }
//! }
//! # Ok::<(), floorwatch_sim::ScenarioError>(())
//! ```
//!
//! The day is exactly the one `floorwatch-sim generate` writes for the same scenario, date and
//! seed, turned into AMI by [`AmiWriter`] (its table says which event becomes what). What AMI
//! cannot carry, and so a client of the switch cannot recover (docs/CTI.md, "The fake switch"):
//!
//! - IVR completions (`call_ivr_completed`): the call never reaches a queue, and AMI's queue
//!   events are all there is; `ivr_completed` and `answer_rate_pct` lose them.
//! - The `test` flag: a trainee's test call is a queue call like any other to the switch.
//! - Durations finer than a second: HoldTime and TalkTime are whole seconds (times keep the
//!   millisecond in `Timestamp:`), so waits and talk read back truncated to the second.
//! - Teams (`agent_team`, the team on `agent_login`), call priority and direction: the
//!   organisation configured on the reader's side supplies teams.
//! - Overflow targets and the outside number of a transfer read back as AMI says them
//!   (`overflow_to` absent; `to_external` = `number@from-internal`).
//!
//! Every event carries `Privilege:`, `SequenceNumber:` (the day's event number, from 1, going
//! on while no client listens) and `Timestamp:` (the simulated time, as with
//! `timestampevents = yes`).

mod drops;
mod floor;
mod session;
mod writer;

use std::collections::BTreeMap;
use std::iter::Peekable;

use floorwatch_core::Millis;
use floorwatch_core::ami::AmiMessage;

pub use drops::DropPlan;
pub use floor::{AgentLeg, Caller, DeviceStatus, Member, QueueLine, SwitchFloor};
pub use session::{Acted, BANNER, Credentials, Session, SwitchNow, timestamp};
pub use writer::{
    ACW_PAUSE, AfterCallWork, AmiWriter, Dialplan, EventClass, SwitchEvent,
    TIMEOUT_HANGUP_DELAY_MS, Written,
};

use crate::{Scenario, Simulation};

/// The simulated day as a switch raises it, moment by moment.
pub struct AmiDay {
    events: Peekable<Simulation>,
    writer: AmiWriter,
    /// Hangups due later, by (time, order scheduled), with the caller.
    later: BTreeMap<(Millis, u64), String>,
    later_scheduled: u64,
    sequence: u64,
    clock: Millis,
}

/// The events of one instant, stamped as the switch sends them.
#[derive(Debug, Clone)]
pub struct Moment {
    /// When the events are raised, event time.
    pub at: Millis,
    /// The events, in order.
    pub events: Vec<Stamped>,
}

/// One event on the wire.
#[derive(Debug, Clone)]
pub struct Stamped {
    /// Which class it belongs to, for the session's event filter.
    pub class: EventClass,
    /// Its `SequenceNumber`.
    pub sequence: u64,
    /// The message as the switch sends it.
    pub message: AmiMessage,
}

impl AmiDay {
    /// The day of `scenario` on `date` with `seed`, as a switch raises it.
    pub fn new(
        scenario: &Scenario,
        simulation: Simulation,
        after_call_work: AfterCallWork,
    ) -> AmiDay {
        let clock = simulation.recorded_from();
        AmiDay {
            events: simulation.peekable(),
            writer: AmiWriter::new(scenario, after_call_work),
            later: BTreeMap::new(),
            later_scheduled: 0,
            sequence: 0,
            clock,
        }
    }

    /// The same day on a switch whose dialplan does `dialplan` after a queue time-out
    /// (default [`Dialplan::Voicemail`]).
    pub fn with_dialplan(mut self, dialplan: Dialplan) -> AmiDay {
        self.writer = self.writer.with_dialplan(dialplan);
        self
    }

    /// The time of the next moment; `None` when the day is over.
    pub fn next_time(&mut self) -> Option<Millis> {
        let canonical = self.events.peek().map(|e| e.ts);
        let later = self.later.keys().next().map(|(at, _)| *at);
        match (canonical, later) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Every event of the next moment (possibly none: an IVR completion raises nothing), and
    /// the switch's state moved past it.
    pub fn release(&mut self) -> Option<Moment> {
        let at = self.next_time()?;
        let mut raised = Vec::new();
        // Hangups scheduled earlier go first.
        while let Some(entry) = self.later.first_entry()
            && entry.key().0 == at
        {
            let call = entry.remove();
            raised.extend(self.writer.hangup_if_parked(&call));
        }
        while let Some(event) = self.events.next_if(|e| e.ts <= at) {
            let written = self.writer.write(&event);
            raised.extend(written.events);
            if let Some((when, call)) = written.hangup_later {
                self.later_scheduled += 1;
                self.later.insert((when, self.later_scheduled), call);
            }
        }
        self.clock = at;
        let events = raised
            .into_iter()
            .map(|event| self.stamp(at, event))
            .collect();
        Some(Moment { at, events })
    }

    /// `Event:`, then `Privilege:`, `SequenceNumber:`, `Timestamp:`, then the body.
    fn stamp(&mut self, at: Millis, event: SwitchEvent) -> Stamped {
        self.sequence += 1;
        let mut fields = event.message.fields().iter();
        let mut message = AmiMessage::new();
        if let Some((key, value)) = fields.next() {
            message.push(key.as_str(), value.as_str());
        }
        message.push("Privilege", format!("{},all", event.class.as_str()));
        message.push("SequenceNumber", self.sequence.to_string());
        message.push("Timestamp", timestamp(at));
        for (key, value) in fields {
            message.push(key.as_str(), value.as_str());
        }
        Stamped {
            class: event.class,
            sequence: self.sequence,
            message,
        }
    }

    /// The switch's state after the moments released so far.
    pub fn floor(&self) -> &SwitchFloor {
        self.writer.floor()
    }

    /// The time of the last moment released (the day's start before the first).
    pub fn clock(&self) -> Millis {
        self.clock
    }

    /// Events released so far: the last `SequenceNumber` handed out.
    pub fn released(&self) -> u64 {
        self.sequence
    }
}
