//! 简体中文标签。

use super::key::Key;

pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::AppTitle => "Floorwatch 话务大屏",
        Key::ViewWall => "大屏",
        Key::ViewSupervisor => "班长视图",
        Key::LanguageName => "中文",
        Key::SwitchLanguage => "语言",
        Key::WindowLabel => "统计区间",
        Key::WindowRolling15 => "最近 15 分钟",
        Key::WindowRolling30 => "最近 30 分钟",
        Key::WindowRolling60 => "最近 60 分钟",
        Key::WindowInterval15 => "本 15 分钟时段",
        Key::WindowInterval30 => "本 30 分钟时段",
        Key::WindowToday => "今日",
        Key::WindowLive => "实时",
        Key::ScopeCentre => "全中心",
        Key::ScopeQueue => "队列",
        Key::ScopeTeam => "班组",
        Key::ConnConnecting => "连接中",
        Key::ConnLive => "实时",
        Key::ConnReconnecting => "重新连接中",
        Key::ConnStale => "数据过期",
        Key::TipConnection => {
            "实时：数据正在推送。重新连接中：连接已断开，正在重试；恢复后页面按最新快照重新同步。\
             数据过期：10 秒内未收到任何数据，指标置灰，直到数据恢复。"
        }
        Key::TipStale => "已 10 秒未刷新：该指标可能已过时。",
        Key::ServerRefused => "服务器拒绝了订阅",
        Key::NoData => "暂无数据",
        Key::TargetIn => "目标 {t} 秒内 {target}%",
        Key::TipColours => "颜色",

        Key::ServiceLevel => "服务水平",
        Key::CallsWaiting => "排队来电",
        Key::LongestWait => "当前最长等待",
        Key::AnsweredToday => "今日接听",
        Key::AbandonedToday => "今日放弃",
        Key::AbandonRate => "放弃率",
        Key::Asa => "平均应答时长",
        Key::Aht => "平均处理时长",
        Key::AgentsAvailable => "示闲",
        Key::AgentsOnCall => "通话中",
        Key::AgentsAfterCallWork => "话后整理",
        Key::AgentsNotReady => "示忙",
        Key::AgentsLoggedIn => "已签入",
        Key::AgentsNeeded => "所需坐席",
        Key::Handled => "处理量",
        Key::Occupancy => "占用率",
        Key::Utilisation => "工时利用率",
        Key::SparkServiceLevel => "服务水平（最近 60 分钟）",
        Key::SparkWaiting => "排队来电（最近 60 分钟）",

        Key::QueuesHeading => "队列",
        Key::TeamsHeading => "班组",
        Key::AgentsHeading => "坐席",
        Key::ColQueue => "队列",
        Key::ColTeam => "班组",
        Key::ColAgent => "坐席",
        Key::ColState => "状态",
        Key::ColReason => "原因",
        Key::ColTimeInState => "状态持续",
        Key::ColCallDuration => "当前通话",
        Key::ColCallsHandled => "处理来电",
        Key::ColAgentAht => "今日平均处理时长",
        Key::FilterTeam => "班组",
        Key::FilterState => "状态",
        Key::FilterAll => "全部",
        Key::Overrun => "超出休息时限",
        Key::SortHint => "点击列标题排序，再次点击反向排序。",
        Key::AgentCount => "显示 {shown} 名，共 {total} 名坐席",

        Key::StateLoggedOut => "已签出",
        Key::StateAvailable => "示闲",
        Key::StateRinging => "振铃",
        Key::StateOnCall => "通话中",
        Key::StateHold => "保持",
        Key::StateAfterCallWork => "话后整理",
        Key::StateNotReady => "示忙",
        Key::ReasonBreak => "小休",
        Key::ReasonMeal => "用餐",
        Key::ReasonMeeting => "会议",
        Key::ReasonTraining => "培训",
        Key::ReasonCoaching => "辅导",
        Key::ReasonOutbound => "外呼",
        Key::ReasonOther => "其他",

        Key::DefSlAnsweredOverOffered => {
            "T（{t} 秒）内接听的来电 ÷（呼入量 − 短时放弃）。排队来电在其排队结果（接听、放弃或超时）\
             落在统计区间内时计入；呼入量 = 接听 + 放弃 + 超时；等待时长 = 结果时间 − 进入队列时间；\
             短时放弃指等待不足 {s} 秒即挂机。"
        }
        Key::DefSlAnsweredOverAnswered => {
            "T（{t} 秒）内接听的来电 ÷ 接听量。来电在接听时间落在统计区间内时计入；\
             等待时长 = 接听时间 − 进入队列时间。"
        }
        Key::DefSlRemovedOverOffered => {
            "（T（{t} 秒）内接听的来电 + 等待 ≤ T 即放弃或超时的来电）÷ 呼入量。\
             排队来电在其排队结果落在统计区间内时计入；呼入量 = 接听 + 放弃 + 超时。"
        }
        Key::DefSlExclAbandonedWithin => {
            "T（{t} 秒）内接听的来电 ÷（呼入量 − 等待 ≤ T 即放弃的来电）：T 内的放弃不影响结果。\
             排队来电在其排队结果落在统计区间内时计入。"
        }
        Key::DefCallsWaiting => "当前在队列中等待坐席的来电数。",
        Key::DefLongestWait => {
            "仍在等待的最早一通来电已等待的时长；从其进入队列起在本屏幕上实时计时。"
        }
        Key::DefAnswered => "坐席接听的排队来电，接听时间落在统计区间内时计入。",
        Key::DefAbandoned => {
            "来电者在排队等待中挂机的来电，挂机时间落在统计区间内时计入（含短时放弃）。"
        }
        Key::DefAbandonRate => {
            "（放弃 − 短时放弃）÷（呼入量 − 短时放弃）。短时放弃指等待不足 {s} 秒即挂机。"
        }
        Key::DefAsa => "平均应答时长：统计区间内已接听来电的平均排队等待时长。",
        Key::DefAht => {
            "平均处理时长：（通话 + 保持 + 话后整理）÷ 处理量，按统计区间内结束的来电计算。"
        }
        Key::DefAgentsAvailable => "当前已签入并可接听下一通来电的坐席数。",
        Key::DefAgentsOnCall => "当前正在通话的坐席数，含保持中的来电。",
        Key::DefAgentsAfterCallWork => "当前正在做话后整理的坐席数。",
        Key::DefAgentsNotReady => {
            "当前已签入但不接听来电的坐席数，含各类原因（小休、用餐、会议、培训、辅导、外呼、其他）。"
        }
        Key::DefAgentsLoggedIn => "当前已签入的坐席数，不论状态。",
        Key::DefAgentsNeeded => {
            "Erlang C：按最近 30 分钟的来电速率和平均处理时长，当前达到本队列服务水平目标所需的最少坐席数。"
        }
        Key::DefHandled => "在统计区间内结束的来电数（按结束时间）。",
        Key::DefOccupancy => {
            "处理时长 ÷（处理时长 + 示闲时长），按范围内坐席求和；每位坐席的状态时长在统计区间边界处截断。"
        }
        Key::DefUtilisation => {
            "通话时长 ÷ 签入时长，按范围内坐席求和；每位坐席的时长在统计区间边界处截断。"
        }
        Key::DefSparkServiceLevel => "最近 60 分钟内每分钟结束时的滚动 15 分钟服务水平。",
        Key::DefSparkWaiting => "最近 60 分钟内每分钟结束时的排队来电数。",
        Key::DefTimeInState => "坐席进入当前状态以来的时长，实时计时。",
        Key::DefCallDuration => "坐席接听当前来电以来的时长，实时计时。",
        Key::DefCallsHandledToday => "自中心每日清零时刻以来该坐席处理的来电数。",
        Key::DefAgentAht => {
            "自每日清零时刻以来该坐席的平均处理时长：（通话 + 保持 + 话后整理）÷ 处理来电数。"
        }
        Key::DefOverrun => "坐席小休超过 {break} 分钟或用餐超过 {meal} 分钟时高亮显示。",
        Key::DefNull => "分母为零的指标显示“—”，不显示 0% 或 100%。测呼来电从不计入。",

        Key::ColourServiceLevel => {
            "低于目标为红色；高于目标不足 {margin} 个百分点为黄色；否则为绿色。"
        }
        Key::ColourCallsWaiting => {
            "排队来电不多于示闲坐席时为绿色；多于示闲坐席时为黄色；多出 {red} 通及以上为红色。"
        }
        Key::ColourLongestWait => "低于 T（{t} 秒）为绿色；达到 T 为黄色；达到 2 倍 T 为红色。",
        Key::ColourAbandonRate => {
            "低于 {amber}% 为绿色；达到 {amber}% 为黄色；达到 {red}% 为红色。"
        }
        Key::ColourAsa => "低于 T（{t} 秒）为绿色；达到 T 为黄色；达到 2 倍 T 为红色。",
        Key::ColourAgentsAvailable => {
            "有来电排队且无示闲坐席时为红色；无示闲坐席时为黄色；否则为绿色。"
        }
        Key::AlertsHeading => "告警",
        Key::AlertsNone => "暂无告警",
        Key::AlertLevelWarning => "警告",
        Key::AlertLevelCritical => "严重",
        Key::AlertBanner => "{critical} 条严重告警，{warning} 条警告",
        Key::ColAlertLevel => "级别",
        Key::ColAlertRule => "规则",
        Key::ColAlertScope => "范围",
        Key::ColAlertWhat => "内容",
        Key::ColAlertSince => "持续",
        Key::ColAlertStatus => "状态",
        Key::AlertToldRole => "未确认，已通知：{role}",
        Key::AlertAcknowledgedBy => "已由 {by} 确认",
        Key::AlertCleared => "已解除",
        Key::AlertOpenStatus => "未确认",
        Key::AlertAcknowledge => "确认",
        Key::AlertNote => "备注",
        Key::RoleTeamLead => "组长",
        Key::RoleSupervisor => "值班长",
        Key::RoleManager => "中心经理",
        Key::KindNotReadyOverrun => "示忙超时",
        Key::KindSourceSilent => "数据源中断",
        Key::KindSuddenPeak => "话务突增",
        Key::KindDroppedCalls => "频繁掉话",
        Key::AlertMetricBelow => "{metric} {value} 低于 {threshold}",
        Key::AlertMetricAbove => "{metric} {value} 高于 {threshold}",
        Key::AlertNotReady => "{agent}：示忙（{reason}）已 {for}，允许 {allowance}",
        Key::AlertSilent => "数据源 {source}：已 {for} 无事件",
        Key::AlertPeak => "5 分钟进线 {value} 通，平时 {usual} 通",
        Key::AlertDropped => "{value} 通来电接通后即挂断",
        Key::ColourAgentsNotReady => "示忙坐席达到签入坐席的 {amber}% 为黄色；达到 {red}% 为红色。",

        Key::RoleAdmin => "管理员",
        Key::RoleWallDisplay => "大屏",
        Key::RoleSecurityOfficer => "安全审计员",
        Key::RoleIngest => "数据接入",
        Key::ViewAudit => "审计记录",
        Key::ScopeLabel => "范围",
        Key::SignInHeading => "登录",
        Key::SignInUser => "用户名",
        Key::SignInPassword => "密码",
        Key::SignInButton => "登录",
        Key::SignInNoAnswer => "服务器无响应，请重试。",
        Key::SignInWrong => "用户名或密码错误",
        Key::SignInTooMany => "尝试次数过多：请 {s} 秒后再试。",
        Key::SignedOut => "已退出登录",
        Key::SignOut => "退出",
        Key::AuditActor => "操作人",
        Key::AuditAction => "操作",
        Key::AuditSince => "起始（12h、7d、2026-03-01）",
        Key::AuditShow => "查询",
        Key::ColAuditTime => "时间",
        Key::ColAuditTarget => "对象",
        Key::ColAuditDetail => "详情",
        Key::AuditChainOk => "哈希链完整：共 {records} 条，最后哈希 {hash}",
        Key::ViewDevices => "屏幕配对",
        Key::PairScreen => "配对此屏幕",
        Key::PairHint => "请管理员在“屏幕配对”页输入此配对码（5 分钟内有效）：",
        Key::PairExpired => "配对码已过期，请重新获取。",
        Key::DeviceCode => "屏幕上显示的配对码",
        Key::DeviceName => "屏幕名称",
        Key::DeviceRole => "显示为",
        Key::DevicePair => "配对",
        Key::DevicePaired => "已配对 {name}：该屏幕将自动登录。",
        Key::AuditChainBroken => "哈希链在第 {records} 条之后断开：{problem}",
        Key::NotEnoughCalls => "来电不足",
    }
}
