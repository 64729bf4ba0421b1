//! Archives opened in place (压缩包就地展开): zip and 7z entries are read into memory and
//! handed to the caller one by one, nested archives opened to a bounded depth, and hostile
//! archives refused before anything is delivered: path traversal ("zip slip"), absolute
//! paths, symbolic links, too many entries, decompression bombs. Nothing is written to
//! disk.
//!
//! Every limit is checked twice: on the sizes the archive declares, over the whole
//! directory before the first entry is read, and again on the bytes actually decompressed,
//! because declared sizes lie.

use std::fmt;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::detect;
use crate::types::{Flag, FlagNote, Kind};

/// Bounds on what an archive may unpack to. The entry count and the total size hold for a
/// whole tree of nested archives together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Archives nested deeper than this (the outer archive is level 1) are kept as files.
    pub max_depth: u32,
    pub max_entries: usize,
    pub max_entry_size: u64,
    pub max_total_size: u64,
    /// Uncompressed : compressed, above which an entry is a bomb.
    pub max_ratio: u64,
    /// The ratio is only checked for entries larger than this uncompressed (small files of
    /// zeros compress very well and are harmless).
    pub ratio_floor: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 3,
            max_entries: 20_000,
            max_entry_size: 512 << 20,
            max_total_size: 8 << 30,
            max_ratio: 200,
            ratio_floor: 1 << 20,
        }
    }
}

/// Why an archive was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// An entry whose path has a `..` segment ("zip slip").
    PathTraversal(String),
    /// An entry with an absolute path: leading `/` or `\`, or a drive letter.
    AbsolutePath(String),
    /// A symbolic-link entry.
    Symlink(String),
    /// The number of entries (in the whole tree of nested archives).
    TooManyEntries(usize),
    EntryTooLarge {
        name: String,
        size: u64,
    },
    /// Total bytes unpacked (in the whole tree of nested archives).
    TotalTooLarge(u64),
    RatioTooHigh {
        name: String,
        ratio: u64,
    },
    /// Not readable as the archive it claims to be.
    Corrupt(String),
}

/// A byte count for people: "2.0 GiB (2147483648 bytes)".
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {} ({n} bytes)", UNITS[unit])
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::PathTraversal(name) => write!(
                f,
                "entry \"{name}\" climbs out of the archive with \"..\" (path traversal)"
            ),
            Refusal::AbsolutePath(name) => write!(f, "entry \"{name}\" has an absolute path"),
            Refusal::Symlink(name) => write!(f, "entry \"{name}\" is a symbolic link"),
            Refusal::TooManyEntries(n) => {
                write!(f, "{n} entries in the archive, more than allowed")
            }
            Refusal::EntryTooLarge { name, size } => write!(
                f,
                "entry \"{name}\" unpacks to {}, more than allowed for one entry",
                human_bytes(*size)
            ),
            Refusal::TotalTooLarge(total) => write!(
                f,
                "the archive unpacks to {} in all, more than allowed",
                human_bytes(*total)
            ),
            Refusal::RatioTooHigh { name, ratio } => write!(
                f,
                "entry \"{name}\" is compressed {ratio}:1, a decompression bomb"
            ),
            Refusal::Corrupt(reason) => write!(f, "the archive cannot be read: {reason}"),
        }
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// The reason in Chinese, for the report.
    pub fn zh(&self) -> String {
        match self {
            Refusal::PathTraversal(name) => {
                format!("条目“{name}”的路径含“..”，会跳出压缩包（路径穿越）")
            }
            Refusal::AbsolutePath(name) => format!("条目“{name}”使用绝对路径"),
            Refusal::Symlink(name) => format!("条目“{name}”是符号链接"),
            Refusal::TooManyEntries(n) => format!("压缩包内条目过多：共 {n} 个"),
            Refusal::EntryTooLarge { name, size } => {
                format!(
                    "条目“{name}”解压后达 {}，超过单个文件上限",
                    human_bytes(*size)
                )
            }
            Refusal::TotalTooLarge(total) => {
                format!("压缩包解压后共 {}，超过总量上限", human_bytes(*total))
            }
            Refusal::RatioTooHigh { name, ratio } => {
                format!("条目“{name}”压缩比 {ratio}:1，疑似压缩炸弹")
            }
            Refusal::Corrupt(reason) => format!("压缩包无法读取：{reason}"),
        }
    }
}

