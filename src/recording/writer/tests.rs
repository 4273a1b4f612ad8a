use std::path::Path;

use super::*;

const PACKET: usize = 160;

/// A test signal that encodes its own position, so misplaced audio shows.
fn tone(pos: u64) -> i16 {
    (pos % 1000) as i16 + 1
}

fn tx_packet(pos: u64) -> Vec<i16> {
    (pos..pos + PACKET as u64).map(tone).collect()
}

fn rx_packet(pos: u64) -> Vec<i16> {
    (pos..pos + PACKET as u64).map(|p| -tone(p)).collect()
}

/// Reads a stereo file as (left, right) frames.
fn read_frames(path: &Path) -> Vec<(i16, i16)> {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.channels, 2);
    assert_eq!(spec.sample_rate, 8000);
    assert_eq!(spec.bits_per_sample, 16);
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    samples.chunks(2).map(|f| (f[0], f[1])).collect()
}

fn recorder(dir: &tempfile::TempDir) -> (Recorder, PathBuf) {
    let path = dir.path().join("call.wav");
    (Recorder::create(&path).unwrap(), path)
}

#[test]
fn channels_land_at_their_positions() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    for i in 0..50 {
        let pos = i * PACKET as u64;
        rec.write(Channel::Tx, pos, &tx_packet(pos)).unwrap();
        rec.write(Channel::Rx, 8000 + pos, &rx_packet(8000 + pos))
            .unwrap();
    }
    let summary = rec.finish().unwrap();
    assert_eq!(summary.frames, 16000);
    assert_eq!(summary.duration_ms, 2000);
    assert_eq!(summary.late_samples, 0);
    assert_eq!(summary.path, path);

    let frames = read_frames(&path);
    assert_eq!(frames.len(), 16000);
    for (pos, &(left, right)) in frames.iter().enumerate() {
        let pos = pos as u64;
        if pos < 8000 {
            assert_eq!((left, right), (tone(pos), 0), "frame {pos}");
        } else {
            assert_eq!((left, right), (0, -tone(pos)), "frame {pos}");
        }
    }
}

#[test]
fn out_of_order_rx_lands_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    // Rx packets swapped in pairs, and packet 10 held back by 40 packets (800 ms).
    let mut rx_order: Vec<u64> = (0..100).map(|i| i ^ 1).filter(|&i| i != 10).collect();
    rx_order.insert(50, 10);
    for (i, &rx) in rx_order.iter().enumerate() {
        let pos = i as u64 * PACKET as u64;
        rec.write(Channel::Tx, pos, &tx_packet(pos)).unwrap();
        let rx_pos = rx * PACKET as u64;
        rec.write(Channel::Rx, rx_pos, &rx_packet(rx_pos)).unwrap();
    }
    let summary = rec.finish().unwrap();
    assert_eq!(summary.late_samples, 0);

    let frames = read_frames(&path);
    assert_eq!(frames.len(), 16000);
    for (pos, &frame) in frames.iter().enumerate() {
        let pos = pos as u64;
        assert_eq!(frame, (tone(pos), -tone(pos)), "frame {pos}");
    }
}

#[test]
fn gap_is_silence() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    for i in (0..10).chain(20..30) {
        let pos = i * PACKET as u64;
        rec.write(Channel::Tx, pos, &tx_packet(pos)).unwrap();
    }
    assert_eq!(rec.finish().unwrap().frames, 30 * PACKET as u64);

    let frames = read_frames(&path);
    for (pos, &(left, right)) in frames.iter().enumerate() {
        let in_gap = (10 * PACKET..20 * PACKET).contains(&pos);
        let expected = if in_gap { 0 } else { tone(pos as u64) };
        assert_eq!((left, right), (expected, 0), "frame {pos}");
    }
}

#[test]
fn gap_longer_than_window_is_silence() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    rec.write(Channel::Rx, 0, &rx_packet(0)).unwrap();
    rec.write(Channel::Rx, 30_000, &rx_packet(30_000)).unwrap();
    assert_eq!(rec.finish().unwrap().frames, 30_160);

    let frames = read_frames(&path);
    for (pos, &frame) in frames.iter().enumerate() {
        let sounding = !(PACKET..30_000).contains(&pos);
        let expected = if sounding { -tone(pos as u64) } else { 0 };
        assert_eq!(frame, (0, expected), "frame {pos}");
    }
}

#[test]
fn one_sided_writes_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    for i in 0..150 {
        let pos = i * PACKET as u64;
        rec.write(Channel::Tx, pos, &tx_packet(pos)).unwrap();
    }
    assert_eq!(rec.committed, 24000 - WINDOW as u64);
    rec.finish().unwrap();

    let frames = read_frames(&path);
    assert_eq!(frames.len(), 24000);
    assert!(frames.iter().all(|&(_, right)| right == 0));
}

