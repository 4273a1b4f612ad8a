//! The prompt library: fingerprints of recordings a vendor plays (learned from earlier calls
//! to the same contact, and from earlier in this call), and matching a segment against it.

use super::fingerprint::Hash;
use std::collections::HashMap;

/// Where a library entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Learned on an earlier call to this contact.
    Known,
    /// Heard earlier in this call (announcements loop).
    ThisCall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromptId(pub u32);

#[derive(Clone, Default)]
pub struct PromptLibrary {
    origins: Vec<Origin>,
    /// Landmark -> (prompt, anchor frame within the prompt).
    index: HashMap<Hash, Vec<(u32, u32)>>,
}

/// A match needs this many landmarks agreeing on one time offset...
pub const MIN_VOTES: u32 = 40;
/// ...and this share (percent) of the segment's landmarks so far. Measured on the harness
/// (tests/listen_eval.rs): a replayed Asterisk announcement agrees on 74-99 % of its
/// landmarks, a different prompt by the same voice on at most 6 % (259 of 4224 against a
/// 25 s IVR menu), an espeak person against the prompts at most 4 %.
pub const MIN_SHARE: u32 = 40;

impl PromptLibrary {
    pub fn len(&self) -> usize {
        self.origins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }

    pub fn origin(&self, id: PromptId) -> Origin {
        self.origins[id.0 as usize]
    }

    /// Adds a recording's landmarks (frames counted from its start).
    pub fn add(&mut self, landmarks: &[(Hash, u32)], origin: Origin) -> PromptId {
        let id = self.origins.len() as u32;
        self.origins.push(origin);
        for &(h, t) in landmarks {
            self.index.entry(h).or_default().push((id, t));
        }
        PromptId(id)
    }

    /// Marks every entry as learned earlier (the library kept for the contact's next call).
    pub fn into_known(mut self) -> Self {
        self.origins.iter_mut().for_each(|o| *o = Origin::Known);
        self
    }

    /// Serializes as little-endian u32s: count of prompts, then (hash, prompt, frame) triples.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.origins.len() as u32).to_le_bytes());
        let mut entries: Vec<(Hash, u32, u32)> = self
            .index
            .iter()
            .flat_map(|(&h, v)| v.iter().map(move |&(id, t)| (h, id, t)))
            .collect();
        entries.sort_unstable();
        for (h, id, t) in entries {
            for v in [h, id, t] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Reads [`Self::to_bytes`]; `None` for a damaged file (the caller starts empty).
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < 4 || !(b.len() - 4).is_multiple_of(12) {
            return None;
        }
        let word = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let n = word(0);
        if n > 1_000_000 {
            return None;
        }
        let mut lib = PromptLibrary {
            origins: vec![Origin::Known; n as usize],
            index: HashMap::new(),
        };
        for i in (4..b.len()).step_by(12) {
            let (h, id, t) = (word(i), word(i + 4), word(i + 8));
            if id >= n {
                return None;
            }
            lib.index.entry(h).or_default().push((id, t));
        }
        Some(lib)
    }
}

/// Votes of one segment's landmarks, fed as they come.
#[derive(Default)]
pub struct Matcher {
    votes: HashMap<(u32, i64), u32>,
    /// Each landmark hash votes once per (prompt, offset): a steady tone or vowel repeats one
    /// hash frame after frame and would otherwise line up by itself.
    seen: std::collections::HashSet<(Hash, u32, i64)>,
    best: Option<(PromptId, u32)>,
    /// Landmarks fed so far.
    fed: u32,
}

impl Matcher {
    /// Feeds landmarks (frames counted from the segment's start); returns the matched prompt
    /// once one has `MIN_VOTES` agreeing landmarks.
    pub fn feed(&mut self, lib: &PromptLibrary, landmarks: &[(Hash, u32)]) -> Option<PromptId> {
        self.fed += landmarks.len() as u32;
        for &(h, tq) in landmarks {
            let Some(hits) = lib.index.get(&h) else {
                continue;
            };
            for &(id, t) in hits {
                let offset = t as i64 - tq as i64;
                if !self.seen.insert((h, id, offset)) {
                    continue;
                }
                let v = self.votes.entry((id, offset)).or_default();
                *v += 1;
                if self.best.is_none_or(|(_, b)| *v > b) {
                    self.best = Some((PromptId(id), *v));
                }
            }
        }
        self.matched()
    }

    pub fn matched(&self) -> Option<PromptId> {
        self.best
            .filter(|&(_, v)| v >= MIN_VOTES && v * 100 >= MIN_SHARE * self.fed)
            .map(|(id, _)| id)
    }

    /// The strongest agreement so far (for tuning and `hotline listen`).
    pub fn best_votes(&self) -> u32 {
        self.best.map_or(0, |(_, v)| v)
    }

    pub fn fed(&self) -> u32 {
        self.fed
    }
}