/// One file inside an archive.
#[derive(Clone, PartialEq, Eq)]
pub struct Leaf {
    /// '/'-joined path inside the archive; nested archives appear as segments, e.g.
    /// "inner.zip/资料/a.docx".
    pub path: String,
    pub size: u64,
    /// The content; empty when encrypted.
    pub data: Vec<u8>,
    pub flags: Vec<FlagNote>,
    /// A nested archive that was opened: its entries were handed out before it, and it
    /// comes as the container of those entries rather than a file of its own.
    pub opened: bool,
}

impl fmt::Debug for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leaf")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("data", &format_args!("[{} bytes]", self.data.len()))
            .field("flags", &self.flags)
            .field("opened", &self.opened)
            .finish()
    }
}

/// What opening an archive came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Leaves delivered, nested archives' included (opened containers not counted).
    pub leaves: usize,
    /// Nested archives refused as hostile, by path: each is still delivered as a leaf,
    /// unopened and flagged [`Flag::HostileArchive`], and its siblings go on.
    pub nested_refused: Vec<(String, Refusal)>,
    /// Notes on the archive as a whole: archives nested too deep, inner RAR archives,
    /// encrypted listings.
    pub flags: Vec<FlagNote>,
}

/// Opens the archive `reader` holds (`kind` as detected) and hands each file to `visit`,
/// nested archives opened in turn.
///
/// A hostile archive is refused as a whole and `visit` is not called. A hostile nested
/// archive is not opened: it is delivered as a file flagged [`Flag::HostileArchive`] and
/// listed in [`Outcome::nested_refused`]. A nested archive that was opened follows its
/// entries as a leaf marked [`Leaf::opened`]. A refusal that only the actual bytes reveal
/// (sizes that lied) comes after the entries before it were delivered. RAR archives are
/// not opened: the outcome says so.
pub fn open<R: Read + Seek>(
    kind: Kind,
    reader: R,
    limits: &Limits,
    visit: &mut dyn FnMut(Leaf),
) -> Result<Outcome, Refusal> {
    if kind == Kind::Rar {
        return Ok(Outcome {
            flags: vec![FlagNote::new(
                Flag::UnsupportedArchive,
                "RAR archives are kept as files, not opened",
            )],
            ..Outcome::default()
        });
    }
    let mut walker = Walker {
        limits,
        entries: 0,
        bytes: 0,
        visit,
        outcome: Outcome::default(),
    };
    match walker.archive(kind, reader, "", 1)? {
        Listing::Opened => {}
        Listing::Unlisted(note) => walker.outcome.flags.push(note),
    }
    Ok(walker.outcome)
}

/// An entry name as text: UTF-8 when the UTF-8 flag says so or the bytes are valid UTF-8,
/// else GB18030 (GBK), the code page Chinese Windows writes zip names in — never the
/// CP437 the zip specification names, which turns Chinese into mojibake.
///
/// Short GBK names can happen to be valid UTF-8 ("学习" in GBK reads as "ѧϰ"); when the
/// UTF-8 reading has only two-byte characters (Latin accents, Cyrillic, Greek) and no
/// UTF-8 flag, while the GBK reading is all Chinese, the GBK reading wins.
pub fn decode_name(raw: &[u8], utf8_flag: bool) -> String {
    if utf8_flag {
        return String::from_utf8_lossy(raw).into_owned();
    }
    if let Ok(utf8) = std::str::from_utf8(raw) {
        let two_byte_only = utf8
            .chars()
            .all(|c| c.is_ascii() || ('\u{80}'..='\u{7FF}').contains(&c));
        if !utf8.is_ascii()
            && two_byte_only
            && let Some(gbk) =
                encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(raw)
            && gbk.chars().all(|c| c.is_ascii() || is_chinese(c))
        {
            return gbk.into_owned();
        }
        return utf8.to_string();
    }
    encoding_rs::GB18030.decode(raw).0.into_owned()
}

