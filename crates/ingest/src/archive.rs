//! Archives opened in place (zip, 7z), nested to a bounded depth, with hostile ones
//! refused before a single entry is read: entries that climb out of the folder, absolute
//! paths, symbolic links, too many entries, entries or totals too large, and compression
//! ratios of a bomb. Sizes in headers can lie, so the same caps hold on the bytes actually
//! inflated. Nothing is ever written to disk: entries are handed to the caller in memory.

use crate::detect;
use crate::{Flag, FlagNote, Kind};
use std::io::{Cursor, Read, Seek};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Archives inside archives are opened this deep (the outer archive is depth 1).
    pub max_depth: u32,
    pub max_entries: usize,
    pub max_entry_size: u64,
    pub max_total_size: u64,
    /// Uncompressed : compressed above this is a bomb…
    pub max_ratio: u64,
    /// …for entries larger than this (small, very compressible files are normal).
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
    PathTraversal(String),
    AbsolutePath(String),
    Symlink(String),
    TooManyEntries(usize),
    EntryTooLarge {
        name: String,
        size: u64,
    },
    TotalTooLarge(u64),
    RatioTooHigh {
        name: String,
        ratio: u64,
    },
    /// The entry inflates to more than its header declares (a lying header).
    SizeMismatch(String),
    Corrupt(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::PathTraversal(n) => {
                write!(f, "entry \"{n}\" points outside the archive's folder (../)")
            }
            Refusal::AbsolutePath(n) => write!(f, "entry \"{n}\" has an absolute path"),
            Refusal::Symlink(n) => write!(f, "entry \"{n}\" is a symbolic link"),
            Refusal::TooManyEntries(n) => write!(f, "{n} entries, more than allowed"),
            Refusal::EntryTooLarge { name, size } => {
                write!(
                    f,
                    "entry \"{name}\" inflates to {size} bytes, more than allowed"
                )
            }
            Refusal::TotalTooLarge(n) => {
                write!(f, "entries inflate to {n} bytes in all, more than allowed")
            }
            Refusal::RatioTooHigh { name, ratio } => {
                write!(
                    f,
                    "entry \"{name}\" is compressed {ratio}:1, like a zip bomb"
                )
            }
            Refusal::SizeMismatch(n) => {
                write!(f, "entry \"{n}\" inflates to more than its header declares")
            }
            Refusal::Corrupt(e) => write!(f, "unreadable archive: {e}"),
        }
    }
}

impl Refusal {
    pub fn zh(&self) -> String {
        match self {
            Refusal::PathTraversal(n) => format!("条目“{n}”指向压缩包目录之外（../）"),
            Refusal::AbsolutePath(n) => format!("条目“{n}”使用绝对路径"),
            Refusal::Symlink(n) => format!("条目“{n}”是符号链接"),
            Refusal::TooManyEntries(n) => format!("条目数 {n} 超过上限"),
            Refusal::EntryTooLarge { name, size } => {
                format!("条目“{name}”解压后 {size} 字节，超过上限")
            }
            Refusal::TotalTooLarge(n) => format!("解压后共 {n} 字节，超过上限"),
            Refusal::RatioTooHigh { name, ratio } => {
                format!("条目“{name}”压缩比 {ratio}:1，疑似压缩炸弹")
            }
            Refusal::SizeMismatch(n) => format!("条目“{n}”解压后大于其声明的大小"),
            Refusal::Corrupt(e) => format!("压缩包无法读取：{e}"),
        }
    }
}

/// A file inside an archive, in memory.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// Path inside the outermost archive, '/'-joined; nested archives are segments.
    pub path: String,
    pub size: u64,
    /// Empty when encrypted.
    pub data: Vec<u8>,
    pub flags: Vec<FlagNote>,
    /// A nested archive whose entries were handed out before it (a container, not a
    /// record of its own).
    pub opened: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub leaves: usize,
    /// Nested archives refused (their siblings were still visited).
    pub nested_refused: Vec<(String, Refusal)>,
    pub flags: Vec<FlagNote>,
}

/// An entry name from raw bytes: UTF-8 when it is valid UTF-8 (whatever the flag says),
/// else GB18030, the superset of the GBK that Chinese Windows tools write — never CP437.
pub fn decode_name(raw: &[u8], _utf8_flag: bool) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(raw).0.into_owned(),
    }
}

