//! The answers to `api callcenter_config queue list ...`, from the switch's tables, in the
//! columns mod_callcenter.c prints (the `members`, `agents` and `tiers` CREATE TABLE
//! statements; `queue list` prints its own header).

use floorwatch_core::Millis;
use floorwatch_core::esl::ApiTable;

use super::EslWriter;

const QUEUE_COLUMNS: [&str; 19] = [
    "name",
    "strategy",
    "moh_sound",
    "time_base_score",
    "tier_rules_apply",
    "tier_rule_wait_second",
    "tier_rule_wait_multiply_level",
    "tier_rule_no_agent_no_wait",
    "discard_abandoned_after",
    "abandoned_resume_allowed",
    "max_wait_time",
    "max_wait_time_with_no_agent",
    "max_wait_time_with_no_agent_time_reached",
    "record_template",
    "calls_answered",
    "calls_abandoned",
    "ring_progressively_delay",
    "skip_agents_with_external_calls",
    "agent_no_answer_status",
];

const AGENT_COLUMNS: [&str; 21] = [
    "name",
    "instance_id",
    "uuid",
    "type",
    "contact",
    "status",
    "state",
    "max_no_answer",
    "wrap_up_time",
    "reject_delay_time",
    "busy_delay_time",
    "no_answer_delay_time",
    "last_bridge_start",
    "last_bridge_end",
    "last_offered_call",
    "last_status_change",
    "no_answer_count",
    "calls_answered",
    "talk_time",
    "ready_time",
    "external_calls_count",
];

const MEMBER_COLUMNS: [&str; 17] = [
    "queue",
    "instance_id",
    "uuid",
    "session_uuid",
    "cid_number",
    "cid_name",
    "system_epoch",
    "joined_epoch",
    "rejoined_epoch",
    "bridge_epoch",
    "abandoned_epoch",
    "base_score",
    "skill_score",
    "serving_agent",
    "serving_system",
    "state",
    "score",
];

const TIER_COLUMNS: [&str; 5] = ["queue", "agent", "state", "level", "position"];

impl EslWriter {
    /// The output of `api COMMAND` at switch time `now`, as mod_callcenter and the core
    /// write it; `None` for a command this switch does not know.
    pub fn api(&self, command: &str, now: Millis) -> Option<String> {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            ["callcenter_config", "queue", "list"] => Some(self.queue_list()),
            ["callcenter_config", "queue", "list", "members", rest @ ..] => {
                Some(self.member_list(rest.first().copied(), now))
            }
            ["callcenter_config", "queue", "list", "agents", queue, ..] => {
                Some(self.agent_list(queue))
            }
            ["callcenter_config", "queue", "list", "tiers", queue, ..] => {
                Some(self.tier_list(queue))
            }
            ["callcenter_config", ..] => Some("-ERR Invalid!\n".to_string()),
            _ => None,
        }
    }

    fn queue_list(&self) -> String {
        let mut table = ApiTable::new(&QUEUE_COLUMNS);
        for queue in &self.queues {
            let mut row = vec![
                queue.clone(),
                "longest-idle-agent".into(),
                "local_stream://moh".into(),
                "queue".into(),
            ];
            row.extend(
                [
                    "false", "300", "true", "false", "60", "false", "0", "0", "5", "", "0", "0",
                    "10", "true", "On Break",
                ]
                .map(String::from),
            );
            table.push(row);
        }
        // `queue list` prints its header even with no queue.
        let text = table.encode();
        if table.is_empty() {
            format!("{}\n+OK\n", QUEUE_COLUMNS.join("|"))
        } else {
            text
        }
    }

    fn agent_list(&self, queue: &str) -> String {
        let mut table = ApiTable::new(&AGENT_COLUMNS);
        for (name, a) in self
            .agents
            .iter()
            .filter(|(_, a)| a.queues.iter().any(|q| q == queue))
        {
            table.push(vec![
                name.clone(),
                "single_box".into(),
                a.uuid.clone(),
                "callback".into(),
                format!("user/{name}"),
                a.status.into(),
                a.state.into(),
                "3".into(),
                "0".into(),
                "10".into(),
                "60".into(),
                "0".into(),
                a.last_bridge_start_s.to_string(),
                a.last_bridge_end_s.to_string(),
                "0".into(),
                "0".into(),
                "0".into(),
                a.calls_answered.to_string(),
                "0".into(),
                "0".into(),
                "0".into(),
            ]);
        }
        table.encode()
    }

    fn tier_list(&self, queue: &str) -> String {
        let mut table = ApiTable::new(&TIER_COLUMNS);
        for (name, _) in self
            .agents
            .iter()
            .filter(|(_, a)| a.queues.iter().any(|q| q == queue))
        {
            table.push(vec![
                queue.to_string(),
                name.clone(),
                "Ready".into(),
                "1".into(),
                "1".into(),
            ]);
        }
        table.encode()
    }

    fn member_list(&self, only: Option<&str>, now: Millis) -> String {
        let mut table = ApiTable::new(&MEMBER_COLUMNS);
        let mut members: Vec<_> = self
            .members
            .values()
            .filter(|m| only.is_none_or(|q| q == m.queue))
            .collect();
        members.sort_by(|a, b| {
            (&a.queue, a.joined, &a.session_uuid).cmp(&(&b.queue, b.joined, &b.session_uuid))
        });
        for m in members {
            let joined = m.joined.div_euclid(1000);
            table.push(vec![
                m.queue.clone(),
                "single_box".into(),
                m.uuid.clone(),
                m.session_uuid.clone(),
                m.cid_number.clone(),
                String::new(),
                joined.to_string(),
                joined.to_string(),
                "0".into(),
                m.bridge_s.to_string(),
                "0".into(),
                "0".into(),
                "0".into(),
                m.serving_agent.clone(),
                if m.serving_agent.is_empty() {
                    String::new()
                } else {
                    "single_box".into()
                },
                m.state.into(),
                (now.div_euclid(1000) - joined).to_string(),
            ]);
        }
        table.encode()
    }
}
