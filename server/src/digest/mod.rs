//! The morning digest: at a local time of the centre's calendar (`[digest] at`, default 09:30),
//! yesterday's figures per site and queue, against each queue's target and the same weekday
//! last week, by e-mail and to work-chat robots, each recipient seeing only its subtree, sent
//! exactly once per day and recipient across restarts (docs/HISTORY.md, "The morning digest").
//!
//! - [`settings`]: the `[digest]` table; [`subtree`]: which sites and queues a recipient sees.
//! - [`compose`]: one recipient's digest of a day from history's store, and how it reads.
//! - [`outbox`]: composed messages kept on disk until sent; [`send`]: the sending tasks.
//! - The scheduler (here) follows the floor's clock (`Pulse`): event time under `--clock
//!   events`, so a replay crossing D+1 09:30 triggers D's digest; wall time under `--clock
//!   wall`. It composes a day once history's store holds all of it (its resume point has passed
//!   the day's end), never composes a day twice, and never goes back to a day before the last
//!   one composed.

pub(crate) mod compose;
pub(crate) mod outbox;
pub(crate) mod send;
pub(crate) mod settings;
pub(crate) mod subtree;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use floorwatch_core::alerts::WebhookFormat;
use floorwatch_core::{CentreCalendar, Millis, Organisation, Scope};
use jiff::civil::Date;
use sha2::{Digest as _, Sha256};
use tokio::task::JoinHandle;

use crate::alerts::settings::WebhookConfig;
use crate::history::store::Store;
use crate::ndjson_log::FsyncPolicy;
use crate::recorder::Pulse;
use crate::shutdown::Shutdown;
use crate::telemetry::Telemetry;
use outbox::{DigestOutbox, Message};
use send::{Channel, Sender};
use settings::DigestSettings;

/// How often the scheduler looks at the floor's clock.
const TICK: Duration = Duration::from_millis(250);

/// One recipient: its outbox key, its scope and how its message is written.
struct Recipient {
    key: String,
    scope: Scope,
    /// `None`: e-mail; else the webhook's format.
    format: Option<WebhookFormat>,
}

/// What the digest starts with, taken from the server's settings.
pub(crate) struct Start<'a> {
    /// The `[digest]` table, if any.
    pub(crate) digest: Option<&'a DigestSettings>,
    pub(crate) organisation: &'a Organisation,
    pub(crate) data_dir: &'a Path,
    /// Whether history is kept (`--history-days` above 0): the digest reads it.
    pub(crate) history: bool,
    pub(crate) fsync: FsyncPolicy,
    /// Where a digest sent is recorded (the data dir's trail, or the cluster's).
    pub(crate) audit: crate::audit::AuditTrail,
    /// Cluster mode: the claims that make one node send each message.
    pub(crate) effects: Option<Arc<crate::effects::Effects>>,
}

