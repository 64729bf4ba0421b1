//! A small zip writer with byte-level control over names, flags and declared sizes, for
//! tests and the corpus generator: names in GBK without the UTF-8 flag (as Windows tools in
//! China write them), symlink entries, entries flagged encrypted, sizes that lie. The `zip`
//! crate's writer normalizes all of these away.
//!
//! Output is deterministic: every entry carries the same fixed timestamp, so the same
//! entries give the same bytes.

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;

/// One entry as it will be written.
#[derive(Debug, Clone, Copy)]
pub struct RawEntry<'a> {
    /// Raw name bytes (UTF-8 or GBK), written as given.
    pub name: &'a [u8],
    /// Uncompressed content.
    pub data: &'a [u8],
    /// General-purpose bit 11: the name is UTF-8.
    pub utf8_flag: bool,
    /// Method 8 (deflate) when true, else method 0 (stored).
    pub deflate: bool,
    /// Unix mode for the high 16 bits of the external attributes, with "made by" Unix
    /// (0o120777 makes a symlink, 0o100644 a regular file).
    pub unix_mode: Option<u32>,
    /// General-purpose bit 0. The content is written as is: this tests flag handling, it
    /// is not encryption.
    pub encrypted_flag: bool,
    /// Uncompressed size to state in the headers instead of the true one.
    pub declared_size: Option<u32>,
}

impl<'a> RawEntry<'a> {
    /// A regular entry: UTF-8 name with the UTF-8 flag, deflated.
    pub fn file(name: &'a str, data: &'a [u8]) -> Self {
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

const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
const CENTRAL_HEADER_SIG: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIR_SIG: u32 = 0x0605_4b50;
const ZIP64_END_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
/// 2024-01-01 00:00:00 in MS-DOS date and time.
const DOS_DATE: u16 = ((2024 - 1980) << 9) | (1 << 5) | 1;
const DOS_TIME: u16 = 0;
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_UTF8: u16 = 1 << 11;
const MADE_BY_UNIX: u16 = (3 << 8) | 20;
const MADE_BY_DOS: u16 = 20;

/// What the central directory needs to know about one written entry.
struct Written<'a> {
    name: &'a [u8],
    flags: u16,
    method: u16,
    crc: u32,
    compressed_size: u32,
    declared_size: u32,
    made_by: u16,
    external_attrs: u32,
    offset: u64,
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::new(6));
    // Writing into a Vec cannot fail.
    enc.write_all(data).expect("deflate into memory");
    enc.finish().expect("deflate into memory")
}

/// Converts a length that must fit a 32-bit header field. Entries here are in memory and
/// small; 4 GiB and more would need zip64 extra fields, which this writer does not make.
fn field32(n: usize) -> u32 {
    u32::try_from(n).expect("entry larger than 4 GiB: zip64 entries are not supported")
}

fn field16(n: usize) -> u16 {
    u16::try_from(n).expect("entry name longer than 65535 bytes")
}

fn local_header(out: &mut Vec<u8>, w: &Written) {
    put32(out, LOCAL_HEADER_SIG);
    put16(out, 20);
    put16(out, w.flags);
    put16(out, w.method);
    put16(out, DOS_TIME);
    put16(out, DOS_DATE);
    put32(out, w.crc);
    put32(out, w.compressed_size);
    put32(out, w.declared_size);
    put16(out, field16(w.name.len()));
    put16(out, 0);
    out.extend_from_slice(w.name);
}

fn central_header(out: &mut Vec<u8>, w: &Written) {
    put32(out, CENTRAL_HEADER_SIG);
    put16(out, w.made_by);
    put16(out, 20);
    put16(out, w.flags);
    put16(out, w.method);
    put16(out, DOS_TIME);
    put16(out, DOS_DATE);
    put32(out, w.crc);
    put32(out, w.compressed_size);
    put32(out, w.declared_size);
    put16(out, field16(w.name.len()));
    put16(out, 0); // extra field length
    put16(out, 0); // comment length
    put16(out, 0); // disk number start
    put16(out, 0); // internal attributes
    put32(out, w.external_attrs);
    put32(
        out,
        u32::try_from(w.offset).expect("archive larger than 4 GiB"),
    );
    out.extend_from_slice(w.name);
}

