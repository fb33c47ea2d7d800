//! What the mapper's steps write into: canonical events with their times, before ids are given
//! (the mapper numbers them in order once a message is mapped).

use crate::event::{EventKind, Millis};

/// Canonical events produced, with their times, before ids are given.
pub(super) type Out = Vec<(Millis, EventKind)>;
