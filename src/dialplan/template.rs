//! DTMF digit strings with `{name}` placeholders, e.g. `"{contract_digits}#"`.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;

/// Most literal digits a template may hold (a menu step, as written).
pub const MAX_DTMF_LEN: usize = 32;

/// Longest expansion keyed in one step: contract numbers of more than 32 digits exist, and
/// refusing them made every contact of a plan unplaceable (security review, low). Above
/// [`MAX_DTMF_LEN`] the dialer logs a warning; above this the step is refused.
pub const MAX_EXPANDED_LEN: usize = 96;

/// The placeholders a ladder fills from the incident (`runtime::menu_vars`); `hotline dial` may
/// add others with `--var`, so only `hotline check` holds a menu to this list.
pub const PLACEHOLDERS: [&str; 3] = ["contract_digits", "serial_digits", "asset_digits"];

/// Why a [`Template`] could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// No value was given for a placeholder.
    #[error("no value for {{{0}}}")]
    MissingVar(String),
    /// A value holds characters that are not DTMF digits.
    #[error("value of {{{name}}} is not dtmf (0-9 * # A-D): \"{value}\"")]
    NotDtmf {
        /// The placeholder.
        name: String,
        /// Its value.
        value: String,
    },
    /// The expansion is empty or longer than [`MAX_EXPANDED_LEN`].
    #[error("dtmf must be 1 to {MAX_EXPANDED_LEN} digits, expansion has {0}")]
    Length(usize),
}

/// True for the DTMF digits `0-9 * # A-D`.
fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Literal DTMF digits.
    Digits(String),
    /// A `{name}` placeholder.
    Var(String),
}

/// DTMF digits (`0-9 * # A-D`) and `{name}` placeholders (`name` = `[a-z0-9_]+`),
/// checked when loaded; see [`Template::expand`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Template {
    raw: String,
    pieces: Vec<Piece>,
}

impl Template {
    /// Checks `raw`: only DTMF digits and well-formed placeholders, at most
    /// [`MAX_DTMF_LEN`] literal digits, not empty.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("bad dtmf \"{raw}\": {why}");
        let mut pieces = Vec::new();
        let mut rest = raw;
        let mut literal_len = 0;
        while !rest.is_empty() {
            if let Some(after_brace) = rest.strip_prefix('{') {
                let (name, after) = after_brace
                    .split_once('}')
                    .ok_or_else(|| bad("unclosed {"))?;
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    return Err(bad("placeholder names use [a-z0-9_]+"));
                }
                pieces.push(Piece::Var(name.to_string()));
                rest = after;
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let digits = &rest[..end];
                if let Some(c) = digits.chars().find(|c| !is_dtmf(*c)) {
                    return Err(bad(&format!("'{c}' is not a dtmf digit (0-9 * # A-D)")));
                }
                literal_len += digits.len();
                pieces.push(Piece::Digits(digits.to_string()));
                rest = &rest[end..];
            }
        }
        if pieces.is_empty() {
            return Err(bad("empty"));
        }
        if literal_len > MAX_DTMF_LEN {
            return Err(bad(&format!("longer than {MAX_DTMF_LEN} digits")));
        }
        Ok(Self {
            raw: raw.to_string(),
            pieces,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Names of the placeholders, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Var(name) => Some(name.as_str()),
            Piece::Digits(_) => None,
        })
    }

    /// Fills in placeholders from `vars`. Every value must itself be DTMF digits,
    /// so a variable can never inject other characters, and the result must be
    /// 1 to [`MAX_EXPANDED_LEN`] digits.
    pub fn expand(&self, vars: &HashMap<String, String>) -> Result<String, TemplateError> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Digits(digits) => out.push_str(digits),
                Piece::Var(name) => {
                    let value = vars
                        .get(name)
                        .ok_or_else(|| TemplateError::MissingVar(name.clone()))?;
                    if !value.chars().all(is_dtmf) {
                        return Err(TemplateError::NotDtmf {
                            name: name.clone(),
                            value: value.clone(),
                        });
                    }
                    out.push_str(value);
                }
            }
        }
        if out.is_empty() || out.len() > MAX_EXPANDED_LEN {
            return Err(TemplateError::Length(out.len()));
        }
        Ok(out)
    }
}

impl TryFrom<String> for Template {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_templates() {
        for ok in [
            "2",
            "*#ABCD0123456789",
            "{contract_digits}#",
            "{a}{b_2}",
            "1".repeat(32).as_str(),
        ] {
            assert!(Template::parse(ok).is_ok(), "{ok}");
        }
        let cases = [
            ("", "empty"),
            ("12x", "'x' is not a dtmf digit"),
            ("1 2", "' ' is not a dtmf digit"),
            ("a", "'a' is not a dtmf digit"),
            ("w1", "'w' is not a dtmf digit"),
            ("{contract", "unclosed {"),
            ("{}", "placeholder names"),
            ("{Contract}", "placeholder names"),
            ("{a-b}", "placeholder names"),
            ("1}", "'}' is not a dtmf digit"),
        ];
        for (raw, needle) in cases {
            let err = Template::parse(raw).unwrap_err();
            assert!(err.contains(needle), "{raw}: {err}");
        }
        let too_long = "1".repeat(33);
        assert!(
            Template::parse(&too_long)
                .unwrap_err()
                .contains("longer than 32")
        );
    }

    #[test]
    fn lists_placeholders() {
        let t = Template::parse("1{a}2{b}").unwrap();
        assert_eq!(t.placeholders().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(t.as_str(), "1{a}2{b}");
    }

    #[test]
    fn expands_templates() {
        let t = Template::parse("{contract_digits}#").unwrap();
        assert_eq!(
            t.expand(&vars(&[("contract_digits", "123456")])),
            Ok("123456#".to_string())
        );
        assert_eq!(
            t.expand(&vars(&[])),
            Err(TemplateError::MissingVar("contract_digits".into()))
        );
        for injected in ["12,34", "1w2", "12\r\n", "abc", "1 2"] {
            assert!(
                matches!(
                    t.expand(&vars(&[("contract_digits", injected)])),
                    Err(TemplateError::NotDtmf { .. })
                ),
                "{injected:?}"
            );
        }
        // A contract number of 40 digits is keyed in full (it used to make every contact
        // unplaceable); only an absurd one is refused.
        let long = "9".repeat(40);
        assert_eq!(
            t.expand(&vars(&[("contract_digits", &long)])),
            Ok(format!("{long}#"))
        );
        let absurd = "9".repeat(MAX_EXPANDED_LEN);
        assert_eq!(
            t.expand(&vars(&[("contract_digits", &absurd)])),
            Err(TemplateError::Length(MAX_EXPANDED_LEN + 1))
        );
        let only_var = Template::parse("{x}").unwrap();
        assert_eq!(
            only_var.expand(&vars(&[("x", "")])),
            Err(TemplateError::Length(0))
        );
    }
}