/// Opens the digest outbox and starts the scheduler and one sending task per recipient; none
/// without a `[digest]` table. Errors name the config key at fault (a `ca_file` gone since the
/// config was read).
pub(crate) fn spawn(
    start: Start<'_>,
    pulse: Arc<Pulse>,
    telemetry: Arc<Telemetry>,
    shutdown: &Shutdown,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let Some(digest) = start.digest else {
        return Ok(Vec::new());
    };
    if !start.history {
        tracing::warn!(
            "the morning digest is off: it reads history, and history is off (--history-days 0)"
        );
        return Ok(Vec::new());
    }
    let org = start.organisation;
    let data_dir = start.data_dir.to_path_buf();
    let mut recipients = Vec::new();
    let mut channels = Vec::new();
    if let Some(smtp) = &digest.smtp {
        let from: lettre::message::Mailbox = smtp.from.parse()?;
        let transport = send::transport(smtp).map_err(anyhow::Error::msg)?;
        for email in &digest.email {
            let to = email
                .to
                .iter()
                .map(|a| a.parse::<lettre::message::Mailbox>())
                .collect::<Result<Vec<_>, _>>()?;
            recipients.push(Recipient {
                key: format!("email:{}:{}", email.scope, email.to.join(",")),
                scope: email.scope.parse()?,
                format: None,
            });
            let retry = (smtp.retry_first_ms, smtp.retry_max_s);
            channels.push((
                Channel::Email {
                    transport: transport.clone(),
                    from: from.clone(),
                    to,
                },
                retry,
            ));
        }
    }
    for hook in &digest.webhooks {
        let client = crate::alerts::webhook::client(&WebhookConfig {
            url: hook.url.clone(),
            ca_file: hook.ca_file.clone(),
            format: hook.format,
            retry_first_ms: hook.retry_first_ms,
            retry_max_s: hook.retry_max_s,
            timeout_s: hook.timeout_s,
        })
        .map_err(anyhow::Error::msg)?;
        recipients.push(Recipient {
            key: format!("webhook:{}:{}", hook.scope, hook.url),
            scope: hook.scope.parse()?,
            format: Some(hook.format),
        });
        channels.push((
            Channel::Webhook {
                client,
                url: hook.url.clone(),
                timeout: Duration::from_secs(hook.timeout_s),
                centre: org.centre.id.clone(),
            },
            (hook.retry_first_ms, hook.retry_max_s),
        ));
    }
    let keys: Vec<String> = recipients.iter().map(|r| r.key.clone()).collect();
    let (outbox, report) = DigestOutbox::open(&data_dir.join("digest"), &keys, start.fsync)?;
    tracing::info!(
        recipients = keys.len(),
        pending = report.pending,
        dropped_for_removed_recipients = report.dropped,
        last_day = report.last_day.as_deref().unwrap_or("none"),
        at = %digest.at,
        "morning digest ready"
    );
    if let Some(bytes) = report.torn_tail {
        tracing::warn!(bytes, "the digest outbox's last line was torn; cut off");
    }
    for (line, reason) in report.bad_lines.iter().take(10) {
        tracing::error!(line, %reason, "damaged digest outbox line skipped");
    }
    telemetry.digest_pending(report.pending);
    let mut tasks: Vec<JoinHandle<()>> = channels
        .into_iter()
        .enumerate()
        .map(|(index, (channel, (first_ms, max_s)))| {
            let sender = Sender {
                outbox: outbox.clone(),
                index,
                channel,
                retry_first: Duration::from_millis(first_ms),
                retry_max: Duration::from_secs(max_s),
                telemetry: telemetry.clone(),
                audit: start.audit.clone(),
                effects: start.effects.clone(),
            };
            tokio::spawn(sender.run(shutdown.clone()))
        })
        .collect();
    let from_domain = digest
        .smtp
        .as_ref()
        .and_then(|s| s.from.parse::<lettre::message::Mailbox>().ok())
        .map_or_else(
            || "floorwatch.invalid".to_string(),
            |m| m.email.domain().to_string(),
        );
    let scheduler = Scheduler {
        org: org.clone(),
        calendar: org.calendar()?,
        at: digest.at(),
        recipients,
        outbox,
        data_dir,
        from_domain,
        pulse,
    };
    tasks.push(tokio::spawn(scheduler.run(shutdown.clone())));
    Ok(tasks)
}

struct Scheduler {
    org: Organisation,
    calendar: CentreCalendar,
    at: (i8, i8),
    recipients: Vec<Recipient>,
    outbox: Arc<DigestOutbox>,
    data_dir: PathBuf,
    from_domain: String,
    pulse: Arc<Pulse>,
}

/// What a look at the clock led to.
enum Step {
    Nothing,
    /// The day is due but history has not stored all of it yet.
    Waiting(Date),
    Composed(Date, usize),
    Empty(Date),
}

