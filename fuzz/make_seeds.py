#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/ from the repository's test fixtures (docs/fuzzing.md).

Run from the repository root: python3 fuzz/make_seeds.py. Deterministic; only the
fixtures' own bytes and a few hand-written shapes.
"""
import glob
import hashlib
import os
import re
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "seeds")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


# --- SIP: every message the sipp scenarios send, placeholders filled as sipp would.
SIP_VALUES = {
    "last_Via:": "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport",
    "last_From:": "From: <sip:hotline@127.0.0.1>;tag=1928301774",
    "last_To:": "To: <sip:support@127.0.0.1:5090>",
    "last_Call-ID:": "Call-ID: a84b4c76e66710@127.0.0.1",
    "last_CSeq:": "CSeq: 1 INVITE",
    "last_Contact:": "Contact: <sip:hotline@127.0.0.1:5070>",
    "last_Record-Route:": "Record-Route: <sip:proxy.example;lr>, <sip:p2.example;lr>",
    "last_cseq_number": "1",
    "call_number": "1",
    "pid": "4242",
    "branch": "z9hG4bK-4242-1-0",
    "local_ip": "127.0.0.1",
    "local_port": "5090",
    "media_ip": "127.0.0.1",
    "media_ip_type": "4",
    "media_port": "6000",
    "transport": "UDP",
    "next_url": "sip:hotline@127.0.0.1:5070",
    "auth_user": "hotline",
    "auth_pass": "secret",
    ":space:": " ",
}


def sipp_messages(xml):
    for block in re.findall(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", xml, re.S):
        lines = [l.strip() for l in block.strip("\n").splitlines()]
        while lines and not lines[0]:
            lines.pop(0)
        head, body = [], []
        it = iter(lines)
        for l in it:
            if not l:
                break
            head.append(l)
        body = [l for l in it]
        while body and not body[-1]:
            body.pop()
        body_text = "".join(b + "\r\n" for b in body)

        def fill(text):
            return re.sub(r"\[([^\]]+)\]", lambda m: SIP_VALUES.get(m.group(1), m.group(0)), text)

        body_text = fill(body_text)
        head_text = fill("\r\n".join(head)).replace("[len]", str(len(body_text)))
        yield head_text + "\r\n\r\n" + body_text


for path in sorted(glob.glob(os.path.join(ROOT, "tests/sipp/*.xml"))):
    for msg in sipp_messages(open(path, encoding="latin-1").read()):
        put("sip_decode", msg)
        if "\r\n\r\nv=0" in msg:
            put("sdp_offer_answer", msg.split("\r\n\r\n", 1)[1])

INVITE = (
    "INVITE sip:support@127.0.0.1:5090 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx.1;rport\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:hotline@127.0.0.1>;tag=l\r\n"
    "To: <sip:support@127.0.0.1:5090>\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\n"
    "Contact: <sip:hotline@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\n"
)
OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=hotline\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
)
put("sip_decode", INVITE + "Content-Length: %d\r\n\r\n%s" % (len(OFFER), OFFER))
put("sip_decode",
    "SIP/2.0 407 Proxy Authentication Required\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx.1\r\nFrom: <sip:a@b>;tag=l\r\n"
    "To: <sip:c@d>;tag=r1\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\n"
    "Proxy-Authenticate: Digest realm=\"hotline.test\", nonce=\"abc\", qop=\"auth,auth-int\", "
    "algorithm=SHA-256, opaque=\"x\", stale=true\r\n"
    "Proxy-Authenticate: Digest realm=\"hotline.test\", nonce=\"def\", algorithm=MD5-sess, qop=\"auth\"\r\n"
    "Content-Length: 0\r\n\r\n")
put("sip_decode",
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx.1\r\n"
    "Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr;transport=tcp>\r\n"
    "From: <sip:a@b>;tag=l\r\nTo: <sip:c@d>;tag=r1\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\n"
    "Contact: <sips:c@[2001:db8::1]:5061;transport=tls>\r\nContent-Type: application/sdp\r\n"
    "Content-Length: %d\r\n\r\n%s" % (len(OFFER), OFFER))
put("sip_decode", "OPTIONS sip:hotline@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
    "From: <sip:x@y>;tag=1\r\nTo: <sip:hotline@127.0.0.1>\r\nCall-ID: q\r\nCSeq: 9 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n")

# --- SDP: offers and answers from the scenarios, ours, and SDES / IPv6 / hold shapes.
put("sdp_offer_answer", OFFER)
put("sdp_offer_answer", OFFER.replace("RTP/AVP", "RTP/SAVP") +
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2VtY3Rs\r\n")
put("sdp_offer_answer", "v=0\no=root 1 2 IN IP6 ::1\ns=-\nm=audio 7078 RTP/AVP 8 96\n"
    "c=IN IP6 2001:db8::5\na=rtpmap:96 telephone-event/8000\na=sendonly\n")
put("sdp_offer_answer", "v=0\r\no=- 3 4 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\na=inactive\r\n"
    "t=0 0\r\nm=video 0 RTP/AVP 31\r\nm=audio 9000/2 RTP/AVP 18 0\r\na=ptime:30\r\n")

# --- RTP / RFC 4733: packets from the sipp pcaps, and telephone-event runs.
def pcap_udp_payloads(path, limit):
    data = read(path)
    off, out = 24, []
    little = data[:4] == b"\xd4\xc3\xb2\xa1"
    fmt = "<IIII" if little else ">IIII"
    linktype = struct.unpack("<I" if little else ">I", data[20:24])[0]
    while off + 16 <= len(data) and len(out) < limit:
        _, _, incl, _ = struct.unpack(fmt, data[off:off + 16])
        pkt = data[off + 16: off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            pkt = pkt[14:]
        elif linktype == 113:
            pkt = pkt[16:]
        if len(pkt) < 28 or pkt[0] >> 4 != 4:
            continue
        ihl = (pkt[0] & 15) * 4
        out.append(pkt[ihl + 8:])
    return out


def frame(packets, ticks=True, foreign=()):
    out = bytearray([0])
    for i, p in enumerate(packets):
        head = len(p) & 0x3FF
        if ticks:
            head |= 0x8000
        if i in foreign:
            head |= 0x4000
        out += struct.pack(">H", head) + p
    return bytes(out)


for pcap in sorted(glob.glob(os.path.join(ROOT, "tests/sipp/*.pcap"))):
    pkts = pcap_udp_payloads(os.path.relpath(pcap, ROOT), 6)
    if pkts:
        put("rtp_dtmf", frame(pkts))
        put("rtp_dtmf", frame(list(reversed(pkts)), ticks=False, foreign=(0,)))


def rtp(pt, seq, ts, payload, marker=False, ssrc=0xABCDEF01):
    return struct.pack(">BBHII", 0x80, pt | (0x80 if marker else 0), seq, ts, ssrc) + payload


def event(ev, end, dur):
    return struct.pack(">BBH", ev, (0x80 if end else 0) | 10, dur)


digits = [rtp(101, 10 + i, 8000, event(5, i >= 3, 160 * (i + 1)), marker=(i == 0)) for i in range(6)]
put("rtp_dtmf", frame(digits))
put("rtp_dtmf", frame([rtp(0, 1, 0, b"\xff" * 160), rtp(0, 3, 320, b"\x00" * 160),
                      rtp(0, 2, 160, b"\x7f" * 160)]))
put("rtp_dtmf", frame([b"\xa0" + rtp(8, 5, 0, b"\xd5" * 160 + b"\x00\x00\x03")[1:]]))
put("rtp_dtmf", frame([b"\x81\xc8\x00\x06" + b"\x00" * 24]))  # RTCP SR

# --- Webhooks: every fixture to every format (each parser meets the others' shapes).
hooks = sorted(glob.glob(os.path.join(ROOT, "tests/data/**/*.json"), recursive=True))
hooks += sorted(glob.glob(os.path.join(ROOT, "examples/*.json")))
generic = {
    "fingerprint": "disk-db01", "summary": "Disk failure on db-01", "severity": "critical",
    "status": "firing", "asset": {"serial": "CZ123", "vendor": "Dell", "contract": "C-1"},
    "labels": {"team": "payments"},
}
import json
for fmt in ["alertmanager", "grafana", "zabbix", "pagerduty", "generic"]:
    for h in hooks:
        put("hook_" + fmt, read(os.path.relpath(h, ROOT)))
    put("hook_" + fmt, json.dumps(generic))

# --- Dialplans (plan NUL line NUL holidays) and configs.
for plan in sorted(glob.glob(os.path.join(ROOT, "dialplans/*.toml"))):
    put("dialplan_load", read(os.path.relpath(plan, ROOT)))
LINE = ('id = "shared-line"\nname = "Shared NOC line"\nuri = "sip:noc@127.0.0.1:5090"\n'
        'source = "contract"\nverified_on = "2026-11-01"\n')
put("dialplan_load",
    'vendor = "Example"\nhours = { tz = "Europe/Berlin", windows = ["mon-fri 08:00-18:00"], '
    'holidays = "holidays.txt" }\n[vars]\ncontract = "C-12"\n[[match]]\nvendor = "dell*"\n'
    'severity = ["critical"]\n[[contacts]]\nid = "c1"\nname = "Desk"\nuri = "tel:+4930123456"\n'
    'source = "web"\nverified_on = "2026-01-02"\nring_timeout = "20s"\n'
    'menu = [{ wait = "prompt" }, { dtmf = "1{contract_digits}#" }, { wait = "human", timeout = "5m" }, '
    '{ play = "briefing" }, { hangup = true }]\n[[contacts]]\nid = "shared-line"\n'
    '\0' + LINE + '\0' + "2026-12-25\n2026-12-26 # boxing day\n")
put("config_load", read("hotline.toml"))
for path in sorted(glob.glob(os.path.join(ROOT, "docker/**/*.toml"), recursive=True)):
    put("config_load", read(os.path.relpath(path, ROOT)))

# --- WAV: a good two-channel file, and the shapes a crash leaves.
def wav(frames, riff_delta=0, data_size=None, extra=b""):
    fmt = struct.pack("<HHIIHH", 1, 2, 8000, 8000 * 4, 4, 16)
    data = b"\x01\x00\x02\x00" * frames + extra
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"LIST" + struct.pack("<I", 3) + b"abc\0" + \
        b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body) + riff_delta) + body


put("wav_repair", wav(8))
put("wav_repair", wav(8, data_size=0, riff_delta=-40))
put("wav_repair", wav(8, data_size=0xFFFFFFFF, extra=b"\x05\x06"))
put("wav_repair", wav(0, riff_delta=100))

# --- Web: selector byte (low 2 bits: route; the rest: action) + JSON body.
BODIES = [b"", b"{}", b'{"muted":false}', b'{"digits":"123#"}', b'{"vendor_case":"CASE-1","engineer":"Ada"}',
          b'{"label":"person"}', b'{"listen_only":true}', b'{"sdp":"v=0\\r\\na=candidate:1 1 udp 1 1.2.3.4 5 typ host\\r\\n","name":"Ada"}']
for sel in range(0, 36):
    for b in BODIES:
        if (sel & 3 == 0 and b.startswith(b'{"sdp"')) or (sel & 3 == 3 and b in (b"", b'{"listen_only":true}')) \
                or (sel & 3 in (1, 2) and not b.startswith(b'{"sdp"') and b != b'{"listen_only":true}'):
            put("web_join_leg", bytes([sel]) + b)

# --- A config with every section (README and docs/webhooks.md shapes).
RICH = '''[sip]
bind = "0.0.0.0:5061"
transport = "tls"
from_user = "hotline"
user_agent = "hotline/0.1"
proxy = "sips:acme.pstn.example.net;transport=tls"
[sip.auth]
username = "hotline-prod"
password = "${HOTLINE_TRUNK_PASSWORD}"
realm = ["acme.example"]
[sip.tls]
ca_file = "trunk-ca.pem"
server_name = "sip.acme.example"
[media]
advertise = "203.0.113.10"
rtp_ports = "20000-20999"
srtp = "required"
[recording]
dir = "/var/lib/hotline/recordings"
[sla]
answer_within = "1m30s"
[dialplans]
dir = "dialplans"
[http]
listen = "127.0.0.1:8080"
api_token = "legacy-api-token-eeeeeeeeeee"
secure_cookie = true
[[http.tokens]]
name = "audrey"
role = "auditor"
sha256 = "6c5f3b2bd2dbf6b32b1d3f0c0b3c8f1a0e1d2c3b4a5968778695a4b3c2d1e0f9"
[store]
path = "data/hotline.db"
[intake.labels]
serial = ["sn", "serial"]
instance_id = []
[intake.auth.grafana]
hmac_secret = "another-long-random-secret"
hmac_header = "X-Grafana-Alerting-Signature"
[intake.auth.generic]
bearer = "0123456789abcdef0123"
hmac_secret = "0123456789abcdef0123"
timestamp_header = "X-Hotline-Timestamp"
[ladder]
notify_url = "http://127.0.0.1:9/notify"
after_restart = "redial"
wait_for_open = "1h"
group_by = "asset"
[[operators]]
id = "ada"
name = "Ada"
uri = "sip:ada@127.0.0.1:5099"
[briefing]
caller = "Example Corp operations"
engine = "espeak"
voice = "en-us"
[bridge]
join_ttl = "30m"
public_url = "https://hotline.example"
'''
put("config_load", RICH)
put("config_load", RICH.replace("tls", "udp").replace("sips:", "sip:"))
