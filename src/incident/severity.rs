//! Severity words of every source, normalized to [`Severity`].

use super::Severity;

impl Severity {
    /// Reads a severity word from any source's vocabulary, ignoring case and
    /// separators: Alertmanager/Grafana labels (`critical`, `warning`, `page`),
    /// priorities (`P1`..`P5`, `sev1`..`sev5`), PagerDuty (`critical`, `error`,
    /// `warning`, `info`), Zabbix names (`Disaster`, `High`, `Average`, `Warning`,
    /// `Information`, `Not classified`), syslog (`emerg`..`debug`) and our own
    /// (`major`). `None` for a word it does not know.
    pub fn from_word(word: &str) -> Option<Self> {
        let word: String = word
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let severity = match word.as_str() {
            "critical" | "crit" | "disaster" | "emergency" | "emerg" | "fatal" | "page"
            | "urgent" | "blocker" | "p0" | "p1" | "sev0" | "sev1" | "s1" => Self::Critical,
            "major" | "high" | "error" | "err" | "severe" | "p2" | "sev2" | "s2" => Self::Major,
            "warning" | "warn" | "average" | "medium" | "moderate" | "minor" | "low" | "p3"
            | "p4" | "sev3" | "sev4" | "s3" | "s4" => Self::Warning,
            "info" | "information" | "informational" | "notice" | "debug" | "none" | "ok"
            | "notclassified" | "p5" | "sev5" | "s5" => Self::Info,
            _ => return None,
        };
        Some(severity)
    }

    /// Zabbix's numeric severity (`{EVENT.NSEVERITY}`, 0 to 5). Zabbix lets users
    /// rename the levels, so the number is read before the name.
    pub fn from_zabbix_level(level: &str) -> Option<Self> {
        match level.trim() {
            "5" => Some(Self::Critical),
            "4" => Some(Self::Major),
            "3" | "2" => Some(Self::Warning),
            "1" | "0" => Some(Self::Info),
            _ => None,
        }
    }
}