/// The end records. With more than 65,535 entries the count does not fit the classic
/// record, so a zip64 end record and its locator come first and the classic one says
/// 0xFFFF.
fn end_records(out: &mut Vec<u8>, count: usize, cd_start: u64, cd_size: u64) {
    let zip64 = count > 0xFFFF;
    if zip64 {
        let zip64_start = out.len() as u64;
        put32(out, ZIP64_END_SIG);
        put64(out, 44); // size of the rest of this record
        put16(out, 45); // made by: version 4.5, MS-DOS
        put16(out, 45);
        put32(out, 0); // this disk
        put32(out, 0); // disk with the central directory
        put64(out, count as u64);
        put64(out, count as u64);
        put64(out, cd_size);
        put64(out, cd_start);
        put32(out, ZIP64_LOCATOR_SIG);
        put32(out, 0);
        put64(out, zip64_start);
        put32(out, 1); // total disks
    }
    let count16 = if zip64 { 0xFFFF } else { count as u16 };
    put32(out, END_OF_CENTRAL_DIR_SIG);
    put16(out, 0);
    put16(out, 0);
    put16(out, count16);
    put16(out, count16);
    put32(
        out,
        u32::try_from(cd_size).expect("central directory over 4 GiB"),
    );
    put32(
        out,
        u32::try_from(cd_start).expect("archive larger than 4 GiB"),
    );
    put16(out, 0); // comment length
}

/// Writes a whole zip archive to memory.
///
/// # Panics
/// On sizes a classic zip cannot state (an entry or the archive of 4 GiB or more, a name
/// over 65,535 bytes): inputs here are built by tests and the generator, not read from users.
pub fn write_zip(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut written = Vec::with_capacity(entries.len());
    for e in entries {
        let compressed;
        let body: &[u8] = if e.deflate {
            compressed = deflate(e.data);
            &compressed
        } else {
            e.data
        };
        let mut flags = 0;
        if e.utf8_flag {
            flags |= FLAG_UTF8;
        }
        if e.encrypted_flag {
            flags |= FLAG_ENCRYPTED;
        }
        let (made_by, external_attrs) = match e.unix_mode {
            Some(mode) => (MADE_BY_UNIX, mode << 16),
            None => (MADE_BY_DOS, 0),
        };
        let w = Written {
            name: e.name,
            flags,
            method: if e.deflate { 8 } else { 0 },
            crc: crc32(e.data),
            compressed_size: field32(body.len()),
            declared_size: e.declared_size.unwrap_or_else(|| field32(e.data.len())),
            made_by,
            external_attrs,
            offset: out.len() as u64,
        };
        local_header(&mut out, &w);
        out.extend_from_slice(body);
        written.push(w);
    }
    let cd_start = out.len() as u64;
    for w in &written {
        central_header(&mut out, w);
    }
    let cd_size = out.len() as u64 - cd_start;
    end_records(&mut out, written.len(), cd_start, cd_size);
    out
}

/// A zip holding one deflated entry of `len` zero bytes (a decompression bomb when `len` is
/// large), built without ever holding the zeros: the deflate stream is written directly as
/// one dynamic-Huffman block of a literal zero followed by back-references of length 258 at
/// distance 1, two bits each — the 1032:1 ratio zlib reaches on zeros. 2 GiB of zeros take
/// about 2 MiB.
///
/// # Panics
/// When `len` does not fit a classic zip's 32-bit size field.
pub fn zeros_zip(name: &str, len: u64) -> Vec<u8> {
    let declared = u32::try_from(len).expect("zeros_zip: size over 4 GiB");
    let body = deflated_zeros(len);
    let w = Written {
        name: name.as_bytes(),
        flags: FLAG_UTF8,
        method: 8,
        crc: crc32_of_zeros(len),
        compressed_size: field32(body.len()),
        declared_size: declared,
        made_by: MADE_BY_DOS,
        external_attrs: 0,
        offset: 0,
    };
    let mut out = Vec::with_capacity(body.len() + 200);
    local_header(&mut out, &w);
    out.extend_from_slice(&body);
    let cd_start = out.len() as u64;
    central_header(&mut out, &w);
    let cd_size = out.len() as u64 - cd_start;
    end_records(&mut out, 1, cd_start, cd_size);
    out
}

fn crc32_of_zeros(len: u64) -> u32 {
    let block = [0u8; 1 << 16];
    let mut crc = flate2::Crc::new();
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        crc.update(&block[..n]);
        left -= n as u64;
    }
    crc.sum()
}

