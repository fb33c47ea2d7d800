//! The reports page's labels in English and Chinese. A catalogue of its own, not the
//! wallboard's `crate::i18n::Key`: the wallboard's catalogue is compiled into the TV's bundle,
//! and these labels must not weigh on it. One `match` answers both languages, so a label
//! missing in either is a compile error.

use crate::i18n::Lang;

/// Every label of the reports page.
#[allow(missing_docs)] // Each variant's text is its documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RKey {
    Title,
    NavIntervals,
    NavWallboard,
    Scope,
    From,
    To,
    Interval,
    Against,
    Show,
    Time,
    Offered,
    Answered,
    Abandoned,
    ServiceLevel,
    Asa,
    Aht,
    AbandonRate,
    AnswerRate,
    Loading,
    NoRows,
    Refused,
    SignInFirst,
    SignIn,
    NotForRole,
    DownloadCsv,
    DownloadXlsx,
    SignedOffBy,
    AmendedTimes,
    WaitingRows,
    Sealed,
    Amended,
    ThisDay,
    Comparison,
    DrillHint,
    Calls,
    CallsTotal,
    CallsSpan,
    Entered,
    Queue,
    Wait,
    Outcome,
    Agent,
    Talk,
    Caller,
    Callback,
    Unmask,
    UnmaskReason,
    CalledBack,
    CalledBackBy,
    Next,
    FirstPage,
    Any,
    OutcomeAnswered,
    OutcomeAbandoned,
    OutcomeTimedOut,
    OutcomeTransferred,
    SlMissed,
    SlMet,
    SlExcluded,
    CallbackPending,
    CallbackDone,
    BackToReport,
    Every15m,
    Every30m,
    Every60m,
    EveryDay,
    EveryWeek,
    EveryMonth,
    PreviousDay,
    SameWeekdayLastWeek,
    SameWeekday4Weeks,
}

