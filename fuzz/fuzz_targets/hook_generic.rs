//! A generic webhook body: parse, bounds, briefing text.
#![no_main]

use hotline::incident::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| hotline_fuzz::webhook(Format::Generic, body));
