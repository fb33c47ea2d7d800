//! The names of the labels: one [`Key`] per label, declared with the list the completeness test
//! walks.

/// Declares [`Key`] and `Key::ALL` from one list, so the list the completeness test walks can
/// never drift from the enum the catalogues match on.
macro_rules! keys {
    ($($(#[$doc:meta])* $key:ident,)*) => {
        /// One label of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Key {
            $(#[doc = concat!("The label `", stringify!($key), "`.")] $(#[$doc])* $key,)*
        }

        impl Key {
            /// Every key, in declaration order: the completeness test walks it.
            pub const ALL: &'static [Key] = &[$(Key::$key,)*];
        }
    };
}

keys! {
    // The page.
    AppTitle,
    ViewWall,
    ViewSupervisor,
    /// This language's own name, shown on the switch that selects it.
    LanguageName,
    SwitchLanguage,
    WindowLabel,
    WindowRolling15,
    WindowRolling30,
    WindowRolling60,
    WindowInterval15,
    WindowInterval30,
    WindowToday,
    /// The window of a live figure (calls waiting, agents by state).
    WindowLive,
    ScopeCentre,
    ScopeQueue,
    ScopeTeam,
    ConnConnecting,
    ConnLive,
    ConnReconnecting,
    ConnStale,
    TipConnection,
    TipStale,
    ServerRefused,
    NoData,
    /// "{target}": target percent; "{t}": threshold seconds.
    TargetIn,
    TipColours,

    // Figures (wall tiles and table columns).
    ServiceLevel,
    CallsWaiting,
    LongestWait,
    AnsweredToday,
    AbandonedToday,
    AbandonRate,
    Asa,
    Aht,
    AgentsAvailable,
    AgentsOnCall,
    AgentsAfterCallWork,
    AgentsNotReady,
    AgentsLoggedIn,
    AgentsNeeded,
    Handled,
    Occupancy,
    Utilisation,
    SparkServiceLevel,
    SparkWaiting,

    // Supervisor view.
    QueuesHeading,
    TeamsHeading,
    AgentsHeading,
    ColQueue,
    ColTeam,
    ColAgent,
    ColState,
    ColReason,
    ColTimeInState,
    ColCallDuration,
    ColCallsHandled,
    ColAgentAht,
    FilterTeam,
    FilterState,
    FilterAll,
    Overrun,
    SortHint,
    AgentCount,

    // Agent states and not-ready reasons.
    StateLoggedOut,
    StateAvailable,
    StateRinging,
    StateOnCall,
    StateHold,
    StateAfterCallWork,
    StateNotReady,
    ReasonBreak,
    ReasonMeal,
    ReasonMeeting,
    ReasonTraining,
    ReasonCoaching,
    ReasonOutbound,
    ReasonOther,

    // Definitions (tooltips), after docs/METRICS.md.
    DefSlAnsweredOverOffered,
    DefSlAnsweredOverAnswered,
    DefSlRemovedOverOffered,
    DefSlExclAbandonedWithin,
    DefCallsWaiting,
    DefLongestWait,
    DefAnswered,
    DefAbandoned,
    DefAbandonRate,
    DefAsa,
    DefAht,
    DefAgentsAvailable,
    DefAgentsOnCall,
    DefAgentsAfterCallWork,
    DefAgentsNotReady,
    DefAgentsLoggedIn,
    DefAgentsNeeded,
    DefHandled,
    DefOccupancy,
    DefUtilisation,
    DefSparkServiceLevel,
    DefSparkWaiting,
    DefTimeInState,
    DefCallDuration,
    DefCallsHandledToday,
    DefAgentAht,
    DefOverrun,
    /// Appended to every definition: a figure with a zero denominator shows "—".
    DefNull,

    // Colour thresholds, shown in tooltips (see `tone.rs`).
    ColourServiceLevel,
    ColourCallsWaiting,
    ColourLongestWait,
    ColourAbandonRate,
    ColourAsa,
    ColourAgentsAvailable,
    ColourAgentsNotReady,

    // Alerts (docs/ALERTS.md): the supervisor's panel and the wall's banner.
    AlertsHeading,
    AlertsNone,
    AlertLevelWarning,
    AlertLevelCritical,
    /// "{critical}", "{warning}": counts of open alerts.
    AlertBanner,
    ColAlertLevel,
    ColAlertRule,
    ColAlertScope,
    ColAlertWhat,
    ColAlertSince,
    ColAlertStatus,
    /// "{role}": who is told now.
    AlertToldRole,
    /// "{by}".
    AlertAcknowledgedBy,
    AlertCleared,
    AlertOpenStatus,
    AlertAcknowledge,
    AlertNote,
    RoleTeamLead,
    RoleSupervisor,
    RoleManager,
    /// What a built-in kind of rule watches (a metric rule reads as its figure's label).
    KindNotReadyOverrun,
    KindSourceSilent,
    KindSuddenPeak,
    KindDroppedCalls,
    /// "{metric}", "{value}", "{threshold}".
    AlertMetricBelow,
    AlertMetricAbove,
    /// "{agent}", "{reason}", "{for}", "{allowance}".
    AlertNotReady,
    /// "{source}", "{for}".
    AlertSilent,
    /// "{value}", "{usual}".
    AlertPeak,
    /// "{value}".
    AlertDropped,

    RoleAdmin,
    RoleWallDisplay,
    RoleSecurityOfficer,
    RoleIngest,
    ViewAudit,
    ScopeLabel,
    SignInHeading,
    SignInUser,
    SignInPassword,
    SignInButton,
    SignInNoAnswer,
    SignInWrong,
    SignInTooMany,
    SignedOut,
    SignOut,
    AuditActor,
    AuditAction,
    AuditSince,
    AuditShow,
    ColAuditTime,
    ColAuditTarget,
    ColAuditDetail,
    AuditChainOk,
    AuditChainBroken,
    ViewDevices,
    PairScreen,
    PairHint,
    PairExpired,
    DeviceCode,
    DeviceName,
    DeviceRole,
    DevicePair,
    /// "{name}".
    DevicePaired,
    /// Service level over a window with too few calls to judge (issue 18).
    NotEnoughCalls,
}
