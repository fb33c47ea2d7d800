//! English labels.

use super::key::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::AppTitle => "Floorwatch",
        Key::ViewWall => "Wall",
        Key::ViewSupervisor => "Supervisor",
        Key::LanguageName => "English",
        Key::SwitchLanguage => "Language",
        Key::WindowLabel => "Window",
        Key::WindowRolling15 => "Last 15 min",
        Key::WindowRolling30 => "Last 30 min",
        Key::WindowRolling60 => "Last 60 min",
        Key::WindowInterval15 => "This 15-min interval",
        Key::WindowInterval30 => "This 30-min interval",
        Key::WindowToday => "Today",
        Key::WindowLive => "Live, now",
        Key::ScopeCentre => "Whole centre",
        Key::ScopeQueue => "Queue",
        Key::ScopeTeam => "Team",
        Key::ConnConnecting => "Connecting",
        Key::ConnLive => "Live",
        Key::ConnReconnecting => "Reconnecting",
        Key::ConnStale => "Stale",
        Key::TipConnection => {
            "Live: updates are arriving. Reconnecting: the connection was lost and is being \
             retried; the page resyncs from a fresh snapshot when it is back. Stale: nothing \
             received for 10 s; figures are greyed out until updates arrive again."
        }
        Key::TipStale => "Not refreshed for 10 s: this figure may be out of date.",
        Key::ServerRefused => "The server refused the subscription",
        Key::NoData => "No data yet",
        Key::TargetIn => "Target {target}% in {t} s",
        Key::TipColours => "Colours",

        Key::ServiceLevel => "Service level",
        Key::CallsWaiting => "Calls waiting",
        Key::LongestWait => "Longest wait now",
        Key::AnsweredToday => "Answered today",
        Key::AbandonedToday => "Abandoned today",
        Key::AbandonRate => "Abandon rate",
        Key::Asa => "ASA",
        Key::Aht => "AHT",
        Key::AgentsAvailable => "Available",
        Key::AgentsOnCall => "On call",
        Key::AgentsAfterCallWork => "After-call work",
        Key::AgentsNotReady => "Not ready",
        Key::AgentsLoggedIn => "Signed in",
        Key::AgentsNeeded => "Agents needed",
        Key::Handled => "Handled",
        Key::Occupancy => "Occupancy",
        Key::Utilisation => "Utilisation",
        Key::SparkServiceLevel => "Service level, last 60 min",
        Key::SparkWaiting => "Calls waiting, last 60 min",

        Key::QueuesHeading => "Queues",
        Key::TeamsHeading => "Teams",
        Key::AgentsHeading => "Agents",
        Key::ColQueue => "Queue",
        Key::ColTeam => "Team",
        Key::ColAgent => "Agent",
        Key::ColState => "State",
        Key::ColReason => "Reason",
        Key::ColTimeInState => "Time in state",
        Key::ColCallDuration => "Current call",
        Key::ColCallsHandled => "Calls handled",
        Key::ColAgentAht => "AHT today",
        Key::FilterTeam => "Team",
        Key::FilterState => "State",
        Key::FilterAll => "All",
        Key::Overrun => "Past break allowance",
        Key::SortHint => "Click a column heading to sort; click again to reverse.",
        Key::AgentCount => "{shown} of {total} agents",

        Key::StateLoggedOut => "Signed out",
        Key::StateAvailable => "Available",
        Key::StateRinging => "Ringing",
        Key::StateOnCall => "On call",
        Key::StateHold => "On hold",
        Key::StateAfterCallWork => "After-call work",
        Key::StateNotReady => "Not ready",
        Key::ReasonBreak => "Break",
        Key::ReasonMeal => "Meal",
        Key::ReasonMeeting => "Meeting",
        Key::ReasonTraining => "Training",
        Key::ReasonCoaching => "Coaching",
        Key::ReasonOutbound => "Outbound",
        Key::ReasonOther => "Other",

        Key::DefSlAnsweredOverOffered => {
            "Calls answered within T ({t} s) ÷ (offered − short abandons). A queued call counts \
             when its queue outcome (answered, abandoned or timed out) falls inside the window; \
             offered = answered + abandoned + timed out; wait = outcome time − queue entry time; \
             a short abandon hangs up after waiting less than {s} s."
        }
        Key::DefSlAnsweredOverAnswered => {
            "Calls answered within T ({t} s) ÷ calls answered. A call counts when its answer \
             falls inside the window; wait = answer time − queue entry time."
        }
        Key::DefSlRemovedOverOffered => {
            "(Calls answered within T ({t} s) + calls abandoned or timed out with wait ≤ T) ÷ \
             offered. A queued call counts when its queue outcome falls inside the window; \
             offered = answered + abandoned + timed out."
        }
        Key::DefSlExclAbandonedWithin => {
            "Calls answered within T ({t} s) ÷ (offered − calls abandoned with wait ≤ T): \
             abandons inside T have no impact. A queued call counts when its queue outcome falls \
             inside the window."
        }
        Key::DefCallsWaiting => "Calls in the queue now, waiting for an agent.",
        Key::DefLongestWait => {
            "How long the oldest call still waiting has waited so far; it ticks on this screen \
             from the moment the call entered its queue."
        }
        Key::DefAnswered => {
            "Queued calls answered by an agent, counted when the answer falls inside the window."
        }
        Key::DefAbandoned => {
            "Queued calls whose caller hung up while waiting, counted when the hang-up falls \
             inside the window (short abandons included)."
        }
        Key::DefAbandonRate => {
            "(Abandoned − short abandons) ÷ (offered − short abandons). A short abandon hangs up \
             after waiting less than {s} s."
        }
        Key::DefAsa => {
            "Average speed of answer: the mean queue wait of the calls answered in the window."
        }
        Key::DefAht => {
            "Average handle time: (talk + hold + after-call work) ÷ handled calls, over the calls \
             that ended in the window."
        }
        Key::DefAgentsAvailable => "Agents signed in and ready for the next call, now.",
        Key::DefAgentsOnCall => "Agents talking to a caller now, callers on hold included.",
        Key::DefAgentsAfterCallWork => "Agents wrapping up their last call, now.",
        Key::DefAgentsNotReady => {
            "Agents signed in but not taking calls now, for any reason (break, meal, meeting, \
             training, coaching, outbound, other)."
        }
        Key::DefAgentsLoggedIn => "Agents signed in now, in any state.",
        Key::DefAgentsNeeded => {
            "Erlang C: the fewest agents that would meet this queue's service-level target now, \
             from the last 30 minutes' arrival rate and AHT."
        }
        Key::DefHandled => "Calls that ended in the window (by end time).",
        Key::DefOccupancy => {
            "Handle time ÷ (handle time + available time), summed over the agents in scope; each \
             agent's time in a state is cut at the window's edges."
        }
        Key::DefUtilisation => {
            "Talk time ÷ signed-in time, summed over the agents in scope; each agent's time is cut \
             at the window's edges."
        }
        Key::DefSparkServiceLevel => {
            "The rolling 15-minute service level at the end of each minute of the last 60 minutes."
        }
        Key::DefSparkWaiting => "Calls waiting at the end of each minute of the last 60 minutes.",
        Key::DefTimeInState => "Time since the agent entered the current state; it ticks.",
        Key::DefCallDuration => "Time since the agent answered the current call; it ticks.",
        Key::DefCallsHandledToday => "Calls the agent handled since the centre's daily reset.",
        Key::DefAgentAht => {
            "The agent's average handle time since the daily reset: (talk + hold + after-call \
             work) ÷ calls handled."
        }
        Key::DefOverrun => {
            "Highlighted when an agent has been on break longer than {break} min or at a meal \
             longer than {meal} min."
        }
        Key::DefNull => {
            "A figure whose denominator is zero shows “—”, never 0 % or 100 %. Test calls never \
             count."
        }

        Key::ColourServiceLevel => {
            "Red below the target; amber less than {margin} points above it; green otherwise."
        }
        Key::ColourCallsWaiting => {
            "Green while there are no more waiting calls than available agents; amber when \
             waiting calls outnumber them; red when by {red} or more."
        }
        Key::ColourLongestWait => "Green under T ({t} s); amber from T; red from twice T.",
        Key::ColourAbandonRate => "Green under {amber}%; amber from {amber}%; red from {red}%.",
        Key::ColourAsa => "Green under T ({t} s); amber from T; red from twice T.",
        Key::ColourAgentsAvailable => {
            "Red when calls wait and no agent is available; amber when no agent is available; \
             green otherwise."
        }
        Key::ColourAgentsNotReady => "Amber from {amber}% of signed-in agents; red from {red}%.",

        Key::AlertsHeading => "Alerts",
        Key::AlertsNone => "No alerts",
        Key::AlertLevelWarning => "Warning",
        Key::AlertLevelCritical => "Critical",
        Key::AlertBanner => "{critical} critical, {warning} warning",
        Key::ColAlertLevel => "Level",
        Key::ColAlertRule => "Rule",
        Key::ColAlertScope => "Where",
        Key::ColAlertWhat => "What",
        Key::ColAlertSince => "Since",
        Key::ColAlertStatus => "Status",
        Key::AlertToldRole => "Open, told: {role}",
        Key::AlertAcknowledgedBy => "Acknowledged by {by}",
        Key::AlertCleared => "Cleared",
        Key::AlertOpenStatus => "Open",
        Key::AlertAcknowledge => "Acknowledge",
        Key::AlertNote => "Note",
        Key::RoleTeamLead => "team lead",
        Key::RoleSupervisor => "supervisor",
        Key::RoleManager => "manager",
        Key::KindNotReadyOverrun => "Break overrun",
        Key::KindSourceSilent => "Feed silent",
        Key::KindSuddenPeak => "Sudden peak",
        Key::KindDroppedCalls => "Dropped calls",
        Key::AlertMetricBelow => "{metric} {value} below {threshold}",
        Key::AlertMetricAbove => "{metric} {value} above {threshold}",
        Key::AlertNotReady => "{agent}: not ready ({reason}) for {for}, allowance {allowance}",
        Key::AlertSilent => "Source {source}: no event for {for}",
        Key::AlertPeak => "{value} arrivals in 5 min, usual {usual}",
        Key::AlertDropped => "{value} calls ended just after answer",

        Key::RoleAdmin => "admin",
        Key::RoleWallDisplay => "wall display",
        Key::RoleSecurityOfficer => "security officer",
        Key::RoleIngest => "ingest",
        Key::ViewAudit => "Audit trail",
        Key::ScopeLabel => "Scope",
        Key::SignInHeading => "Sign in",
        Key::SignInUser => "User name",
        Key::SignInPassword => "Password",
        Key::SignInButton => "Sign in",
        Key::SignInNoAnswer => "No answer from the server; try again.",
        Key::SignInWrong => "wrong user name or password",
        Key::SignInTooMany => "Too many attempts: try again in {s} s.",
        Key::SignedOut => "Signed out",
        Key::SignOut => "Sign out",
        Key::AuditActor => "Actor",
        Key::AuditAction => "Action",
        Key::AuditSince => "Since (12h, 7d, 2026-03-01)",
        Key::AuditShow => "Show",
        Key::ColAuditTime => "Time",
        Key::ColAuditTarget => "Target",
        Key::ColAuditDetail => "Detail",
        Key::AuditChainOk => "Chain intact: {records} records, last hash {hash}",
        Key::AuditChainBroken => "Chain broken after {records} records: {problem}",
        Key::ViewDevices => "Screens",
        Key::PairScreen => "Pair this screen",
        Key::PairHint => "An admin types this code under Screens (valid for 5 minutes):",
        Key::PairExpired => "The code expired; ask for a new one.",
        Key::DeviceCode => "Code shown on the screen",
        Key::DeviceName => "Screen name",
        Key::DeviceRole => "Shows as",
        Key::DevicePair => "Pair",
        Key::DevicePaired => "Paired {name}: the screen signs in by itself.",
        Key::NotEnoughCalls => "Not enough calls",
    }
}
