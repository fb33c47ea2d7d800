//! What every source task is given ([`SourceContext`]) and how it hands its events to the
//! recorder ([`record`]).

use std::sync::Arc;
use std::time::Duration;

use floorwatch_core::{Event, Organisation};

use crate::recorder::{RecordError, RecorderHandle};
use crate::shutdown::Shutdown;
use crate::telemetry::Telemetry;

/// What every source task needs: where its events go, the organisation they are mapped
/// against, its counters and the shutdown.
#[derive(Clone)]
pub(crate) struct SourceContext {
    pub(crate) organisation: Organisation,
    pub(crate) recorder: RecorderHandle,
    pub(crate) telemetry: Arc<Telemetry>,
    pub(crate) shutdown: Shutdown,
}

/// Records a source's events, journaled before they count. A journal that cannot be written
/// is retried every second (the switch cannot be asked again); `false` once the server is
/// stopping.
pub(super) async fn record(context: &mut SourceContext, source: &str, events: Vec<Event>) -> bool {
    if events.is_empty() {
        return true;
    }
    loop {
        match context.recorder.record(events.clone()).await {
            Ok(recorded) => {
                if let Some((_, why)) = recorded.refused.first() {
                    // The switch's clock is far ahead (docs/EVENTS.md, "Time"): nothing to
                    // retry, the events are counted as rejected.
                    tracing::warn!(%source, refused = recorded.refused.len(), reason = %why, "events refused: too far ahead of the clock");
                }
                return true;
            }
            Err(RecordError::Stopped) => return false,
            Err(e) => {
                tracing::error!(%source, error = %e, "events not journaled; retrying in 1 s");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = context.shutdown.recv() => return false,
                }
            }
        }
    }
}
