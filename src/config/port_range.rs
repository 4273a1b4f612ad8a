//! The RTP port range, written `"20000-20999"`.

use std::fmt;

use serde::Deserialize;

/// An inclusive UDP port range for RTP; `start` is even (RTP uses even ports,
/// RTCP the odd one above) and `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PortRange {
    /// First port, even and non-zero.
    pub start: u16,
    /// Last port, inclusive.
    pub end: u16,
}

impl TryFrom<String> for PortRange {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let bad =
            || format!("bad port range \"{text}\": expected \"START-END\" like \"20000-20999\"");
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let start: u16 = start.parse().map_err(|_| bad())?;
        let end: u16 = end.parse().map_err(|_| bad())?;
        if start == 0 {
            return Err(format!("bad port range \"{text}\": start must not be 0"));
        }
        if !start.is_multiple_of(2) {
            return Err(format!("bad port range \"{text}\": start must be even"));
        }
        if start > end {
            return Err(format!("bad port range \"{text}\": start is after end"));
        }
        Ok(Self { start, end })
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let ok = PortRange::try_from("20000-20999".to_string()).unwrap();
        assert_eq!(
            ok,
            PortRange {
                start: 20000,
                end: 20999
            }
        );
        assert_eq!(ok.to_string(), "20000-20999");
        for (text, needle) in [
            ("20001-20999", "even"),
            ("21000-20000", "after end"),
            ("0-10", "not be 0"),
            ("20000", "expected"),
            ("20000-70000", "expected"),
            ("a-b", "expected"),
        ] {
            let err = PortRange::try_from(text.to_string()).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
