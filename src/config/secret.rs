//! Secrets in config (SIP passwords, webhook tokens, HMAC keys): written inline or as
//! `${ENV_VAR}`, read from the environment at load time. Never printed.

use serde::de::{Deserialize, Deserializer, Error};
use std::fmt;

/// A secret value. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Resolves `${NAME}` from `env` (unset = empty: whoever uses the secret decides whether
    /// empty is acceptable); any other text is taken as is.
    pub fn resolve(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        match text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
            Some(name) => {
                let valid =
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(format!("bad environment variable name \"{name}\""));
                }
                Ok(Secret(env(name).unwrap_or_default()))
            }
            None => Ok(Secret(text.to_string())),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Secret::resolve(&text, |n| std::env::var(n).ok()).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn env_references_are_resolved_and_never_printed() {
        let env = |n: &str| (n == "TOKEN").then(|| "t0ps3cret".to_string());
        let s = Secret::resolve("${TOKEN}", env).expect("set");
        assert_eq!(s.expose(), "t0ps3cret");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(
            Secret::resolve("plain", env).expect("inline").expose(),
            "plain"
        );
        assert!(
            Secret::resolve("${MISSING}", env)
                .expect("unset")
                .is_empty()
        );
        assert!(Secret::resolve("${BAD-NAME}", env).is_err());
    }
}
