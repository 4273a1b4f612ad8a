//! SDP offer/answer tests: sipp's, Asterisk's and baresip's answers, SRTP crypto lines, what is
//! refused.

use super::*;
use std::net::Ipv4Addr;

const SIPP_UAS: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

const ASTERISK: &str = "v=0\r\n\
o=- 1718291245 1718291247 IN IP4 192.0.2.10\r\n\
s=Asterisk\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 17692 RTP/AVP 8 0 96\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:96 telephone-event/8000\r\n\
a=fmtp:96 0-16\r\n\
a=ptime:20\r\n\
a=maxptime:150\r\n\
a=sendrecv\r\n";

#[test]
fn offer_round_trips() {
    let addr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    let text = offer(addr, 40000, 42, 1);
    assert!(text.ends_with("\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'));
    assert!(text.contains("m=audio 40000 RTP/AVP 0 8 101\r\n"));
    assert!(text.contains("a=fmtp:101 0-16\r\n"));
    let sd = parse(&text).unwrap();
    assert_eq!(sd.origin_session_id, 42);
    assert_eq!(sd.version, 1);
    assert_eq!(sd.connection, addr);
    assert_eq!(sd.port, 40000);
    assert_eq!(sd.ptime, Some(20));
    assert_eq!(sd.direction, Direction::SendRecv);
    let names: Vec<_> = sd.formats.iter().map(|f| f.encoding.as_str()).collect();
    assert_eq!(names, ["PCMU", "PCMA", "telephone-event"]);
    assert_eq!(sd.formats[2].fmtp.as_deref(), Some("0-16"));
    let neg = negotiate(&sd).unwrap();
    assert_eq!(neg.codec, Codec::Pcmu);
    assert_eq!(neg.dtmf_pt, Some(PayloadType(101)));
}

#[test]
fn ipv6_offer() {
    let addr: IpAddr = "2001:db8::1".parse().unwrap();
    let text = offer(addr, 4000, 1, 2);
    assert!(text.contains("c=IN IP6 2001:db8::1\r\n"));
    assert_eq!(parse(&text).unwrap().connection, addr);
}

#[test]
fn sipp_answer() {
    let sd = parse(SIPP_UAS).unwrap();
    let neg = negotiate(&sd).unwrap();
    assert_eq!(neg.codec, Codec::Pcmu);
    assert_eq!(neg.codec_pt, PayloadType(0));
    assert_eq!(neg.dtmf_pt, None);
    assert_eq!(
        neg.remote,
        "127.0.0.1:6000".parse::<std::net::SocketAddr>().unwrap()
    );
    assert_eq!(neg.direction, Direction::SendRecv);
    assert_eq!(sd.origin_session_id, 53655765);
    assert_eq!(sd.version, 2353687637);
}

#[test]
fn asterisk_answer_lf_only() {
    let sd = parse(&ASTERISK.replace("\r\n", "\n")).unwrap();
    assert_eq!(sd.ptime, Some(20));
    let neg = negotiate(&sd).unwrap();
    assert_eq!(neg.codec, Codec::Pcma);
    assert_eq!(neg.codec_pt, PayloadType(8));
    assert_eq!(neg.dtmf_pt, Some(PayloadType(96)));
    assert_eq!(
        neg.remote,
        "192.0.2.10:17692".parse::<std::net::SocketAddr>().unwrap()
    );
}

#[test]
fn static_pts_without_rtpmap_and_media_level_c() {
    let text = "v=0\n\
o=- 1 1 IN IP4 10.0.0.1\n\
s=-\n\
c=IN IP4 10.0.0.1\n\
t=0 0\n\
m=video 5000 RTP/AVP 31\n\
c=IN IP4 10.0.0.3\n\
a=sendonly\n\
m=audio 5004 RTP/AVP 18 8 0 101\n\
c=IN IP4 10.0.0.2/127\n\
a=rtpmap:101 telephone-event/8000\n\
a=fmtp:101 0-15\n\
m=audio 6000 RTP/AVP 0\n\
c=IN IP4 10.0.0.9\n";
    let sd = parse(text).unwrap();
    assert_eq!(sd.connection, "10.0.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(sd.port, 5004);
    assert_eq!(sd.direction, Direction::SendRecv);
    let pts: Vec<_> = sd.formats.iter().map(|f| f.pt.0).collect();
    assert_eq!(pts, [18, 8, 0, 101]);
    let neg = negotiate(&sd).unwrap();
    assert_eq!(neg.codec, Codec::Pcma);
    assert_eq!(neg.dtmf_pt, Some(PayloadType(101)));
}

#[test]
fn session_level_attributes_and_hold() {
    let text = "v=0\r\n\
o=- 7 8 IN IP4 192.0.2.1\r\n\
s=-\r\n\
c=IN IP4 192.0.2.1\r\n\
t=0 0\r\n\
a=sendonly\r\n\
m=audio 9000 RTP/AVP 0\r\n";
    let sd = parse(text).unwrap();
    assert_eq!(sd.direction, Direction::SendOnly);
    assert_eq!(answer_direction(sd.direction), Direction::RecvOnly);
    let media_level = text.replace(
        "m=audio 9000 RTP/AVP 0\r\n",
        "m=audio 9000 RTP/AVP 0\r\na=inactive\r\n",
    );
    assert_eq!(parse(&media_level).unwrap().direction, Direction::Inactive);
}

#[test]
fn answer_directions() {
    assert_eq!(answer_direction(Direction::SendOnly), Direction::RecvOnly);
    assert_eq!(answer_direction(Direction::Inactive), Direction::Inactive);
    assert_eq!(answer_direction(Direction::SendRecv), Direction::SendRecv);
    assert_eq!(answer_direction(Direction::RecvOnly), Direction::SendOnly);
}

#[test]
fn answer_to_reinvite() {
    let neg = negotiate(&parse(ASTERISK).unwrap()).unwrap();
    let addr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    let text = answer(addr, 40000, 42, 2, &neg, Direction::RecvOnly, None);
    assert!(text.contains("m=audio 40000 RTP/AVP 8 96\r\n"));
    assert!(text.contains("a=rtpmap:96 telephone-event/8000\r\n"));
    assert!(text.contains("a=recvonly\r\n"));
    let sd = parse(&text).unwrap();
    assert_eq!(sd.version, 2);
    assert_eq!(sd.direction, Direction::RecvOnly);
    let back = negotiate(&sd).unwrap();
    assert_eq!(back.codec, Codec::Pcma);
    assert_eq!(back.dtmf_pt, Some(PayloadType(96)));

    let no_dtmf = Negotiated {
        dtmf_pt: None,
        ..neg
    };
    let text = answer(addr, 40000, 42, 3, &no_dtmf, Direction::SendRecv, None);
    assert!(text.contains("m=audio 40000 RTP/AVP 8\r\n"));
    assert!(!text.contains("telephone-event"));
}

#[test]
fn errors() {
    assert_eq!(parse(""), Err(SdpError::BadOrigin));
    let no_audio = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\nm=video 5 RTP/AVP 31\r\n";
    assert_eq!(parse(no_audio), Err(SdpError::NoAudio));
    let no_c = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\n";
    assert_eq!(parse(no_c), Err(SdpError::BadConnection));
    let bad_c = "o=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 nowhere\r\nm=audio 5 RTP/AVP 0\r\n";
    assert_eq!(parse(bad_c), Err(SdpError::BadConnection));
    let bad_port = "o=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n";
    assert_eq!(parse(bad_port), Err(SdpError::BadMedia));
    let bad_o = "o=- x 1 IN IP4 1.2.3.4\r\n";
    assert_eq!(parse(bad_o), Err(SdpError::BadOrigin));

    let rejected = SIPP_UAS.replace("m=audio 6000", "m=audio 0");
    let sd = parse(&rejected).unwrap();
    assert_eq!(sd.port, 0);
    assert_eq!(negotiate(&sd), Err(SdpError::Rejected));

    let g729 = SIPP_UAS
        .replace("RTP/AVP 0", "RTP/AVP 18")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000");
    assert_eq!(
        negotiate(&parse(&g729).unwrap()),
        Err(SdpError::NoCommonCodec)
    );
}

#[test]
fn garbage_does_not_panic() {
    for text in [
        "=\n==\na=\na=rtpmap:\na=rtpmap:x y\nm=\nm=audio\nm=audio x\n",
        "o=\nc=\nc=IN\nm=audio 1 RTP/AVP 300 abc 0\na=rtpmap:0 PCMU\na=fmtp:\n",
        "\u{feff}v=0\r\r\n\n",
    ] {
        let _ = parse(text);
    }
}

#[test]
fn sdes_offer_and_answer() {
    use crate::media::srtp::{Crypto, MasterKey, Suite};
    let addr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    let ours = [
        Crypto {
            tag: 1,
            suite: Suite::AesCm128HmacSha1_80,
            key: MasterKey([1; 30]),
        },
        Crypto {
            tag: 2,
            suite: Suite::AesCm128HmacSha1_32,
            key: MasterKey([2; 30]),
        },
    ];
    let required = offer_with(addr, 40000, 1, 1, &ours, true);
    assert!(required.contains("m=audio 40000 RTP/SAVP 0 8 101\r\n"));
    let sd = parse(&required).unwrap();
    assert!(sd.secure_profile());
    assert_eq!(sd.crypto, ours.to_vec());
    let optional = offer_with(addr, 40000, 1, 1, &ours, false);
    assert!(optional.contains("m=audio 40000 RTP/AVP 0 8 101\r\n"));
    assert_eq!(parse(&optional).unwrap().crypto.len(), 2);
    // A far-end offer with an unusable attribute first: the usable one is negotiated.
    let far = format!(
        "{}a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:{}\r\n{}",
        required.split("a=crypto").next().unwrap(),
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx",
        ours[1].line()
    );
    let neg = negotiate(&parse(&far).unwrap()).unwrap();
    assert_eq!(neg.crypto, Some(ours[1]));
    assert!(neg.savp);
    let text = answer(
        addr,
        40000,
        1,
        2,
        &neg,
        Direction::SendRecv,
        Some((&ours[1], true)),
    );
    assert!(text.contains("m=audio 40000 RTP/SAVP 0 101\r\n"), "{text}");
    assert!(text.ends_with(&ours[1].line()));
    // Plain offers are unchanged.
    assert_eq!(
        offer(addr, 40000, 1, 1),
        offer_with(addr, 40000, 1, 1, &[], false)
    );
}
