use std::fs;
use std::path::{Path, PathBuf};

use super::super::{Channel, Recorder};
use super::*;

/// Offsets of the size fields in the files the recorder writes.
const RIFF_SIZE_AT: usize = 4;
const DATA_SIZE_AT: usize = 40;

/// Records `frames` frames of a counting signal on both channels.
fn recorded(dir: &tempfile::TempDir, frames: usize) -> PathBuf {
    let path = dir.path().join("call.wav");
    let mut rec = Recorder::create(&path).unwrap();
    let signal: Vec<i16> = (0..frames).map(|i| (i % 1000) as i16 + 1).collect();
    for (i, packet) in signal.chunks(160).enumerate() {
        let pos = i as u64 * 160;
        rec.write(Channel::Tx, pos, packet).unwrap();
        rec.write(Channel::Rx, pos, packet).unwrap();
    }
    rec.finish().unwrap();
    path
}

fn set_sizes(path: &Path, riff: u32, data: u32) {
    let mut bytes = fs::read(path).unwrap();
    bytes[RIFF_SIZE_AT..RIFF_SIZE_AT + 4].copy_from_slice(&riff.to_le_bytes());
    bytes[DATA_SIZE_AT..DATA_SIZE_AT + 4].copy_from_slice(&data.to_le_bytes());
    fs::write(path, bytes).unwrap();
}

/// Reads every sample, checking the counting signal survived.
fn frames_after_repair(path: &Path) -> usize {
    let mut reader = hound::WavReader::open(path).unwrap();
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    for (i, pair) in samples.chunks(2).enumerate() {
        let expected = (i % 1000) as i16 + 1;
        assert_eq!(pair, [expected, expected], "frame {i}");
    }
    samples.len() / 2
}

#[test]
fn finished_file_is_ok() {
    let dir = tempfile::tempdir().unwrap();
    let path = recorded(&dir, 8000);
    let before = fs::read(&path).unwrap();
    assert_eq!(repair(&path).unwrap(), RepairOutcome::Ok);
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn stale_sizes_are_extended_to_the_data_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = recorded(&dir, 24000);
    // As after a crash with 1 s flushed but 3 s on disk.
    set_sizes(&path, 36 + 32000, 32000);
    assert_eq!(
        repair(&path).unwrap(),
        RepairOutcome::Repaired { frames: 24000 }
    );
    assert_eq!(frames_after_repair(&path), 24000);
    assert_eq!(repair(&path).unwrap(), RepairOutcome::Ok);
}

#[test]
fn never_updated_header_is_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let path = recorded(&dir, 8000);
    set_sizes(&path, 0, 0);
    assert_eq!(
        repair(&path).unwrap(),
        RepairOutcome::Repaired { frames: 8000 }
    );
    assert_eq!(frames_after_repair(&path), 8000);
}

#[test]
fn truncated_file_is_cut_to_whole_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = recorded(&dir, 8000);
    let len = fs::metadata(&path).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    assert_eq!(
        repair(&path).unwrap(),
        RepairOutcome::Repaired { frames: 7999 }
    );
    assert_eq!(fs::metadata(&path).unwrap().len(), len - 4);
    assert_eq!(frames_after_repair(&path), 7999);
}

#[test]
fn empty_recording_is_ok() {
    let dir = tempfile::tempdir().unwrap();
    let path = recorded(&dir, 0);
    assert_eq!(repair(&path).unwrap(), RepairOutcome::Ok);
}

#[test]
fn non_wav_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.wav");
    fs::write(&path, b"not a wav file at all, just text").unwrap();
    let err = repair(&path).unwrap_err();
    assert!(matches!(err, RecordingError::NotWav(_)));
    fs::write(&path, b"RIFF").unwrap();
    assert!(matches!(
        repair(&path).unwrap_err(),
        RecordingError::NotWav(_)
    ));
}
