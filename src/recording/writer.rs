//! The recorder: places each channel's audio by absolute sample position and
//! commits interleaved stereo frames to a WAV file whose header is kept valid
//! on disk.

use std::fs::{self, File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use hound::{SampleFormat, WavSpec, WavWriter};
use serde::Serialize;

use super::RecordingError;

#[cfg(test)]
mod tests;

/// Samples per second on each channel.
pub const SAMPLE_RATE: u32 = 8000;

/// Frames kept in memory ahead of the committed point (1 s): how late or out of
/// order a packet may arrive and still be placed.
const WINDOW: usize = SAMPLE_RATE as usize;

/// Frames committed between two header updates (0.5 s): at most this much
/// committed audio is lost when the process is killed.
const FLUSH_EVERY: u64 = SAMPLE_RATE as u64 / 2;

/// Bytes of one stereo 16-bit frame.
const FRAME_BYTES: u64 = 4;

/// Most frames a WAV file can hold: the RIFF size (data plus 36 header bytes)
/// must fit in a `u32`.
const MAX_FRAMES: u64 = (u32::MAX as u64 - 36) / FRAME_BYTES;

/// One side of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// What we sent: the left channel.
    Tx,
    /// What the far end sent: the right channel.
    Rx,
}

impl Channel {
    /// Offset of this channel within an interleaved frame.
    fn offset(self) -> usize {
        match self {
            Channel::Tx => 0,
            Channel::Rx => 1,
        }
    }
}

/// What a finished recording holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordingSummary {
    /// The WAV file.
    pub path: PathBuf,
    /// Stereo frames in the file.
    pub frames: u64,
    /// Length of the recording in milliseconds.
    pub duration_ms: u64,
    /// Samples dropped because they arrived after their position was on disk.
    pub late_samples: u64,
}

/// A two-channel 8 kHz 16-bit WAV recorder fed by absolute sample position.
///
/// Audio is held in a ring of one second (8000 frames) ahead of the committed point;
/// a frame is committed once the furthest position written on either channel
/// is a window past it, so a silent channel never holds the other back. The
/// header is rewritten after each half second committed, so a killed process
/// leaves a playable file missing at most the last 1.5 s (the window still in
/// memory, plus what was committed since the last header update). Dropping it
/// without [`finish`](Self::finish) likewise loses the window but leaves a
/// valid file.
pub struct Recorder {
    path: PathBuf,
    wav: WavWriter<BufWriter<File>>,
    /// Interleaved frames; the frame at position `p` lives in slot `p % WINDOW`.
    /// Slots are zeroed when committed, so unwritten positions are silence.
    ring: Box<[i16]>,
    /// Frames on disk: every position below this is committed.
    committed: u64,
    /// One past the furthest position written on either channel.
    pos_max: u64,
    /// Value of `committed` when the header was last updated.
    flushed: u64,
    /// Samples dropped for arriving too late.
    late: u64,
}

impl Recorder {
    /// Creates the WAV file at `path`, and its parent directories.
    ///
    /// Fails if the file already exists, so a reused name never clobbers an
    /// earlier recording.
    pub fn create(path: &Path) -> Result<Recorder, RecordingError> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let spec = WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let mut wav = WavWriter::new(BufWriter::new(file), spec)?;
        // Put the header on disk now: a file killed before its first second
        // is committed is still a valid, empty WAV.
        wav.flush()?;
        Ok(Recorder {
            path: path.to_path_buf(),
            wav,
            ring: vec![0; 2 * WINDOW].into_boxed_slice(),
            committed: 0,
            pos_max: 0,
            flushed: 0,
            late: 0,
        })
    }

    /// Places `samples` on channel `ch` starting at sample position `pos`.
    ///
    /// Overwrites audio still buffered at those positions; samples whose
    /// position is already on disk are dropped and counted in
    /// [`late_samples`](Self::late_samples). Fails with
    /// [`RecordingError::TooLong`] if the write would take the file past the
    /// WAV size limit, leaving the recorder as it was.
    pub fn write(&mut self, ch: Channel, pos: u64, samples: &[i16]) -> Result<(), RecordingError> {
        // Chunks of at most a window, so a long write never commits its own start.
        let mut pos = pos;
        for chunk in samples.chunks(WINDOW) {
            self.write_chunk(ch, pos, chunk)?;
            pos = pos.saturating_add(chunk.len() as u64);
        }
        Ok(())
    }

    /// Samples dropped so far because they arrived after their position was
    /// committed.
    pub fn late_samples(&self) -> u64 {
        self.late
    }

    /// Commits everything buffered (the shorter channel padded with silence),
    /// finalizes the header and closes the file.
    pub fn finish(mut self) -> Result<RecordingSummary, RecordingError> {
        self.commit_to(self.pos_max)?;
        let Recorder {
            path,
            wav,
            committed,
            late,
            ..
        } = self;
        wav.finalize()?;
        Ok(RecordingSummary {
            path,
            frames: committed,
            duration_ms: committed * 1000 / u64::from(SAMPLE_RATE),
            late_samples: late,
        })
    }

    /// Writes a chunk of at most [`WINDOW`] samples.
    fn write_chunk(
        &mut self,
        ch: Channel,
        pos: u64,
        samples: &[i16],
    ) -> Result<(), RecordingError> {
        let end = pos.saturating_add(samples.len() as u64);
        if end > self.pos_max {
            if end > MAX_FRAMES {
                return Err(RecordingError::TooLong);
            }
            // The chunk is at most a window long, so this commits nothing at or
            // after `pos`.
            self.commit_to(end.saturating_sub(WINDOW as u64))?;
            self.pos_max = end;
        }
        let late = self.committed.saturating_sub(pos).min(samples.len() as u64);
        self.late += late;
        // `late` is at most `samples.len()`, so it fits in usize.
        let skip = late as usize;
        // Remainder is below WINDOW, so it fits in usize.
        let mut slot = ((pos + late) % WINDOW as u64) as usize;
        let offset = ch.offset();
        for &sample in &samples[skip..] {
            self.ring[2 * slot + offset] = sample;
            slot += 1;
            if slot == WINDOW {
                slot = 0;
            }
        }
        Ok(())
    }

    /// Commits every frame below `target` to disk, updating the header after
    /// each [`FLUSH_EVERY`] frames.
    fn commit_to(&mut self, target: u64) -> Result<(), RecordingError> {
        while self.committed < target {
            // Remainder is below WINDOW, so it fits in usize.
            let slot = (self.committed % WINDOW as u64) as usize;
            let n = (target - self.committed).min((WINDOW - slot) as u64) as usize;
            let frames = &mut self.ring[2 * slot..2 * (slot + n)];
            // At most 2 * WINDOW samples, far below u32::MAX.
            let mut out = self.wav.get_i16_writer(frames.len() as u32);
            for &sample in frames.iter() {
                out.write_sample(sample);
            }
            out.flush()?;
            frames.fill(0);
            self.committed += n as u64;
            if self.committed - self.flushed >= FLUSH_EVERY {
                self.wav.flush()?;
                self.flushed = self.committed;
            }
        }
        Ok(())
    }
}