#[test]
fn late_audio_is_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    for i in 0..100 {
        let pos = i * PACKET as u64;
        rec.write(Channel::Tx, pos, &tx_packet(pos)).unwrap();
    }
    assert_eq!(rec.committed, 8000);
    // Wholly committed: dropped.
    rec.write(Channel::Rx, 0, &rx_packet(0)).unwrap();
    // Straddles the committed point: the first 80 samples are dropped.
    rec.write(Channel::Rx, 7920, &rx_packet(7920)).unwrap();
    assert_eq!(rec.late_samples(), 240);
    assert_eq!(rec.finish().unwrap().late_samples, 240);

    let frames = read_frames(&path);
    assert_eq!(frames[0], (tone(0), 0));
    assert_eq!(frames[7999], (tone(7999), 0));
    assert_eq!(frames[8000], (tone(8000), -tone(8000)));
    assert_eq!(frames[8079], (tone(8079), -tone(8079)));
    assert_eq!(frames[8080], (tone(8080), 0));
}

#[test]
fn buffered_audio_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    rec.write(Channel::Tx, 0, &[7; PACKET]).unwrap();
    rec.write(Channel::Tx, 80, &[9; PACKET]).unwrap();
    assert_eq!(rec.finish().unwrap().frames, 240);

    let frames = read_frames(&path);
    assert!(frames[..80].iter().all(|&f| f == (7, 0)));
    assert!(frames[80..].iter().all(|&f| f == (9, 0)));
}

#[test]
fn write_longer_than_window_is_kept_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    let long: Vec<i16> = (0..20_000).map(tone).collect();
    rec.write(Channel::Tx, 0, &long).unwrap();
    let summary = rec.finish().unwrap();
    assert_eq!((summary.frames, summary.late_samples), (20_000, 0));

    let frames = read_frames(&path);
    for (pos, &frame) in frames.iter().enumerate() {
        assert_eq!(frame, (tone(pos as u64), 0), "frame {pos}");
    }
}

#[test]
fn finish_pads_shorter_channel() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    for i in 0..75 {
        let pos = i * PACKET as u64;
        if i < 50 {
            rec.write(Channel::Tx, pos, &tx_packet(pos)).unwrap();
        }
        rec.write(Channel::Rx, pos, &rx_packet(pos)).unwrap();
    }
    let summary = rec.finish().unwrap();
    assert_eq!((summary.frames, summary.duration_ms), (12000, 1500));

    let frames = read_frames(&path);
    assert_eq!(frames[7999], (tone(7999), -tone(7999)));
    assert_eq!(frames[8000], (0, -tone(8000)));
    assert_eq!(frames[11999], (0, -tone(11999)));
}

#[test]
fn killed_recorder_leaves_playable_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    for i in 0..150 {
        let pos = i * PACKET as u64;
        rec.write(Channel::Tx, pos, &tx_packet(pos)).unwrap();
        rec.write(Channel::Rx, pos, &rx_packet(pos)).unwrap();
    }
    // No finish and no drop: as if killed.
    std::mem::forget(rec);

    let frames = read_frames(&path);
    assert!(frames.len() >= 16000, "only {} frames", frames.len());
    for (pos, &frame) in frames.iter().enumerate() {
        let pos = pos as u64;
        assert_eq!(frame, (tone(pos), -tone(pos)), "frame {pos}");
    }
}

#[test]
fn killed_before_first_commit_leaves_empty_wav() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    rec.write(Channel::Tx, 0, &tx_packet(0)).unwrap();
    std::mem::forget(rec);
    assert!(read_frames(&path).is_empty());
}

#[test]
fn write_past_wav_limit_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rec, path) = recorder(&dir);
    rec.write(Channel::Tx, 0, &tx_packet(0)).unwrap();
    let err = rec
        .write(Channel::Rx, MAX_FRAMES, &[1; PACKET])
        .unwrap_err();
    assert!(matches!(err, RecordingError::TooLong));
    assert_eq!(rec.finish().unwrap().frames, PACKET as u64);
    assert_eq!(read_frames(&path).len(), PACKET);
}

#[test]
fn create_makes_parents_and_refuses_existing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2024/03/07/call.wav");
    Recorder::create(&path).unwrap().finish().unwrap();
    assert!(read_frames(&path).is_empty());
    let err = Recorder::create(&path).err().unwrap();
    assert!(matches!(err, RecordingError::Io(e) if e.kind() == std::io::ErrorKind::AlreadyExists));
}
