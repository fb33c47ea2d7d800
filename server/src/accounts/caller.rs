//! Masking caller numbers: the rule and the event field's type live in core
//! (`floorwatch_core::caller`), shared with every parser; the server masks with them.

pub(crate) use floorwatch_core::caller::{CallerNumber, mask_caller};