/// CJK ideographs and the punctuation Chinese names use.
fn is_chinese(c: char) -> bool {
    matches!(
        c as u32,
        0x3000..=0x303F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF
    )
}

/// The path of an entry, checked: separators normalized to '/', "." and empty segments
/// dropped. `None` for a name with nothing left (such entries are skipped).
fn checked_path(name: &str) -> Result<Option<String>, Refusal> {
    let normalized = name.replace('\\', "/");
    let b = normalized.as_bytes();
    if normalized.starts_with('/') || (b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic()) {
        return Err(Refusal::AbsolutePath(name.to_string()));
    }
    let segments: Vec<&str> = normalized
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if segments.contains(&"..") {
        return Err(Refusal::PathTraversal(name.to_string()));
    }
    if segments.is_empty() {
        return Ok(None);
    }
    Ok(Some(segments.join("/")))
}

const S_IFMT: u32 = 0o170000;
const S_IFLNK: u32 = 0o120000;

/// 7z header buffers may take this much memory (the listing of 20,000 entries is a few
/// MiB).
const SEVENZ_HEADER_MEMORY_KIB: usize = 64 << 10;
/// 7z decoder dictionaries may take this much; 7-Zip's strongest preset uses 64 MiB, a
/// larger demand is refused rather than allocated.
const SEVENZ_DECODER_MEMORY_KIB: usize = 256 << 10;
/// Windows attribute bits 7z uses: a reparse point (a link), and "Unix mode in the high 16
/// bits" (p7zip's extension).
const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x400;
const FILE_ATTRIBUTE_UNIX_EXTENSION: u32 = 0x8000;

/// Whether an archive's contents could be listed.
enum Listing {
    Opened,
    /// The listing itself is encrypted: the note says so.
    Unlisted(FlagNote),
}

/// An entry about to be read: where it is and what it claims.
struct Planned {
    index: usize,
    path: String,
    declared: u64,
    compressed: u64,
    encrypted: bool,
}

/// Why reading an entry stopped.
enum Stop {
    Refused(Refusal),
    Failed(String),
}

struct Walker<'a, 'v> {
    limits: &'a Limits,
    /// Entries and decompressed bytes so far, across the whole tree.
    entries: usize,
    bytes: u64,
    visit: &'v mut dyn FnMut(Leaf),
    outcome: Outcome,
}

impl Walker<'_, '_> {
    fn archive<R: Read + Seek>(
        &mut self,
        kind: Kind,
        reader: R,
        prefix: &str,
        depth: u32,
    ) -> Result<Listing, Refusal> {
        match kind {
            Kind::Zip => self.zip(reader, prefix, depth).map(|()| Listing::Opened),
            Kind::SevenZ => self.sevenz(reader, prefix, depth),
            other => Err(Refusal::Corrupt(format!(
                "{} is not an archive this reader opens",
                other.as_str()
            ))),
        }
    }

    fn admit_entries(&mut self, count: usize) -> Result<(), Refusal> {
        let total = self.entries.saturating_add(count);
        if total > self.limits.max_entries {
            return Err(Refusal::TooManyEntries(total));
        }
        self.entries = total;
        Ok(())
    }

    /// The checks on declared sizes, one entry at a time; `total` accumulates.
    fn check_declared(
        &self,
        name: &str,
        declared: u64,
        compressed: u64,
        total: &mut u64,
    ) -> Result<(), Refusal> {
        let l = self.limits;
        if declared > l.max_entry_size {
            return Err(Refusal::EntryTooLarge {
                name: name.to_string(),
                size: declared,
            });
        }
        if declared > l.ratio_floor {
            let ratio = declared / compressed.max(1);
            if ratio > l.max_ratio {
                return Err(Refusal::RatioTooHigh {
                    name: name.to_string(),
                    ratio,
                });
            }
        }
        *total = total.saturating_add(declared);
        if self.bytes.saturating_add(*total) > l.max_total_size {
            return Err(Refusal::TotalTooLarge(self.bytes.saturating_add(*total)));
        }
        Ok(())
    }

