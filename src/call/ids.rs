//! Newtypes for the SIP identifiers a call carries (RFC 3261 §8.1.1, §17.1.3).

use serde::Serialize;
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// The Call-ID header: names one call on every message of its dialog.
    CallId
);
string_id!(
    /// A From/To tag: one side's half of the dialog id.
    Tag
);
string_id!(
    /// A Via branch: names one transaction (starts with the RFC 3261 magic cookie).
    Branch
);

/// SIP methods hotline sends or answers. Anything else is `Other` and gets a 501.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Info,
    Update,
    Other(String),
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Other(s) => s,
        };
        f.write_str(s)
    }
}

/// Names an inbound request held by the SIP edge, so the core can answer it without
/// knowing the SIP library's types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestHandle(pub u64);
