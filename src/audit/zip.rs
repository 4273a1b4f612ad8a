//! A minimal zip writer: stored entries (no compression; WAV and JSON gain little), CRC-32,
//! a central directory. Enough for an evidence bundle any unzip tool opens; no zip64, so
//! the archive must stay under 4 GiB.

/// Builds a zip archive in memory.
#[derive(Default)]
pub struct ZipWriter {
    out: Vec<u8>,
    central: Vec<u8>,
    count: u16,
}

/// The archive would pass a limit of the classic zip format.
#[derive(Debug, thiserror::Error)]
#[error("evidence bundle too large for a zip without zip64 ({0})")]
pub struct ZipTooLarge(&'static str);

fn crc32(data: &[u8]) -> u32 {
    // Reflected CRC-32 (IEEE 802.3), as zip uses; bitwise, the bundle is not hot.
    const fn table() -> [u32; 256] {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    }
    const T: [u32; 256] = table();
    let mut c = !0u32;
    for &b in data {
        c = T[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// MS-DOS date and time of `t` (2-second resolution, local time taken as UTC).
fn dos_time(t: chrono::DateTime<chrono::Utc>) -> (u16, u16) {
    use chrono::{Datelike, Timelike};
    let time = ((t.hour() as u16) << 11) | ((t.minute() as u16) << 5) | (t.second() as u16 / 2);
    let date = (((t.year() - 1980).clamp(0, 127) as u16) << 9)
        | ((t.month() as u16) << 5)
        | t.day() as u16;
    (time, date)
}

impl ZipWriter {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file named `name` (forward slashes) holding `data`.
    pub fn add(
        &mut self,
        name: &str,
        data: &[u8],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ZipTooLarge> {
        let size = u32::try_from(data.len()).map_err(|_| ZipTooLarge("file over 4 GiB"))?;
        let offset =
            u32::try_from(self.out.len()).map_err(|_| ZipTooLarge("archive over 4 GiB"))?;
        self.count = self
            .count
            .checked_add(1)
            .ok_or(ZipTooLarge("over 65535 files"))?;
        let crc = crc32(data);
        let (time, date) = dos_time(at);
        let name_len = u16::try_from(name.len()).map_err(|_| ZipTooLarge("name too long"))?;
        // Bit 11: names are UTF-8.
        let flags: u16 = 1 << 11;
        let mut local = Vec::with_capacity(30 + name.len());
        local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        local.extend_from_slice(&20u16.to_le_bytes()); // version needed
        local.extend_from_slice(&flags.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes()); // stored
        local.extend_from_slice(&time.to_le_bytes());
        local.extend_from_slice(&date.to_le_bytes());
        local.extend_from_slice(&crc.to_le_bytes());
        local.extend_from_slice(&size.to_le_bytes());
        local.extend_from_slice(&size.to_le_bytes());
        local.extend_from_slice(&name_len.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes()); // extra
        local.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(&local);
        self.out.extend_from_slice(data);

        let c = &mut self.central;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&20u16.to_le_bytes()); // made by
        c.extend_from_slice(&20u16.to_le_bytes()); // needed
        c.extend_from_slice(&flags.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&time.to_le_bytes());
        c.extend_from_slice(&date.to_le_bytes());
        c.extend_from_slice(&crc.to_le_bytes());
        c.extend_from_slice(&size.to_le_bytes());
        c.extend_from_slice(&size.to_le_bytes());
        c.extend_from_slice(&name_len.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes()); // extra
        c.extend_from_slice(&0u16.to_le_bytes()); // comment
        c.extend_from_slice(&0u16.to_le_bytes()); // disk
        c.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
        c.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        Ok(())
    }

    /// The finished archive.
    pub fn finish(mut self) -> Result<Vec<u8>, ZipTooLarge> {
        let cd_offset =
            u32::try_from(self.out.len()).map_err(|_| ZipTooLarge("archive over 4 GiB"))?;
        let cd_size = u32::try_from(self.central.len()).map_err(|_| ZipTooLarge("directory"))?;
        self.out.extend_from_slice(&self.central);
        let o = &mut self.out;
        o.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        o.extend_from_slice(&self.count.to_le_bytes());
        o.extend_from_slice(&self.count.to_le_bytes());
        o.extend_from_slice(&cd_size.to_le_bytes());
        o.extend_from_slice(&cd_offset.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn archive_layout() {
        let mut z = ZipWriter::new();
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-26T04:00:00Z")
            .expect("time")
            .to_utc();
        z.add("a.txt", b"hello", t).expect("add");
        z.add("dir/b.json", b"{}", t).expect("add");
        let bytes = z.finish().expect("finish");
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let eocd = &bytes[bytes.len() - 22..];
        assert_eq!(&eocd[..4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([eocd[10], eocd[11]]), 2);
        // The data sits right after the local header, uncompressed.
        assert_eq!(&bytes[30 + 5..30 + 10], b"hello");
    }
}
