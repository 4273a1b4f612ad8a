//! The SIP edge: the only module that names the SIP stack (rsipstack's `sip` module, which is
//! rsip's parser). It turns wire bytes into `crate::call` inputs and `call` outputs into wire
//! bytes, and runs the UDP/TCP/TLS transports. Swapping the SIP library touches nothing else.

mod decode;
mod digest;
mod encode;
mod endpoint;
mod icmp;
mod options;
mod redact;
mod register;
mod resolve;
mod tls;
mod transport;
pub mod uas;

pub use decode::{DecodeError, Decoded, InboundRequest, decode};
pub use encode::{Credentials, SipContext, encode_request, encode_response};
pub use endpoint::{Endpoint, Inbound};
pub use options::{OptionsReply, OptionsTarget, options_once};
pub use redact::redact;
pub use register::{RegisterConfig, RegistrationState, register_loop, register_reporting};
pub use resolve::{host_of, resolve};
pub use tls::{TlsClient, TlsError, TlsSettings};
pub use transport::Transport;
