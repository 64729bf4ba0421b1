//! A small zip writer with byte-level control over names, flags and sizes, for the corpus
//! generator and the hostile-archive tests: GBK names without the UTF-8 flag (as Windows
//! tools in China write them), symlink entries, entries flagged encrypted, and headers that
//! lie about sizes — none of which a well-behaved zip library lets one write.

use std::io::Write;

/// One entry to write.
#[derive(Debug, Clone)]
pub struct RawEntry<'a> {
    /// Raw name bytes (UTF-8 or GBK).
    pub name: &'a [u8],
    /// Uncompressed content.
    pub data: &'a [u8],
    /// General-purpose bit 11: the name is UTF-8.
    pub utf8_flag: bool,
    /// Deflate (method 8) rather than store (method 0).
    pub deflate: bool,
    /// Unix mode in the high half of the external attributes (made by Unix), e.g.
    /// `0o120777` for a symbolic link.
    pub unix_mode: Option<u32>,
    /// General-purpose bit 0 (the content is left as is).
    pub encrypted_flag: bool,
    /// An uncompressed size to declare instead of the real one.
    pub declared_size: Option<u32>,
}

impl<'a> RawEntry<'a> {
    /// A plain deflated file with a UTF-8 name.
    pub fn file(name: &'a str, data: &'a [u8]) -> RawEntry<'a> {
        RawEntry {
            name: name.as_bytes(),
            data,
            utf8_flag: true,
            deflate: true,
            unix_mode: None,
            encrypted_flag: false,
            declared_size: None,
        }
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

/// The zip file for `entries` (fixed timestamp 1980-01-01, so output is deterministic).
pub fn write_zip(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let body = if e.deflate {
            deflate(e.data)
        } else {
            e.data.to_vec()
        };
        let method: u16 = if e.deflate { 8 } else { 0 };
        let mut flags: u16 = 0;
        if e.utf8_flag {
            flags |= 1 << 11;
        }
        if e.encrypted_flag {
            flags |= 1;
        }
        let crc = crc32(e.data);
        let usize_ = e.declared_size.unwrap_or(e.data.len() as u32);
        let csize = body.len() as u32;
        let (time, date) = (0u16, (1u16 << 5) | 1);
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&time.to_le_bytes());
        out.extend_from_slice(&date.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&csize.to_le_bytes());
        out.extend_from_slice(&usize_.to_le_bytes());
        out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(e.name);
        out.extend_from_slice(&body);
        // Central directory record.
        let made_by: u16 = if e.unix_mode.is_some() {
            3 << 8 | 20
        } else {
            20
        };
        let external = e.unix_mode.map(|m| m << 16).unwrap_or(0);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&made_by.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&time.to_le_bytes());
        central.extend_from_slice(&date.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&csize.to_le_bytes());
        central.extend_from_slice(&usize_.to_le_bytes());
        central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&external.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(e.name);
    }
    let cd_offset = out.len() as u32;
    let n = entries.len().min(u16::MAX as usize) as u16;
    out.extend_from_slice(&central);
    if entries.len() >= u16::MAX as usize {
        // More entries than the classic record can count: a zip64 end record and locator.
        let z64 = out.len() as u64;
        out.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&45u16.to_le_bytes());
        out.extend_from_slice(&45u16.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        out.extend_from_slice(&(central.len() as u64).to_le_bytes());
        out.extend_from_slice(&(cd_offset as u64).to_le_bytes());
        out.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&z64.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
    }
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}
