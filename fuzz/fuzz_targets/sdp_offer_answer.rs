//! A far end's SDP (an answer to our offer, or a re-INVITE's offer): parse, negotiate, and
//! our answer to it, which must parse back to the same codec, payload types, direction and
//! key (RFC 3264 §6.1, RFC 4568).
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use hotline::media::sdp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let Ok(theirs) = sdp::parse(&text) else {
        return;
    };
    let _ = theirs.secure_profile();
    let Ok(neg) = sdp::negotiate(&theirs) else {
        return;
    };
    let direction = sdp::answer_direction(theirs.direction);
    let local = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
    let ours = sdp::answer(
        local,
        40000,
        7,
        8,
        &neg,
        direction,
        neg.crypto.as_ref().map(|c| (c, neg.savp)),
    );
    let back = sdp::parse(&ours).expect("our answer parses");
    let again = sdp::negotiate(&back).expect("our answer negotiates");
    assert_eq!(again.codec, neg.codec);
    assert_eq!(again.codec_pt, neg.codec_pt);
    assert_eq!(again.dtmf_pt, neg.dtmf_pt);
    assert_eq!(again.direction, direction);
    assert_eq!(again.crypto, neg.crypto);
    assert_eq!(again.savp, neg.savp && neg.crypto.is_some());
    assert_eq!(again.remote.ip(), local);
});
