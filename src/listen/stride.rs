//! Listening cheaper on steady hold music: once the model has called a long run of music
//! chunks clearly not speech, it runs on every `stride`-th chunk only, and goes back to every
//! chunk the moment anything changes (a scored chunk that is not clearly music, a level jump,
//! a gated pause, the background no longer music, the listener awaiting a reply).
//!
//! Hold music is the one sound that never drops under the energy gate, so without this it
//! costs a model run every 32 ms for the whole hold. A person answering is preceded by the
//! music stopping (a pause, gated) or changes the level, so the full rate is back before their
//! first words in practice; the worst case is a voice starting over unchanged music, seen
//! up to `stride - 1` chunks late (96 ms at stride 4). A wake-up replays the skipped chunks
//! through the model from where they began (the listener keeps them), so the chunk that woke it
//! is scored as at full rate: a state that missed audio can jump past 0.5 on hold music, and a
//! voice's first chunk keeps its exact place.

/// The stride's state for one stream.
#[derive(Debug, Clone, Default)]
pub struct Stride {
    /// Scored chunks in a row below `quiet_prob` while the background was steady.
    calm: u32,
    /// Smoothed chunk level (dBFS) over the calm run.
    level: f32,
    /// Chunks skipped since the last scored one.
    skipped: u32,
}

/// The knobs, from [`super::Thresholds`].
#[derive(Debug, Clone, Copy)]
pub struct StrideRule {
    /// Run the model on one chunk in this many (1: never skip).
    pub every: u32,
    /// Scored calm chunks needed before skipping starts.
    pub after: u32,
    /// A scored chunk at or above this probability ends the calm run.
    pub quiet_prob: f32,
    /// A chunk this many dB away from the smoothed level ends the calm run.
    pub jump_db: f32,
}

impl Stride {
    /// Whether the model should run on this chunk (level `dbfs`, above the gate). `steady`:
    /// the background is music or tone and no reply is awaited.
    pub fn run_model(&mut self, rule: &StrideRule, steady: bool, dbfs: f32) -> bool {
        if rule.every <= 1 || !steady {
            self.calm = 0;
            return true;
        }
        if self.calm < rule.after {
            return true;
        }
        if (dbfs - self.level).abs() > rule.jump_db {
            self.calm = 0;
            self.skipped = 0;
            return true;
        }
        self.level = 0.9 * self.level + 0.1 * dbfs;
        self.skipped += 1;
        if self.skipped < rule.every {
            return false;
        }
        self.skipped = 0;
        true
    }

    /// The model scored `p` on a chunk at `dbfs`. Whether this score wakes the full rate.
    pub fn scored(&mut self, rule: &StrideRule, p: f32, dbfs: f32) -> bool {
        if p >= rule.quiet_prob {
            self.calm = 0;
            self.skipped = 0;
            return true;
        }
        self.level = if self.calm == 0 {
            dbfs
        } else {
            0.8 * self.level + 0.2 * dbfs
        };
        self.calm = self.calm.saturating_add(1);
        false
    }

    /// A gated (silent) chunk: the next sound starts at full rate.
    pub fn pause(&mut self) {
        self.calm = 0;
        self.skipped = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: StrideRule = StrideRule {
        every: 4,
        after: 16,
        quiet_prob: 0.1,
        jump_db: 12.0,
    };

    /// Feeds `n` chunks at `dbfs` scored `p`; how many ran the model.
    fn feed(s: &mut Stride, steady: bool, n: usize, dbfs: f32, p: f32) -> usize {
        let mut ran = 0;
        for _ in 0..n {
            if s.run_model(&RULE, steady, dbfs) {
                ran += 1;
                s.scored(&RULE, p, dbfs);
            }
        }
        ran
    }

    #[test]
    fn steady_music_runs_one_chunk_in_four_after_the_calm_run() {
        let mut s = Stride::default();
        assert_eq!(feed(&mut s, true, 16, -20.0, 0.01), 16);
        assert_eq!(feed(&mut s, true, 400, -20.0, 0.01), 100);
    }

    #[test]
    fn a_likely_chunk_a_pause_a_jump_or_no_steady_background_go_back_to_every_chunk() {
        let mut s = Stride::default();
        feed(&mut s, true, 40, -20.0, 0.01);
        // A scored chunk at 0.2: the calm run starts over.
        while !s.run_model(&RULE, true, -20.0) {}
        assert!(s.scored(&RULE, 0.2, -20.0));
        assert_eq!(feed(&mut s, true, 16, -20.0, 0.01), 16);
        assert_eq!(feed(&mut s, true, 8, -20.0, 0.01), 2);
        // A pause.
        s.pause();
        assert_eq!(feed(&mut s, true, 16, -20.0, 0.01), 16);
        // A level jump of 15 dB runs the model at once.
        feed(&mut s, true, 8, -20.0, 0.01);
        assert!(s.run_model(&RULE, true, -5.0));
        // Not steady (a reply awaited, or the background is speech).
        feed(&mut s, true, 40, -20.0, 0.01);
        assert_eq!(feed(&mut s, false, 10, -20.0, 0.01), 10);
    }

    #[test]
    fn stride_one_never_skips() {
        let mut s = Stride::default();
        let rule = StrideRule { every: 1, ..RULE };
        for _ in 0..100 {
            assert!(s.run_model(&rule, true, -20.0));
            s.scored(&rule, 0.0, -20.0);
        }
    }
}
