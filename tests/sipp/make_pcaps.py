#!/usr/bin/env python3
"""Regenerate the derived RTP pcaps used by the hotline sipp scenarios.

Source: /usr/share/sip-tester/g711a.pcap (Debian sip-tester 3.6.1):
236 RTP packets, PT 8 (PCMA), 240-byte payload = 30 ms ptime, ~7.05 s.

Outputs (classic pcap, Ethernet/IPv4/UDP/RTP, same timing):
  g711a_1s.pcap  first 34 packets  (~1 s)  PCMA PT 8
  g711a_2s.pcap  first 67 packets  (~2 s)  PCMA PT 8
  g711u.pcap     all 236 packets (~7 s)    PCMU PT 0 (A-law -> u-law transcoded)

Usage: python3 make_pcaps.py [source.pcap]   (writes next to this script)
Needs only the Python standard library (audioop: Python <= 3.12).
"""
import os
import struct
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/sip-tester/g711a.pcap"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic != 0xA1B2C3D4:
        raise SystemExit("only little-endian classic pcap supported")
    ghdr, pos, pkts = data[:24], 24, []
    while pos + 16 <= len(data):
        ts_s, ts_us, incl, orig = struct.unpack("<IIII", data[pos:pos + 16])
        pkts.append((ts_s, ts_us, orig, bytearray(data[pos + 16:pos + 16 + incl])))
        pos += 16 + incl
    return ghdr, pkts


def write_pcap(path, ghdr, pkts):
    with open(path, "wb") as f:
        f.write(ghdr)
        for ts_s, ts_us, orig, frame in pkts:
            f.write(struct.pack("<IIII", ts_s, ts_us, len(frame), len(frame)))
            f.write(frame)
    print("wrote", path, len(pkts), "packets")


def udp_payload_offset(frame):
    # Ethernet (14) + IPv4 (IHL*4) + UDP (8)
    assert struct.unpack("!H", frame[12:14])[0] == 0x0800, "not IPv4"
    ihl = (frame[14] & 0x0F) * 4
    return 14 + ihl, 14 + ihl + 8


def to_pcmu(pkts):
    out = []
    for ts_s, ts_us, orig, frame in pkts:
        frame = bytearray(frame)
        udp_off, rtp_off = udp_payload_offset(frame)
        cc = frame[rtp_off] & 0x0F
        pay_off = rtp_off + 12 + 4 * cc
        assert frame[rtp_off + 1] & 0x7F == 8, "expected PCMA (PT 8)"
        frame[rtp_off + 1] = (frame[rtp_off + 1] & 0x80) | 0  # keep marker, PT 0
        alaw = bytes(frame[pay_off:])
        frame[pay_off:] = audioop.lin2ulaw(audioop.alaw2lin(alaw, 2), 2)
        frame[udp_off + 6:udp_off + 8] = b"\x00\x00"  # no UDP checksum (sipp recomputes)
        out.append((ts_s, ts_us, len(frame), frame))
    return out


ghdr, pkts = read_pcap(SRC)
write_pcap(os.path.join(HERE, "g711a_1s.pcap"), ghdr, pkts[:34])
write_pcap(os.path.join(HERE, "g711a_2s.pcap"), ghdr, pkts[:67])
write_pcap(os.path.join(HERE, "g711u.pcap"), ghdr, to_pcmu(pkts))