    /// Reads an entry through the same checks on the bytes that actually come out;
    /// `keep` false only counts them.
    fn read_checked(
        &mut self,
        source: &mut dyn Read,
        name: &str,
        declared: u64,
        compressed: u64,
        keep: bool,
    ) -> Result<Vec<u8>, Stop> {
        let l = self.limits;
        let hint = declared.min(l.max_entry_size).min(16 << 20) as usize;
        let mut data = if keep {
            Vec::with_capacity(hint)
        } else {
            Vec::new()
        };
        let mut chunk = vec![0u8; 64 << 10];
        let mut count: u64 = 0;
        loop {
            let n = match source.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.bytes = self.bytes.saturating_add(count);
                    return Err(Stop::Failed(e.to_string()));
                }
            };
            count += n as u64;
            if count > l.max_entry_size {
                return Err(Stop::Refused(Refusal::EntryTooLarge {
                    name: name.to_string(),
                    size: count,
                }));
            }
            if count > l.ratio_floor && count / compressed.max(1) > l.max_ratio {
                return Err(Stop::Refused(Refusal::RatioTooHigh {
                    name: name.to_string(),
                    ratio: count / compressed.max(1),
                }));
            }
            if self.bytes.saturating_add(count) > l.max_total_size {
                return Err(Stop::Refused(Refusal::TotalTooLarge(
                    self.bytes.saturating_add(count),
                )));
            }
            if keep {
                data.extend_from_slice(&chunk[..n]);
            }
        }
        self.bytes = self.bytes.saturating_add(count);
        Ok(data)
    }

    fn leaf(&mut self, path: String, size: u64, data: Vec<u8>, flags: Vec<FlagNote>) {
        self.outcome.leaves += 1;
        (self.visit)(Leaf {
            path,
            size,
            data,
            flags,
            opened: false,
        });
    }

    /// Hands over one file, opening it in turn when it is an archive.
    fn deliver(&mut self, path: String, data: Vec<u8>, flags: Vec<FlagNote>, depth: u32) {
        let size = data.len() as u64;
        let maybe_archive = data.starts_with(b"PK\x03\x04")
            || data.starts_with(b"PK\x05\x06")
            || data.starts_with(b"7z\xBC\xAF\x27\x1C")
            || data.starts_with(b"Rar!\x1A\x07");
        let kind = if maybe_archive {
            detect::inspect(&path, &data, true).kind
        } else {
            Kind::Unknown
        };
        match kind {
            Kind::Zip | Kind::SevenZ if depth >= self.limits.max_depth => {
                let note = FlagNote::new(
                    Flag::TooDeep,
                    format!(
                        "archive nested more than {} levels deep, kept as a file",
                        self.limits.max_depth
                    ),
                );
                self.outcome.flags.push(FlagNote::new(
                    Flag::TooDeep,
                    format!("{path}: {}", note.detail),
                ));
                let mut flags = flags;
                flags.push(note);
                self.leaf(path, size, data, flags);
            }
            Kind::Zip | Kind::SevenZ => {
                let prefix = format!("{path}/");
                match self.archive(kind, Cursor::new(&data[..]), &prefix, depth + 1) {
                    Ok(Listing::Opened) => (self.visit)(Leaf {
                        path,
                        size,
                        data,
                        flags,
                        opened: true,
                    }),
                    Ok(Listing::Unlisted(note)) => {
                        let mut flags = flags;
                        flags.push(note);
                        self.leaf(path, size, data, flags);
                    }
                    // A damaged inner archive is no attack: it stays a file, flagged.
                    Err(Refusal::Corrupt(reason)) => {
                        let mut flags = flags;
                        flags.push(FlagNote::new(Flag::Corrupt, reason));
                        self.leaf(path, size, data, flags);
                    }
                    Err(refusal) => {
                        let mut flags = flags;
                        flags.push(FlagNote::new(
                            Flag::HostileArchive,
                            format!("{refusal} / {}", refusal.zh()),
                        ));
                        self.outcome.nested_refused.push((path.clone(), refusal));
                        self.leaf(path, size, data, flags);
                    }
                }
            }
            Kind::Rar => {
                let note = FlagNote::new(
                    Flag::UnsupportedArchive,
                    "RAR archive inside an archive, kept as a file",
                );
                self.outcome.flags.push(FlagNote::new(
                    Flag::UnsupportedArchive,
                    format!("{path}: {}", note.detail),
                ));
                let mut flags = flags;
                flags.push(note);
                self.leaf(path, size, data, flags);
            }
            _ => self.leaf(path, size, data, flags),
        }
    }

    // ---- zip ----------------------------------------------------------------------------

    fn zip<R: Read + Seek>(
        &mut self,
        mut reader: R,
        prefix: &str,
        depth: u32,
    ) -> Result<(), Refusal> {
        // The end record's count comes first: a directory of millions of entries is refused
        // before it is parsed.
        let declared_count = zip_declared_entries(&mut reader)?;
        if self.entries as u64 + declared_count > self.limits.max_entries as u64 {
            return Err(Refusal::TooManyEntries(
                (self.entries as u64 + declared_count).min(usize::MAX as u64) as usize,
            ));
        }
        let opened = catch_unwind(AssertUnwindSafe(|| zip::ZipArchive::new(reader)));
        let mut archive = match opened {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Err(Refusal::Corrupt(format!("zip directory: {e}"))),
            Err(_) => return Err(Refusal::Corrupt("zip directory unreadable".into())),
        };
        self.admit_entries(archive.len())?;

        let mut plan = Vec::new();
        let mut total = 0u64;
        for index in 0..archive.len() {
            let entry = archive
                .by_index_data(index)
                .map_err(|e| Refusal::Corrupt(format!("entry {index}: {e}")))?;
            let utf8 = entry.flags().as_u16() & (1 << 11) != 0;
            let name = decode_name(entry.name_raw(), utf8);
            let Some(path) = checked_path(&name)? else {
                continue;
            };
            if entry.is_symlink() {
                return Err(Refusal::Symlink(name));
            }
            if entry.is_dir() || name.ends_with('/') || name.ends_with('\\') {
                continue;
            }
            let (declared, compressed) = (entry.size(), entry.compressed_size());
            self.check_declared(&name, declared, compressed, &mut total)?;
            plan.push(Planned {
                index,
                path: format!("{prefix}{path}"),
                declared,
                compressed,
                encrypted: entry.encrypted(),
            });
        }

        for p in plan {
            if p.encrypted {
                self.leaf(
                    p.path,
                    p.declared,
                    Vec::new(),
                    vec![FlagNote::new(
                        Flag::Encrypted,
                        "encrypted archive entry, content not read",
                    )],
                );
                continue;
            }
            let read = match archive.by_index(p.index) {
                Ok(mut entry) => {
                    self.read_checked(&mut entry, &p.path, p.declared, p.compressed, true)
                }
                Err(e) => Err(Stop::Failed(e.to_string())),
            };
            match read {
                Ok(data) => self.deliver(p.path, data, Vec::new(), depth),
                Err(Stop::Refused(r)) => return Err(r),
                Err(Stop::Failed(reason)) if reason.contains("larger than its declared") => {
                    // The header lied. Measure what the data really unpacks to, under the
                    // same limits, without keeping it.
                    let actual = self.zip_recount(&mut archive, &p)?;
                    self.leaf(
                        p.path,
                        actual,
                        Vec::new(),
                        vec![FlagNote::new(
                            Flag::Corrupt,
                            format!(
                                "entry holds {actual} bytes, its header declares {}",
                                p.declared
                            ),
                        )],
                    );
                }
                Err(Stop::Failed(reason)) => self.leaf(
                    p.path,
                    p.declared,
                    Vec::new(),
                    vec![FlagNote::new(
                        Flag::Corrupt,
                        format!("entry cannot be decompressed: {reason}"),
                    )],
                ),
            }
        }
        Ok(())
    }

    /// The true uncompressed size of an entry whose header understates it, read from its
    /// raw data through the limits (a refusal when they are exceeded).
    fn zip_recount<R: Read + Seek>(
        &mut self,
        archive: &mut zip::ZipArchive<R>,
        p: &Planned,
    ) -> Result<u64, Refusal> {
        let raw = archive
            .by_index_raw(p.index)
            .map_err(|e| Refusal::Corrupt(format!("{}: {e}", p.path)))?;
        let method = raw.compression();
        let before = self.bytes;
        let counted = if method == zip::CompressionMethod::Deflated {
            let mut inflater = flate2::read::DeflateDecoder::new(raw);
            self.read_checked(&mut inflater, &p.path, p.declared, p.compressed, false)
        } else {
            let mut raw = raw;
            self.read_checked(&mut raw, &p.path, p.declared, p.compressed, false)
        };
        match counted {
            Ok(_) | Err(Stop::Failed(_)) => Ok(self.bytes - before),
            Err(Stop::Refused(r)) => Err(r),
        }
    }

    // ---- 7z -----------------------------------------------------------------------------

    fn sevenz<R: Read + Seek>(
        &mut self,
        mut reader: R,
        prefix: &str,
        depth: u32,
    ) -> Result<Listing, Refusal> {
        let password = sevenz_rust2::Password::empty();
        let read = catch_unwind(AssertUnwindSafe(|| {
            sevenz_rust2::Archive::read_with_memory_limit(
                &mut reader,
                &password,
                SEVENZ_HEADER_MEMORY_KIB,
            )
        }));
        let archive = match read {
            Ok(Ok(a)) => a,
            Ok(Err(e)) if sevenz_password_error(&e) => {
                return Ok(Listing::Unlisted(FlagNote::new(
                    Flag::Encrypted,
                    "7z archive with encrypted file names, contents not listed",
                )));
            }
            Ok(Err(e)) => return Err(Refusal::Corrupt(format!("7z header: {e}"))),
            Err(_) => return Err(Refusal::Corrupt("7z header unreadable".into())),
        };
        self.admit_entries(archive.files.len())?;

        // Pre-scan: names, links, declared sizes.
        let mut paths: Vec<Option<String>> = Vec::with_capacity(archive.files.len());
        let mut total = 0u64;
        for entry in &archive.files {
            let Some(path) = checked_path(&entry.name)? else {
                paths.push(None);
                continue;
            };
            let attrs = entry.windows_attributes;
            let unix_link =
                attrs & FILE_ATTRIBUTE_UNIX_EXTENSION != 0 && (attrs >> 16) & S_IFMT == S_IFLNK;
            if entry.has_windows_attributes
                && (unix_link || attrs & FILE_ATTRIBUTE_REPARSE_POINT != 0)
            {
                return Err(Refusal::Symlink(entry.name.clone()));
            }
            if entry.is_directory || entry.is_anti_item {
                paths.push(None);
                continue;
            }
            // Compression is per block: the ratio is checked on blocks below.
            self.check_declared(&entry.name, entry.size, u64::MAX, &mut total)?;
            paths.push(Some(format!("{prefix}{path}")));
        }
        // Ratio per block: its unpacked size against its packed streams.
        let pack_sizes = archive.pack_sizes();
        let first_pack = archive.stream_map.block_first_pack_stream_index();
        for (b, block) in archive.blocks.iter().enumerate() {
            let start = first_pack.get(b).copied().unwrap_or(pack_sizes.len());
            let end = first_pack.get(b + 1).copied().unwrap_or(pack_sizes.len());
            let packed: u64 = pack_sizes.get(start..end).map_or(0, |s| s.iter().sum());
            let unpacked = block.get_unpack_size();
            if unpacked > self.limits.ratio_floor {
                let ratio = unpacked / packed.max(1);
                if ratio > self.limits.max_ratio {
                    let first = archive.stream_map.block_first_file_index.get(b).copied();
                    let name = first
                        .and_then(|i| archive.files.get(i))
                        .map_or_else(|| format!("block {b}"), |f| f.name.clone());
                    return Err(Refusal::RatioTooHigh { name, ratio });
                }
            }
        }

        // Blocks in order; files of an encrypted block are delivered unread.
        let file_block = &archive.stream_map.file_block_index;
        let mut block_files: Vec<Vec<usize>> = vec![Vec::new(); archive.blocks.len()];
        for (i, block) in file_block.iter().enumerate() {
            if let Some(files) = block.and_then(|b| block_files.get_mut(b)) {
                files.push(i);
            }
        }
        for (b, files) in block_files.iter().enumerate() {
            if files.iter().any(|&i| archive.is_file_encrypted(i)) {
                for &i in files {
                    if let Some(path) = paths[i].take() {
                        self.leaf(
                            path,
                            archive.files[i].size,
                            Vec::new(),
                            vec![FlagNote::new(
                                Flag::Encrypted,
                                "encrypted archive entry, content not read",
                            )],
                        );
                    }
                }
                continue;
            }
            let packed: u64 = {
                let start = first_pack.get(b).copied().unwrap_or(pack_sizes.len());
                let end = first_pack.get(b + 1).copied().unwrap_or(pack_sizes.len());
                pack_sizes.get(start..end).map_or(0, |s| s.iter().sum())
            };
            let block_size = archive.blocks[b].get_unpack_size();
            // The decoder calls back for each file of the block in index order, from the
            // block's first file.
            let mut next = archive
                .stream_map
                .block_first_file_index
                .get(b)
                .copied()
                .unwrap_or(0);
            let mut refused: Option<Refusal> = None;
            let decoder = sevenz_rust2::BlockDecoder::new_with_memory_limit(
                1,
                SEVENZ_DECODER_MEMORY_KIB,
                b,
                &archive,
                &password,
                &mut reader,
            );
            let result = catch_unwind(AssertUnwindSafe(|| {
                decoder.for_each_entries(&mut |entry, data| {
                    let index = next;
                    next += 1;
                    let Some(path) = paths.get_mut(index).and_then(Option::take) else {
                        return Ok(true);
                    };
                    // Each entry's share of the block's packed bytes, for the ratio.
                    let share = if block_size == 0 {
                        packed
                    } else {
                        ((u128::from(packed) * u128::from(entry.size)) / u128::from(block_size))
                            as u64
                    };
                    match self.read_checked(data, &path, entry.size, share.max(1), true) {
                        Ok(bytes) => {
                            self.deliver(path, bytes, Vec::new(), depth);
                            Ok(true)
                        }
                        Err(Stop::Refused(r)) => {
                            refused = Some(r);
                            Err(sevenz_rust2::Error::Other("refused".into()))
                        }
                        Err(Stop::Failed(reason)) => {
                            // Put it back: it is reported with the block's failure.
                            if let Some(slot) = paths.get_mut(index) {
                                *slot = Some(path);
                            }
                            Err(sevenz_rust2::Error::Other(reason.into()))
                        }
                    }
                })
            }));
            if let Some(r) = refused {
                return Err(r);
            }
            let failure = match result {
                Ok(Ok(_)) => None,
                Ok(Err(e @ sevenz_rust2::Error::MaxMemLimited { .. })) => {
                    return Err(Refusal::Corrupt(format!(
                        "7z block {b} needs more decoder memory than allowed: {e}"
                    )));
                }
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some("the 7z decoder failed".to_string()),
            };
            if let Some(reason) = failure {
                for &i in files {
                    if let Some(path) = paths[i].take() {
                        self.leaf(
                            path,
                            archive.files[i].size,
                            Vec::new(),
                            vec![FlagNote::new(
                                Flag::Corrupt,
                                format!("entry cannot be decompressed: {reason}"),
                            )],
                        );
                    }
                }
            }
        }
        // Files with no data (empty files) belong to no block.
        for (i, slot) in paths.iter_mut().enumerate() {
            if file_block.get(i).copied().flatten().is_none()
                && let Some(path) = slot.take()
            {
                self.leaf(path, 0, Vec::new(), Vec::new());
            }
        }
        Ok(Listing::Opened)
    }
}

