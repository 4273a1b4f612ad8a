//! Every truncation and many byte flips of every fixture, in every format, end in
//! `Ok` or `Err`, never a panic.

use hotline::incident::{Format, LabelMap};

use crate::fixture;

const FIXTURES: &[&str] = &[
    "alertmanager.json",
    "grafana.json",
    "pagerduty_v2.json",
    "zabbix.json",
];

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn all_formats(body: &[u8], map: &LabelMap) {
    for format in Format::ALL {
        let _ = format.parse(body, map);
    }
}

#[test]
fn every_truncation_is_ok_or_err() {
    let map = LabelMap::default();
    for name in FIXTURES {
        let body = fixture(name);
        for end in 0..=body.len() {
            all_formats(&body[..end], &map);
        }
    }
}

#[test]
fn byte_flips_are_ok_or_err() {
    let map = LabelMap::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let interesting = b"{}[]\",:0-9.eE\\ \xff\x00nultrfals";
    for name in FIXTURES {
        let body = fixture(name);
        for _ in 0..1500 {
            let mut mutated = body.clone();
            for _ in 0..(1 + rng.next() % 4) {
                let at = (rng.next() as usize) % mutated.len();
                mutated[at] = if rng.next().is_multiple_of(2) {
                    interesting[(rng.next() as usize) % interesting.len()]
                } else {
                    rng.next() as u8
                };
            }
            all_formats(&mutated, &map);
        }
    }
}

#[test]
fn every_fixture_in_every_wrong_format_is_a_clean_error_or_ok() {
    let map = LabelMap::default();
    for name in FIXTURES {
        all_formats(&fixture(name), &map);
    }
}