/// Deflate bits, least significant bit first (RFC 1951 §3.1.1).
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.bits;
        self.bits += count;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    /// A Huffman code goes out most significant bit first.
    fn put_code(&mut self, code: u32, count: u32) {
        let reversed = code.reverse_bits() >> (32 - count);
        self.put(reversed, count);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A raw deflate stream of `len` zeros: one dynamic-Huffman block (RFC 1951 §3.2.7).
///
/// The literal/length code has three symbols — 285 (length 258) as `0`, literal 0 as `10`,
/// end of block as `11` — and the distance code one, distance code 0 (distance 1) as `0`,
/// so each 258-byte back-reference costs two bits.
fn deflated_zeros(len: u64) -> Vec<u8> {
    let mut w = BitWriter {
        out: Vec::with_capacity((len / 258 / 4 + 64) as usize),
        acc: 0,
        bits: 0,
    };
    w.put(1, 1); // BFINAL
    w.put(2, 2); // BTYPE = 10, dynamic Huffman
    w.put(286 - 257, 5); // HLIT: literal/length codes 0..=285
    w.put(0, 5); // HDIST: one distance code
    w.put(18 - 4, 4); // HCLEN: code-length codes given, in the order below
    // Code-length code lengths in the RFC's order 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4,
    // 12, 3, 13, 2, 14, 1: symbol 18 (a run of zeros) gets one bit, the lengths 1 and 2
    // two bits each; canonical codes 18 = `0`, 1 = `10`, 2 = `11`.
    for len in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
        w.put(len, 3);
    }
    const CL_ZERO_RUN: (u32, u32) = (0b0, 1);
    const CL_ONE: (u32, u32) = (0b10, 2);
    const CL_TWO: (u32, u32) = (0b11, 2);
    // Code lengths of literal/length symbols 0..=285, then of distance code 0:
    // 0 → 2, 1..=255 → 0, 256 → 2, 257..=284 → 0, 285 → 1; distance 0 → 1.
    w.put_code(CL_TWO.0, CL_TWO.1);
    w.put_code(CL_ZERO_RUN.0, CL_ZERO_RUN.1);
    w.put(138 - 11, 7); // 138 zeros
    w.put_code(CL_ZERO_RUN.0, CL_ZERO_RUN.1);
    w.put(117 - 11, 7); // 117 zeros: 255 in all
    w.put_code(CL_TWO.0, CL_TWO.1);
    w.put_code(CL_ZERO_RUN.0, CL_ZERO_RUN.1);
    w.put(28 - 11, 7); // 28 zeros
    w.put_code(CL_ONE.0, CL_ONE.1);
    w.put_code(CL_ONE.0, CL_ONE.1);
    // Canonical literal/length codes: 285 = `0`, 0 = `10`, 256 = `11`; distance 0 = `0`.
    const LITERAL_ZERO: (u32, u32) = (0b10, 2);
    const END_OF_BLOCK: (u32, u32) = (0b11, 2);
    let mut left = len;
    if left > 0 {
        w.put_code(LITERAL_ZERO.0, LITERAL_ZERO.1);
        left -= 1;
    }
    while left >= 258 {
        // Length 258 (`0`) then distance 1 (`0`).
        w.put(0, 2);
        left -= 258;
    }
    for _ in 0..left {
        w.put_code(LITERAL_ZERO.0, LITERAL_ZERO.1);
    }
    w.put_code(END_OF_BLOCK.0, END_OF_BLOCK.1);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn local_header_fields_follow_the_appnote_layout() {
        let name = "a.txt";
        let zip = write_zip(&[RawEntry {
            deflate: false,
            ..RawEntry::file(name, b"hello")
        }]);
        assert_eq!(u32_at(&zip, 0), 0x0403_4b50);
        assert_eq!(u16_at(&zip, 6), 1 << 11, "UTF-8 flag only");
        assert_eq!(u16_at(&zip, 8), 0, "stored");
        // CRC-32 of "hello" (IEEE), a published check value.
        assert_eq!(u32_at(&zip, 14), 0x3610_a686);
        assert_eq!(u32_at(&zip, 18), 5);
        assert_eq!(u32_at(&zip, 22), 5);
        assert_eq!(u16_at(&zip, 26), 5);
        assert_eq!(&zip[30..35], b"a.txt");
        assert_eq!(&zip[35..40], b"hello");
        // The end record is the last 22 bytes: one entry, central directory right after
        // the only local entry (30 + 5 + 5 bytes).
        let end = zip.len() - 22;
        assert_eq!(u32_at(&zip, end), 0x0605_4b50);
        assert_eq!(u16_at(&zip, end + 10), 1);
        assert_eq!(u32_at(&zip, end + 16), 40);
    }

    #[test]
    fn unix_mode_and_flags_land_in_the_central_header() {
        let zip = write_zip(&[RawEntry {
            unix_mode: Some(0o120777),
            encrypted_flag: true,
            utf8_flag: false,
            declared_size: Some(999),
            ..RawEntry::file("link", b"target")
        }]);
        let end = zip.len() - 22;
        let cd = u32_at(&zip, end + 16) as usize;
        assert_eq!(u32_at(&zip, cd), 0x0201_4b50);
        assert_eq!(u16_at(&zip, cd + 4) >> 8, 3, "made by Unix");
        assert_eq!(u16_at(&zip, cd + 8), 1, "encrypted bit, no UTF-8 bit");
        assert_eq!(u32_at(&zip, cd + 24), 999, "declared size");
        assert_eq!(u32_at(&zip, cd + 38) >> 16, 0o120777);
    }

    #[test]
    fn deflated_entries_inflate_back() {
        let text = "培训方案 ".repeat(500);
        let zip = write_zip(&[RawEntry::file("t.txt", text.as_bytes())]);
        let csize = u32_at(&zip, 18) as usize;
        let body = &zip[30 + 5..30 + 5 + csize];
        let mut back = String::new();
        flate2::read::DeflateDecoder::new(body)
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
        assert!(csize < text.len() / 10);
    }

    #[test]
    fn same_entries_same_bytes() {
        let e = [
            RawEntry::file("a.txt", b"one"),
            RawEntry::file("b.txt", b"two"),
        ];
        assert_eq!(write_zip(&e), write_zip(&e));
    }

    #[test]
    fn hand_written_deflate_of_zeros_inflates_to_zeros() {
        for len in [0u64, 1, 2, 257, 258, 259, 1000, 100_003] {
            let body = deflated_zeros(len);
            let mut back = Vec::new();
            flate2::read::DeflateDecoder::new(&body[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back.len() as u64, len, "length {len}");
            assert!(back.iter().all(|&b| b == 0));
            let mut crc = flate2::Crc::new();
            crc.update(&back);
            assert_eq!(crc32_of_zeros(len), crc.sum());
        }
    }

    #[test]
    fn many_entries_get_a_zip64_end_record() {
        let names: Vec<String> = (0..70_000).map(|i| format!("{i}")).collect();
        let entries: Vec<RawEntry> = names
            .iter()
            .map(|n| RawEntry {
                deflate: false,
                ..RawEntry::file(n, b"")
            })
            .collect();
        let zip = write_zip(&entries);
        let end = zip.len() - 22;
        assert_eq!(u16_at(&zip, end + 10), 0xFFFF);
        let locator = end - 20;
        assert_eq!(u32_at(&zip, locator), 0x0706_4b50);
        let zip64 = u32_at(&zip, locator + 8) as usize;
        assert_eq!(u32_at(&zip, zip64), 0x0606_4b50);
        assert_eq!(u32_at(&zip, zip64 + 32), 70_000);
        let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), 70_000);
    }

    /// The `zip` crate, an independent reader, sees what was written.
    #[test]
    fn zip_crate_reads_names_modes_and_content() {
        let gbk = encoding_rs::GBK.encode("培训方案/考核大纲.docx").0;
        let zip = write_zip(&[
            RawEntry {
                name: &gbk,
                utf8_flag: false,
                ..RawEntry::file("", b"docx bytes")
            },
            RawEntry {
                unix_mode: Some(0o120777),
                ..RawEntry::file("link", b"../etc/passwd")
            },
            RawEntry {
                deflate: false,
                unix_mode: Some(0o100644),
                ..RawEntry::file("资料/说明.txt", "说明".as_bytes())
            },
        ]);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut first = archive.by_index(0).unwrap();
        assert_eq!(first.name_raw(), &gbk[..]);
        let mut body = Vec::new();
        first.read_to_end(&mut body).unwrap();
        assert_eq!(body, b"docx bytes");
        drop(first);
        assert!(archive.by_index(1).unwrap().is_symlink());
        let mut third = archive.by_index(2).unwrap();
        assert_eq!(third.name().unwrap(), "资料/说明.txt");
        assert_eq!(third.unix_mode(), Some(0o100644));
        let mut text = String::new();
        third.read_to_string(&mut text).unwrap();
        assert_eq!(text, "说明");
    }

    #[test]
    fn zip_crate_inflates_the_zeros_zip_and_checks_its_crc() {
        let zip = zeros_zip("zeros.bin", 1_000_000);
        // 1032:1 as zlib manages on zeros, plus headers.
        assert!(zip.len() < 1_000_000 / 1000 + 200, "{}", zip.len());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.size(), 1_000_000);
        let mut body = Vec::new();
        // The zip crate verifies the CRC at the end of the entry.
        entry.read_to_end(&mut body).unwrap();
        assert_eq!(body.len(), 1_000_000);
        assert!(body.iter().all(|&b| b == 0));
    }
}