fn sevenz_password_error(e: &sevenz_rust2::Error) -> bool {
    match e {
        sevenz_rust2::Error::PasswordRequired | sevenz_rust2::Error::MaybeBadPassword(_) => true,
        sevenz_rust2::Error::UnsupportedCompressionMethod(m) => m.contains("AES"),
        other => other.to_string().contains("AES"),
    }
}

/// The entry count a zip's end records declare (the zip64 record's when the classic one
/// says 0xFFFF).
fn zip_declared_entries<R: Read + Seek>(reader: &mut R) -> Result<u64, Refusal> {
    let corrupt = |what: &str| Refusal::Corrupt(what.to_string());
    let io = |e: std::io::Error| Refusal::Corrupt(format!("zip end records: {e}"));
    let len = reader.seek(SeekFrom::End(0)).map_err(io)?;
    let tail_len = len.min(22 + 65535 + 20);
    reader.seek(SeekFrom::Start(len - tail_len)).map_err(io)?;
    let mut tail = vec![0u8; tail_len as usize];
    reader.read_exact(&mut tail).map_err(io)?;
    let end = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| corrupt("no end-of-central-directory record (cut short, or not a zip)"))?;
    let count16 = u16::from_le_bytes([tail[end + 10], tail[end + 11]]);
    let mut count = u64::from(count16);
    if count16 == 0xFFFF && end >= 20 && tail[end - 20..].starts_with(b"PK\x06\x07") {
        let at = u64::from_le_bytes(
            tail[end - 12..end - 4]
                .try_into()
                .map_err(|_| corrupt("zip64 locator"))?,
        );
        reader.seek(SeekFrom::Start(at)).map_err(io)?;
        let mut record = [0u8; 56];
        reader.read_exact(&mut record).map_err(io)?;
        if !record.starts_with(b"PK\x06\x06") {
            return Err(corrupt("zip64 end record missing where its locator points"));
        }
        count = u64::from_le_bytes(
            record[32..40]
                .try_into()
                .map_err(|_| corrupt("zip64 end record"))?,
        );
    }
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_and_checked() {
        assert_eq!(checked_path("a\\b/./c").unwrap().as_deref(), Some("a/b/c"));
        assert_eq!(checked_path("a//b/").unwrap().as_deref(), Some("a/b"));
        assert_eq!(checked_path("./").unwrap(), None);
        for bad in ["../x", "a/../../x", "a\\..\\x", "a/.."] {
            assert!(
                matches!(checked_path(bad), Err(Refusal::PathTraversal(_))),
                "{bad}"
            );
        }
        for bad in ["/etc/x", "\\x", "C:\\x", "c:x", "//server/share"] {
            assert!(
                matches!(checked_path(bad), Err(Refusal::AbsolutePath(_))),
                "{bad}"
            );
        }
        // Dots inside names are fine.
        assert_eq!(
            checked_path("a..b/..c").unwrap().as_deref(),
            Some("a..b/..c")
        );
    }

    #[test]
    fn names_decode_as_utf8_or_gbk_never_cp437() {
        let name = "培训方案/考核大纲.docx";
        let gbk = encoding_rs::GBK.encode(name).0;
        assert_eq!(decode_name(&gbk, false), name);
        assert_eq!(decode_name(name.as_bytes(), true), name);
        assert_eq!(decode_name(name.as_bytes(), false), name);
        // GBK bytes that are also valid UTF-8.
        let study = encoding_rs::GBK.encode("学习.docx").0;
        assert!(std::str::from_utf8(&study).is_ok());
        assert_eq!(decode_name(&study, false), "学习.docx");
        // Genuine accented Latin under the UTF-8 flag stays.
        assert_eq!(decode_name("Grüße.txt".as_bytes(), true), "Grüße.txt");
        assert_eq!(decode_name(b"plain.txt", false), "plain.txt");
    }

    #[test]
    fn refusals_read_in_both_languages() {
        let r = Refusal::EntryTooLarge {
            name: "a.bin".into(),
            size: 2 << 30,
        };
        assert_eq!(
            r.to_string(),
            "entry \"a.bin\" unpacks to 2.0 GiB (2147483648 bytes), more than allowed for one entry"
        );
        assert!(r.zh().contains("a.bin") && r.zh().contains("2.0 GiB"));
        let r = Refusal::PathTraversal("../../evil.txt".into());
        assert!(r.to_string().contains("\"../../evil.txt\""));
        assert!(r.zh().contains("路径穿越"));
    }
}
