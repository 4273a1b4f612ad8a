//! Repair of WAV files whose header sizes no longer match the file, as left by
//! a crash between header updates.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::RecordingError;

#[cfg(test)]
mod tests;

/// What [`repair`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairOutcome {
    /// The header already matched the file; nothing was changed.
    Ok,
    /// The header was rewritten (and any trailing partial frame cut off) so
    /// the data chunk holds every whole frame on disk.
    Repaired {
        /// Frames in the repaired data chunk.
        frames: u64,
    },
}

/// Where the sizes live in a WAV file.
struct Layout {
    /// The RIFF size field (file length minus 8) as written.
    riff_size: u32,
    /// Offset of the data chunk's size field.
    data_size_offset: u64,
    /// The data chunk size as written.
    data_size: u32,
    /// Bytes per frame, from the fmt chunk.
    block_align: u16,
}

/// Makes the WAV file at `path` playable if its RIFF or data sizes do not
/// match its length: the data chunk is set to run to the end of the file,
/// rounded down to a whole frame.
///
/// A file is left alone if its RIFF size matches its length and its data
/// chunk fits inside it and holds whole frames.
pub fn repair(path: &Path) -> Result<RepairOutcome, RecordingError> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let layout = read_layout(&mut file, len)?;
    let data_offset = layout.data_size_offset + 4;
    let align = u64::from(layout.block_align);

    let data_size = u64::from(layout.data_size);
    let consistent = u64::from(layout.riff_size) + 8 == len
        && data_offset + data_size <= len
        && data_size % align == 0;
    if consistent {
        return Ok(RepairOutcome::Ok);
    }

    // The largest whole-frame data size that fits both the file and the RIFF
    // size field.
    let room = u64::from(u32::MAX) - (data_offset - 8);
    let data_size = (len - data_offset).min(room) / align * align;
    let end = data_offset + data_size;
    file.set_len(end)?;
    // Both fit in u32: `data_size` is capped by `room` above.
    let riff_size = (end - 8) as u32;
    file.seek(SeekFrom::Start(4))?;
    file.write_all(&riff_size.to_le_bytes())?;
    file.seek(SeekFrom::Start(layout.data_size_offset))?;
    file.write_all(&(data_size as u32).to_le_bytes())?;
    file.sync_all()?;
    Ok(RepairOutcome::Repaired {
        frames: data_size / align,
    })
}

/// Walks the chunks up to the data chunk, which must follow a fmt chunk.
fn read_layout(file: &mut File, len: u64) -> Result<Layout, RecordingError> {
    let mut riff = [0u8; 12];
    read_at(file, 0, len, &mut riff)?;
    if &riff[0..4] != b"RIFF" || &riff[8..12] != b"WAVE" {
        return Err(RecordingError::NotWav("no riff wave header"));
    }
    let riff_size = u32_at(&riff, 4);
    let mut block_align = None;
    let mut pos = 12;
    loop {
        let mut chunk = [0u8; 8];
        read_at(file, pos, len, &mut chunk)?;
        let size = u64::from(u32_at(&chunk, 4));
        match &chunk[0..4] {
            b"data" => {
                let block_align =
                    block_align.ok_or(RecordingError::NotWav("data chunk before fmt chunk"))?;
                return Ok(Layout {
                    riff_size,
                    data_size_offset: pos + 4,
                    data_size: u32_at(&chunk, 4),
                    block_align,
                });
            }
            b"fmt " => {
                // wFormatTag, nChannels, nSamplesPerSec, nAvgBytesPerSec, nBlockAlign.
                let mut fmt = [0u8; 14];
                read_at(file, pos + 8, len, &mut fmt)?;
                let align = u16::from_le_bytes([fmt[12], fmt[13]]);
                if align == 0 {
                    return Err(RecordingError::NotWav("zero block align"));
                }
                block_align = Some(align);
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        pos += 8 + size + (size & 1);
    }
}

/// Fills `buf` from `offset`, failing as not-a-wav if the file ends first.
fn read_at(file: &mut File, offset: u64, len: u64, buf: &mut [u8]) -> Result<(), RecordingError> {
    if offset + buf.len() as u64 > len {
        return Err(RecordingError::NotWav("truncated header"));
    }
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)?;
    Ok(())
}

/// Little-endian u32 at `at` in `bytes`.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}