impl Scheduler {
    async fn run(self, mut shutdown: Shutdown) {
        let scheduler = Arc::new(self);
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut waiting: Option<Date> = None;
        let mut failing = false;
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                () = shutdown.recv() => return,
            }
            let this = scheduler.clone();
            let step = tokio::task::spawn_blocking(move || this.step()).await;
            match step {
                Ok(Ok(step)) => {
                    failing = false;
                    match step {
                        Step::Nothing => {}
                        Step::Waiting(day) => {
                            if waiting != Some(day) {
                                tracing::info!(%day, "the digest is due; waiting for history to store the whole day");
                                waiting = Some(day);
                            }
                        }
                        Step::Composed(day, messages) => {
                            tracing::info!(%day, messages, "digest composed");
                        }
                        Step::Empty(day) => {
                            tracing::info!(%day, "no digest: history holds nothing of the day");
                        }
                    }
                }
                Ok(Err(e)) => {
                    if !failing {
                        tracing::error!(error = %e, "the digest could not be composed; trying again");
                        failing = true;
                    }
                }
                Err(e) => tracing::error!(error = %e, "the digest's composing task failed"),
            }
        }
    }

    /// Composes the day due at the floor's clock, if it is not composed yet and history holds
    /// all of it.
    fn step(&self) -> anyhow::Result<Step> {
        let now = self.pulse.clock();
        let Some(day) = due_day(&self.calendar, self.at, now) else {
            return Ok(Step::Nothing);
        };
        let label = day.to_string();
        if self.outbox.last_day().is_some_and(|last| last >= label) {
            return Ok(Step::Nothing);
        }
        let Some((_, end)) = self.calendar.day(day) else {
            return Ok(Step::Nothing);
        };
        if !self.data_dir.join(crate::history::store::FILE).exists() {
            return Ok(Step::Waiting(day));
        }
        let store = Store::open_read_only(&self.data_dir)?;
        if store.resume_point()?.is_none_or(|p| p.closed_until < end) {
            return Ok(Step::Waiting(day));
        }
        if !compose::has_rows(&store, &self.calendar, day)? {
            self.outbox.compose(&label, Vec::new())?;
            return Ok(Step::Empty(day));
        }
        let mut messages = Vec::new();
        for (index, recipient) in self.recipients.iter().enumerate() {
            let digest =
                compose::compose(&store, &self.org, &self.calendar, day, &recipient.scope)?;
            let body = match recipient.format {
                None => compose::text(&digest),
                Some(format) => compose::webhook_body(&digest, format).to_string(),
            };
            messages.push((
                index,
                Message {
                    message_id: message_id(
                        &label,
                        &self.org.centre.id,
                        &recipient.key,
                        &self.from_domain,
                    ),
                    subject: compose::subject(&digest),
                    body,
                    digest,
                },
            ));
        }
        let count = messages.len();
        self.outbox.compose(&label, messages)?;
        Ok(Step::Composed(day, count))
    }
}

/// The day whose digest is due at `now`: yesterday once today's `at` has passed on the centre's
/// local clock, else the day before. `None` before any event moved the clock.
fn due_day(calendar: &CentreCalendar, (hour, minute): (i8, i8), now: Millis) -> Option<Date> {
    if now <= 0 {
        return None;
    }
    let zone = calendar.time_zone().clone();
    let local = jiff::Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned(zone.clone());
    let today = local.date();
    let at = today
        .at(hour, minute, 0, 0)
        .to_zoned(zone)
        .ok()?
        .timestamp()
        .as_millisecond();
    let back = if now >= at { 1 } else { 2 };
    today.checked_sub(jiff::Span::new().days(back)).ok()
}

/// The Message-ID of `day`'s digest to `recipient`: the same every time it is composed or sent.
fn message_id(day: &str, centre: &str, recipient: &str, domain: &str) -> String {
    let hash = Sha256::digest(format!("{centre}\n{recipient}").as_bytes());
    let short: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("<floorwatch-digest.{day}.{short}@{domain}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(local: &str, zone: &str) -> Millis {
        local
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get(zone).unwrap())
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    #[test]
    fn yesterday_is_due_from_the_local_time_on() {
        let cal = CentreCalendar::new("Asia/Shanghai", "00:00").unwrap();
        let at = (9, 30);
        let due = |t: &str| due_day(&cal, at, ms(t, "Asia/Shanghai")).map(|d| d.to_string());
        assert_eq!(due("2026-03-10T09:29:59").as_deref(), Some("2026-03-08"));
        assert_eq!(due("2026-03-10T09:30:00").as_deref(), Some("2026-03-09"));
        assert_eq!(due("2026-03-10T23:59:00").as_deref(), Some("2026-03-09"));
        assert_eq!(due_day(&cal, at, 0), None);
    }

    #[test]
    fn a_message_id_is_the_same_for_a_day_and_recipient_only() {
        let a = message_id("2026-03-09", "c", "email:centre:a@x", "x.example");
        assert_eq!(
            a,
            message_id("2026-03-09", "c", "email:centre:a@x", "x.example")
        );
        assert_ne!(
            a,
            message_id("2026-03-10", "c", "email:centre:a@x", "x.example")
        );
        assert_ne!(
            a,
            message_id("2026-03-09", "c", "email:site:n:a@x", "x.example")
        );
        assert!(a.starts_with("<floorwatch-digest.2026-03-09.") && a.ends_with("@x.example>"));
    }
}
