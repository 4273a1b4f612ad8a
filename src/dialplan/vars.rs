//! A dialplan's optional `[vars]` table and the values a menu keys in.
//!
//! ```toml
//! [vars]
//! contract = "HPE-PC-2231-88812"   # used when the alert carries no contract
//! serial = "CZJ1234567"            # ... no serial
//! asset = "A-1001"                 # ... no asset tag
//! letters = "error"                # letters in a value: "error" (default), "drop", "keypad"
//! ```
//!
//! `{contract_digits}`, `{serial_digits}` and `{asset_digits}` are the alert's contract,
//! serial and asset tag (or these defaults) as DTMF digits: digits are kept, separators
//! (`-`, `/`, spaces, dots) are dropped, and letters follow `letters`: `"error"` refuses the
//! value (a contract "HPE-PC-2231-88812" is not silently keyed as 223188812), `"drop"` leaves
//! them out, `"keypad"` keys each on its phone-keypad digit (A-C → 2 … W-Z → 9). A placeholder
//! with no value, or with a refused one, fails the call before it is dialled: the ladder
//! goes on to the next contact with that reason; a wrong DTMF string is never keyed in.

use std::collections::HashMap;

use serde::Deserialize;

use super::Template;

/// `[vars]` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanVars {
    /// The contract number when the alert has none.
    pub contract: Option<String>,
    /// The serial number when the alert has none.
    pub serial: Option<String>,
    /// The asset tag when the alert has none.
    pub asset: Option<String>,
    /// What letters in a value become.
    pub letters: Letters,
}

/// `[vars] letters`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Letters {
    /// A value with letters cannot be keyed: the call is not placed.
    #[default]
    Error,
    /// Letters are left out.
    Drop,
    /// Each letter is keyed as its phone-keypad digit.
    Keypad,
}

/// The keypad digit of an ASCII letter (ITU E.161).
fn keypad(c: char) -> char {
    match c.to_ascii_uppercase() {
        'A'..='C' => '2',
        'D'..='F' => '3',
        'G'..='I' => '4',
        'J'..='L' => '5',
        'M'..='O' => '6',
        'P'..='S' => '7',
        'T'..='V' => '8',
        _ => '9',
    }
}

/// `raw` as DTMF digits under `letters`, or why it cannot be keyed.
pub fn digits_of(raw: &str, letters: Letters) -> Result<String, String> {
    let mut out = String::new();
    let mut found: Vec<char> = Vec::new();
    for c in raw.chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if c.is_alphabetic() {
            match letters {
                Letters::Error => found.push(c),
                Letters::Drop => {}
                Letters::Keypad if c.is_ascii_alphabetic() => out.push(keypad(c)),
                Letters::Keypad => found.push(c),
            }
        }
    }
    if !found.is_empty() {
        let list: String = found.iter().collect();
        let hint = match letters {
            Letters::Keypad => "only A-Z have a keypad digit",
            _ => "set [vars] letters = \"drop\" or \"keypad\" if the vendor's menu wants that",
        };
        return Err(format!("\"{raw}\" has letters ({list}): {hint}"));
    }
    if out.is_empty() {
        return Err(format!("\"{raw}\" has no digits"));
    }
    Ok(out)
}

/// The placeholder values for one incident on one dialplan, and why the others have none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MenuVars {
    pub values: HashMap<String, String>,
    /// Placeholder → why it has no value.
    pub problems: HashMap<String, String>,
}

impl MenuVars {
    /// From the alert's contract, serial and asset tag, each falling back to `[vars]`.
    pub fn new(
        contract: Option<&str>,
        serial: Option<&str>,
        asset: Option<&str>,
        plan: &PlanVars,
    ) -> Self {
        let mut v = Self::default();
        let given = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        for (name, field, alert, default) in [
            ("contract_digits", "contract", contract, &plan.contract),
            ("serial_digits", "serial", serial, &plan.serial),
            ("asset_digits", "asset", asset, &plan.asset),
        ] {
            let Some(raw) = given(alert).or_else(|| given(default.as_deref())) else {
                let why = format!(
                    "no value for {{{name}}}: the alert has no {field} and the dialplan's [vars] sets none"
                );
                v.problems.insert(name.into(), why);
                continue;
            };
            match digits_of(&raw, plan.letters) {
                Ok(d) => {
                    v.values.insert(name.into(), d);
                }
                Err(e) => {
                    v.problems.insert(name.into(), format!("{{{name}}}: {e}"));
                }
            }
        }
        v
    }

    /// Every placeholder this fills or explains.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values
            .keys()
            .chain(self.problems.keys())
            .map(String::as_str)
    }

    /// Why `t` cannot be keyed with these values (the first placeholder that has none).
    pub fn check(&self, t: &Template) -> Result<(), String> {
        for name in t.placeholders() {
            if self.values.contains_key(name) {
                continue;
            }
            return Err(self
                .problems
                .get(name)
                .cloned()
                .unwrap_or_else(|| format!("no value for {{{name}}}")));
        }
        t.expand(&self.values)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