/// Normalize an entry name and reject the hostile ones.
fn check_name(name: &str) -> Result<String, Refusal> {
    let unified = name.replace('\\', "/");
    let bytes = unified.as_bytes();
    if unified.starts_with('/')
        || (bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic())
    {
        return Err(Refusal::AbsolutePath(name.to_string()));
    }
    let mut parts = Vec::new();
    for seg in unified.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(Refusal::PathTraversal(name.to_string())),
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

/// Counts bytes read and stops past a cap (headers may understate sizes).
struct Capped<R> {
    inner: R,
    read: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.cap {
            return Err(std::io::Error::other("cap exceeded"));
        }
        Ok(n)
    }
}

struct Walker<'a> {
    limits: &'a Limits,
    visit: &'a mut dyn FnMut(Leaf),
    outcome: Outcome,
    total: u64,
}

impl Walker<'_> {
    /// Hand an entry to the caller, or open it when it is an archive itself.
    fn deliver(&mut self, path: String, data: Vec<u8>, depth: u32, mut flags: Vec<FlagNote>) {
        let kind = detect::inspect(&path, &data, true).kind;
        if matches!(kind, Kind::Zip | Kind::SevenZ) {
            if depth >= self.limits.max_depth {
                flags.push(FlagNote::new(
                    Flag::TooDeep,
                    format!(
                        "archive nested deeper than {} levels; kept as a file",
                        self.limits.max_depth
                    ),
                ));
            } else {
                let r = match kind {
                    Kind::Zip => self.zip(Cursor::new(&data), &path, depth + 1),
                    _ => self.sevenz(Cursor::new(&data), &path, depth + 1),
                };
                match r {
                    Ok(()) => {
                        (self.visit)(Leaf {
                            size: data.len() as u64,
                            path,
                            data,
                            flags,
                            opened: true,
                        });
                        return;
                    }
                    Err(refusal) => {
                        // Kept (and stored) as a file, with the reason; its siblings go on.
                        flags.push(FlagNote::new(
                            Flag::HostileArchive,
                            format!("{refusal} / {}", refusal.zh()),
                        ));
                        self.outcome.nested_refused.push((path.clone(), refusal));
                    }
                }
            }
        }
        if kind == Kind::Rar {
            flags.push(FlagNote::new(
                Flag::UnsupportedArchive,
                "RAR archives are kept as files, not opened",
            ));
        }
        self.outcome.leaves += 1;
        (self.visit)(Leaf {
            size: data.len() as u64,
            path,
            data,
            flags,
            opened: false,
        });
    }

    fn zip<R: Read + Seek>(&mut self, reader: R, prefix: &str, depth: u32) -> Result<(), Refusal> {
        let mut z = zip::ZipArchive::new(reader).map_err(|e| Refusal::Corrupt(e.to_string()))?;
        if z.len() > self.limits.max_entries {
            return Err(Refusal::TooManyEntries(z.len()));
        }
        // First the whole directory: refuse before anything is inflated.
        let mut entries = Vec::with_capacity(z.len());
        let mut declared_total = 0u64;
        for i in 0..z.len() {
            let f = z
                .by_index_raw(i)
                .map_err(|e| Refusal::Corrupt(e.to_string()))?;
            let raw_name = decode_name(f.name_raw(), false);
            let name = check_name(&raw_name)?;
            if f.is_symlink() || f.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000) {
                return Err(Refusal::Symlink(raw_name));
            }
            if f.is_dir() || name.is_empty() {
                continue;
            }
            let size = f.size();
            if size > self.limits.max_entry_size {
                return Err(Refusal::EntryTooLarge { name, size });
            }
            if size > self.limits.ratio_floor {
                let ratio = size / f.compressed_size().max(1);
                if ratio > self.limits.max_ratio {
                    return Err(Refusal::RatioTooHigh { name, ratio });
                }
            }
            declared_total += size;
            if self.total + declared_total > self.limits.max_total_size {
                return Err(Refusal::TotalTooLarge(self.total + declared_total));
            }
            entries.push((i, name, f.encrypted(), size, f.compressed_size()));
        }
        for (i, name, encrypted, size, csize) in entries {
            let path = format!("{prefix}{}{name}", if prefix.is_empty() { "" } else { "/" });
            if encrypted {
                self.outcome.leaves += 1;
                (self.visit)(Leaf {
                    path,
                    size,
                    data: Vec::new(),
                    flags: vec![FlagNote::new(Flag::Encrypted, "encrypted zip entry")],
                    opened: false,
                });
                continue;
            }
            let f = z.by_index(i).map_err(|e| Refusal::Corrupt(e.to_string()))?;
            let left = self.limits.max_total_size.saturating_sub(self.total);
            let cap = self.limits.max_entry_size.min(left).min(
                // Past the ratio floor, the ratio caps what an entry may inflate to.
                (csize.max(1) * self.limits.max_ratio).max(self.limits.ratio_floor),
            );
            let mut reader = Capped {
                inner: f,
                read: 0,
                cap,
            };
            let mut data = Vec::with_capacity(size.min(cap) as usize);
            if let Err(e) = reader.read_to_end(&mut data) {
                return Err(if reader.read > cap {
                    if reader.read > self.limits.max_entry_size {
                        Refusal::EntryTooLarge {
                            name,
                            size: reader.read,
                        }
                    } else if reader.read > left {
                        Refusal::TotalTooLarge(self.total + reader.read)
                    } else {
                        Refusal::RatioTooHigh {
                            ratio: reader.read / csize.max(1),
                            name,
                        }
                    }
                } else if e.to_string().contains("declared") {
                    Refusal::SizeMismatch(name)
                } else {
                    Refusal::Corrupt(format!("{name}: {e}"))
                });
            }
            self.total += data.len() as u64;
            self.deliver(path, data, depth, Vec::new());
        }
        Ok(())
    }

    fn sevenz<R: Read + Seek>(
        &mut self,
        reader: R,
        prefix: &str,
        depth: u32,
    ) -> Result<(), Refusal> {
        let mut ar = sevenz_rust2::ArchiveReader::new(reader, sevenz_rust2::Password::empty())
            .map_err(|e| Refusal::Corrupt(e.to_string()))?;
        let archive = ar.archive();
        if archive.files.len() > self.limits.max_entries {
            return Err(Refusal::TooManyEntries(archive.files.len()));
        }
        let packed: u64 = archive.pack_sizes().iter().sum();
        let mut declared = 0u64;
        for f in &archive.files {
            let name = check_name(f.name())?;
            if f.is_directory() || name.is_empty() {
                continue;
            }
            // 7z keeps Windows attributes; the high 16 bits carry a Unix mode when set.
            if f.has_windows_attributes && (f.windows_attributes >> 16) & 0o170000 == 0o120000 {
                return Err(Refusal::Symlink(f.name().to_string()));
            }
            if f.size() > self.limits.max_entry_size {
                return Err(Refusal::EntryTooLarge {
                    name,
                    size: f.size(),
                });
            }
            declared += f.size();
        }
        if self.total + declared > self.limits.max_total_size {
            return Err(Refusal::TotalTooLarge(self.total + declared));
        }
        if declared > self.limits.ratio_floor && declared / packed.max(1) > self.limits.max_ratio {
            return Err(Refusal::RatioTooHigh {
                name: prefix.to_string(),
                ratio: declared / packed.max(1),
            });
        }
        let mut found: Vec<(String, Vec<u8>)> = Vec::new();
        let cap = self.limits.max_entry_size;
        let mut failure: Option<Refusal> = None;
        let r = ar.for_each_entries(|entry, rd| {
            if entry.is_directory() || !entry.has_stream() {
                return Ok(true);
            }
            let name = check_name(entry.name()).unwrap_or_default();
            let mut data = Vec::new();
            let mut capped = Capped {
                inner: rd,
                read: 0,
                cap,
            };
            if capped.read_to_end(&mut data).is_err() {
                failure = Some(Refusal::EntryTooLarge {
                    name,
                    size: capped.read,
                });
                return Ok(false);
            }
            found.push((name, data));
            Ok(true)
        });
        if let Some(f) = failure {
            return Err(f);
        }
        r.map_err(|e| Refusal::Corrupt(e.to_string()))?;
        for (name, data) in found {
            self.total += data.len() as u64;
            let path = format!("{prefix}{}{name}", if prefix.is_empty() { "" } else { "/" });
            self.deliver(path, data, depth, Vec::new());
        }
        Ok(())
    }
}

/// Open an archive and hand every file in it (and in archives inside it) to `visit`.
pub fn open<R: Read + Seek>(
    kind: Kind,
    reader: R,
    limits: &Limits,
    visit: &mut dyn FnMut(Leaf),
) -> Result<Outcome, Refusal> {
    let mut w = Walker {
        limits,
        visit,
        outcome: Outcome::default(),
        total: 0,
    };
    match kind {
        Kind::Zip => w.zip(reader, "", 1)?,
        Kind::SevenZ => w.sevenz(reader, "", 1)?,
        other => {
            return Err(Refusal::Corrupt(format!(
                "{} is not an archive this build opens",
                other.as_str()
            )));
        }
    }
    Ok(w.outcome)
}
