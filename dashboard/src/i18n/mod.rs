//! Every label on the wallboard, in one catalogue per language.
//!
//! [`Key`] names each label once; `en.rs` and `zh.rs` each answer every key with an exhaustive
//! `match`, so a label missing from either catalogue is a compile error rather than a blank on
//! the wall. The figure definitions shown in tooltips are part of the catalogue and follow the
//! contract of docs/METRICS.md word for word in meaning.

mod en;
mod key;
mod zh;

use floorwatch_core::{AgentState, NotReadyReason, ServiceLevelVariant, Window};

pub use key::Key;

/// A language the wallboard speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// Every language, in the order the switch offers them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The BCP 47 tag, for `<html lang>` and the `?lang=` parameter.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The language of a BCP 47 tag such as `navigator.language` (`zh-CN`, `zh-Hans`, `en-GB`),
    /// or `None` when the wallboard does not speak it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The first language of the browser's preference list that the wallboard speaks; English
    /// when none is.
    pub fn from_browser<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Lang {
        preferred
            .into_iter()
            .find_map(Lang::from_tag)
            .unwrap_or_default()
    }

    /// The other language, for the one-button switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }

    /// The label of `key` in this language.
    pub fn t(self, key: Key) -> &'static str {
        match self {
            Lang::En => en::text(key),
            Lang::Zh => zh::text(key),
        }
    }

    /// The label of `key` with `{name}` placeholders filled in.
    pub fn fill(self, key: Key, args: &[(&str, &str)]) -> String {
        fill(self.t(key), args)
    }

    /// The name of a window (`Last 15 minutes`).
    pub fn window(self, window: Window) -> &'static str {
        self.t(match window {
            Window::Rolling15 => Key::WindowRolling15,
            Window::Rolling30 => Key::WindowRolling30,
            Window::Rolling60 => Key::WindowRolling60,
            Window::Interval15 => Key::WindowInterval15,
            Window::Interval30 => Key::WindowInterval30,
            Window::Today => Key::WindowToday,
        })
    }

    /// The name of an agent state; `None` is logged out.
    pub fn state(self, state: Option<AgentState>) -> &'static str {
        self.t(match state {
            None => Key::StateLoggedOut,
            Some(AgentState::Available) => Key::StateAvailable,
            Some(AgentState::Ringing) => Key::StateRinging,
            Some(AgentState::OnCall) => Key::StateOnCall,
            Some(AgentState::Hold) => Key::StateHold,
            Some(AgentState::AfterCallWork) => Key::StateAfterCallWork,
            Some(AgentState::NotReady) => Key::StateNotReady,
        })
    }

    /// The name of a not-ready reason.
    pub fn reason(self, reason: NotReadyReason) -> &'static str {
        self.t(match reason {
            NotReadyReason::Break => Key::ReasonBreak,
            NotReadyReason::Meal => Key::ReasonMeal,
            NotReadyReason::Meeting => Key::ReasonMeeting,
            NotReadyReason::Training => Key::ReasonTraining,
            NotReadyReason::Coaching => Key::ReasonCoaching,
            NotReadyReason::Outbound => Key::ReasonOutbound,
            NotReadyReason::Other => Key::ReasonOther,
        })
    }

    /// The definition of the service level under a queue's variant (docs/METRICS.md, "Service
    /// level").
    pub fn service_level_definition(self, variant: ServiceLevelVariant) -> &'static str {
        self.t(match variant {
            ServiceLevelVariant::AnsweredOverOffered => Key::DefSlAnsweredOverOffered,
            ServiceLevelVariant::AnsweredOverAnswered => Key::DefSlAnsweredOverAnswered,
            ServiceLevelVariant::RemovedOverOffered => Key::DefSlRemovedOverOffered,
            ServiceLevelVariant::AnsweredOverOfferedExclAbandonedWithin => {
                Key::DefSlExclAbandonedWithin
            }
        })
    }
}

/// `text` with each `{name}` placeholder replaced by its value.
pub fn fill(text: &str, args: &[(&str, &str)]) -> String {
    let mut text = text.to_string();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// The button naming the other language (`data-control="lang"`), on the header and the
/// sign-in page.
pub fn lang_switch_html(lang: Lang) -> String {
    format!(
        "<button type=\"button\" class=\"lang-switch\" data-control=\"lang\" title=\"{}\">{}</button>",
        lang.t(Key::SwitchLanguage),
        lang.other().t(Key::LanguageName)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_label_in_every_language() {
        for lang in Lang::ALL {
            for &key in Key::ALL {
                assert!(!lang.t(key).trim().is_empty(), "{lang:?} {key:?} is empty");
            }
        }
    }

    /// A Chinese label that is still the English one is a missing translation in disguise.
    #[test]
    fn chinese_labels_are_translated() {
        for &key in Key::ALL {
            let (en, zh) = (Lang::En.t(key), Lang::Zh.t(key));
            assert_ne!(en, zh, "{key:?} is not translated");
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{key:?} has no Chinese in {zh:?}"
            );
        }
    }

    #[test]
    fn placeholders_match_between_languages() {
        fn placeholders(s: &str) -> Vec<&str> {
            let mut found: Vec<&str> = s
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
                .collect();
            found.sort_unstable();
            found
        }
        for &key in Key::ALL {
            assert_eq!(
                placeholders(Lang::En.t(key)),
                placeholders(Lang::Zh.t(key)),
                "{key:?}"
            );
        }
        assert_eq!(
            Lang::En.fill(Key::TargetIn, &[("target", "80"), ("t", "20")]),
            "Target 80% in 20 s"
        );
    }

    #[test]
    fn browser_language_picks_the_first_spoken_one() {
        assert_eq!(Lang::from_browser(["zh-CN", "en"]), Lang::Zh);
        assert_eq!(Lang::from_browser(["zh-Hans-CN"]), Lang::Zh);
        assert_eq!(Lang::from_browser(["fr-FR", "en-GB", "zh"]), Lang::En);
        assert_eq!(Lang::from_browser(["de", "zh_TW"]), Lang::Zh);
        assert_eq!(Lang::from_browser(["fr"]), Lang::En);
        assert_eq!(Lang::from_browser([]), Lang::En);
        assert_eq!(Lang::from_tag(Lang::Zh.tag()), Some(Lang::Zh));
        assert_eq!(Lang::from_tag(Lang::En.tag()), Some(Lang::En));
    }

    #[test]
    fn every_state_reason_window_and_variant_has_a_label() {
        for lang in Lang::ALL {
            for w in Window::ALL {
                assert!(!lang.window(w).is_empty());
            }
            for s in AgentState::ALL {
                assert_ne!(lang.state(Some(s)), lang.state(None));
            }
            for v in ServiceLevelVariant::ALL {
                assert!(!lang.service_level_definition(v).is_empty());
            }
        }
    }
}