impl RKey {
    /// The label in `lang`.
    pub fn t(self, lang: Lang) -> &'static str {
        let (en, zh) = self.both();
        match lang {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    fn both(self) -> (&'static str, &'static str) {
        use RKey::*;
        match self {
            Title => ("Reports", "报表"),
            NavIntervals => ("Interval report", "时段报表"),
            NavWallboard => ("Wallboard", "监控大屏"),
            Scope => ("Scope", "范围"),
            From => ("From", "开始日期"),
            To => ("To", "结束日期"),
            Interval => ("Interval", "时段"),
            Against => ("Compare with", "对比"),
            Show => ("Show", "查询"),
            Time => ("Start", "开始时间"),
            Offered => ("Offered", "呼入量"),
            Answered => ("Answered", "接通量"),
            Abandoned => ("Abandoned", "放弃量"),
            ServiceLevel => ("Service level", "服务水平"),
            Asa => ("ASA", "平均应答速度"),
            Aht => ("AHT", "平均处理时长"),
            AbandonRate => ("Abandon rate", "呼损率"),
            AnswerRate => ("Answer rate", "接通率"),
            Loading => ("Loading…", "加载中…"),
            NoRows => ("Nothing in this period.", "该时段无数据。"),
            Refused => ("The server refused", "服务器拒绝"),
            SignInFirst => (
                "Reports are for signed-in users.",
                "报表仅供已登录用户查看。",
            ),
            SignIn => ("Sign in", "登录"),
            NotForRole => ("Your role has no reports.", "您的角色无权查看报表。"),
            DownloadCsv => ("Download CSV", "下载 CSV"),
            DownloadXlsx => ("Download Excel", "下载 Excel"),
            SignedOffBy => (
                "{day} ({scope}) signed off by {by}",
                "{day}（{scope}）已由 {by} 签核",
            ),
            AmendedTimes => ("amended {n}×", "已更正 {n} 次"),
            WaitingRows => (
                "{n} late rows wait for an amendment",
                "{n} 行迟到数据待更正",
            ),
            Sealed => ("Signed off", "已签核"),
            Amended => ("Signed off, amended", "已签核，已更正"),
            ThisDay => ("This day", "当日"),
            Comparison => ("Comparison", "对比"),
            DrillHint => (
                "Click a figure to see the calls behind it.",
                "点击数字查看对应的通话。",
            ),
            Calls => ("Calls", "通话明细"),
            CallsTotal => ("{total} calls", "共 {total} 通"),
            CallsSpan => (
                "Outcome between {start} and {end}",
                "结果时间 {start} 至 {end}",
            ),
            Entered => ("Entered", "进线时间"),
            Queue => ("Queue", "队列"),
            Wait => ("Wait", "等待"),
            Outcome => ("Outcome", "结果"),
            Agent => ("Agent", "坐席"),
            Talk => ("Talk", "通话时长"),
            Caller => ("Caller", "主叫号码"),
            Callback => ("Callback", "回拨"),
            Unmask => ("Show number", "显示号码"),
            UnmaskReason => (
                "Why do you need this caller's number? (audited)",
                "查看该号码的原因（将记入审计）：",
            ),
            CalledBack => ("Called back", "已回拨"),
            CalledBackBy => ("called back by {by}, {at}", "{by} 已回拨，{at}"),
            Next => ("Next page", "下一页"),
            FirstPage => ("First page", "第一页"),
            Any => ("Any", "全部"),
            OutcomeAnswered => ("Answered", "已接通"),
            OutcomeAbandoned => ("Abandoned", "放弃"),
            OutcomeTimedOut => ("Timed out", "超时"),
            OutcomeTransferred => ("Transferred", "已转接"),
            SlMissed => ("Missed service level", "未达服务水平"),
            SlMet => ("Met service level", "达到服务水平"),
            SlExcluded => ("Not counted", "不计入"),
            CallbackPending => ("Not called back", "待回拨"),
            CallbackDone => ("Called back", "已回拨"),
            BackToReport => ("Back to the report", "返回报表"),
            Every15m => ("15 minutes", "15 分钟"),
            Every30m => ("30 minutes", "30 分钟"),
            Every60m => ("Hour", "小时"),
            EveryDay => ("Day", "日"),
            EveryWeek => ("Week", "周"),
            EveryMonth => ("Month", "月"),
            PreviousDay => ("Previous day", "前一日"),
            SameWeekdayLastWeek => ("Same weekday last week", "上周同日"),
            SameWeekday4Weeks => (
                "Same weekday, last 4 weeks (average)",
                "近 4 周同日（平均）",
            ),
        }
    }

    /// The label of a granularity of `super::page::INTERVALS`.
    pub fn interval(name: &str) -> RKey {
        match name {
            "30m" => RKey::Every30m,
            "60m" => RKey::Every60m,
            "day" => RKey::EveryDay,
            "week" => RKey::EveryWeek,
            "month" => RKey::EveryMonth,
            _ => RKey::Every15m,
        }
    }

    /// The label of a comparison of `super::page::AGAINST`.
    pub fn against(name: &str) -> RKey {
        match name {
            "same-weekday-last-week" => RKey::SameWeekdayLastWeek,
            "same-weekday-4-weeks-avg" => RKey::SameWeekday4Weeks,
            _ => RKey::PreviousDay,
        }
    }

    /// The label of a queue outcome, or of a service-level or callback state.
    pub fn state(name: &str) -> Option<RKey> {
        Some(match name {
            "answered" => RKey::OutcomeAnswered,
            "abandoned" => RKey::OutcomeAbandoned,
            "timed_out" => RKey::OutcomeTimedOut,
            "transferred" => RKey::OutcomeTransferred,
            "missed" => RKey::SlMissed,
            "met" => RKey::SlMet,
            "excluded" => RKey::SlExcluded,
            "pending" => RKey::CallbackPending,
            "done" => RKey::CallbackDone,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_differ_where_they_should() {
        assert_eq!(RKey::Title.t(Lang::En), "Reports");
        assert_eq!(RKey::Title.t(Lang::Zh), "报表");
        for name in super::super::page::OUTCOMES {
            assert!(RKey::state(name).is_some(), "{name}");
        }
        assert_eq!(RKey::interval("day"), RKey::EveryDay);
        assert_eq!(RKey::against("x"), RKey::PreviousDay);
    }
}
