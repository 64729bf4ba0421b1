//! Type and health by content (按内容识别类型): magic bytes and container structure decide
//! a file's kind, never its extension; the extension is only compared with the content to
//! report a mismatch. Health checks find empty, truncated, corrupt and encrypted files.

use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::types::{Flag, FlagNote, Kind};

/// How much of a large file [`inspect`] is given when it is not given all of it.
pub const HEAD_LEN: usize = 65536;

/// A file's kind and what is wrong with (or notable about) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub kind: Kind,
    pub flags: Vec<FlagNote>,
}

/// Reads a file's kind and health from its content.
///
/// `data` is the whole file when `complete`, else only its head (the first [`HEAD_LEN`]
/// bytes) of a larger file: then the kind is read from what the head holds and the checks
/// that need the whole file (truncation, corruption) are not made. With no bytes at all
/// of a file that is not empty, the extension is the only evidence and gives the kind.
pub fn inspect(name: &str, data: &[u8], complete: bool) -> Inspection {
    let ext = extension(name);
    if data.is_empty() {
        if complete {
            return Inspection {
                kind: Kind::Empty,
                flags: vec![FlagNote::new(Flag::Empty, "zero bytes")],
            };
        }
        return Inspection {
            kind: ext
                .as_deref()
                .and_then(kind_of_extension)
                .unwrap_or(Kind::Unknown),
            flags: Vec::new(),
        };
    }
    let mut inspection = by_content(data, complete, ext.as_deref());
    if let Some(ext) = &ext
        && let Some(expected) = kind_of_extension(ext)
        && expected != inspection.kind
    {
        inspection.flags.push(FlagNote::new(
            Flag::ExtensionMismatch,
            format!("extension .{ext}, content {}", inspection.kind.as_str()),
        ));
    }
    inspection
}

/// The lower-case extension of the last path segment, if any.
fn extension(name: &str) -> Option<String> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = file.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// The kind an extension names, for the extensions that name one.
fn kind_of_extension(ext: &str) -> Option<Kind> {
    Some(match ext {
        "docx" | "docm" | "dotx" | "dotm" => Kind::Docx,
        "pptx" | "pptm" | "ppsx" | "potx" => Kind::Pptx,
        "xlsx" | "xlsm" | "xltx" | "xltm" => Kind::Xlsx,
        "doc" | "dot" => Kind::Doc,
        "ppt" | "pps" | "pot" => Kind::Ppt,
        "xls" | "xlt" => Kind::Xls,
        "pdf" => Kind::Pdf,
        "txt" | "csv" | "tsv" | "md" | "markdown" | "log" | "json" | "xml" | "html" | "htm"
        | "ini" | "yaml" | "yml" => Kind::Text,
        "zip" => Kind::Zip,
        "7z" => Kind::SevenZ,
        "rar" => Kind::Rar,
        "jpg" | "jpeg" | "png" | "gif" | "bmp" | "tif" | "tiff" | "webp" | "heic" | "heif" => {
            Kind::Image
        }
        "mp4" | "m4v" | "mov" | "avi" | "mkv" | "wmv" | "flv" | "webm" | "mpg" | "mpeg" | "3gp" => {
            Kind::Video
        }
        "mp3" | "wav" | "m4a" | "aac" | "flac" | "ogg" | "wma" | "amr" => Kind::Audio,
        _ => return None,
    })
}

fn plain(kind: Kind) -> Inspection {
    Inspection {
        kind,
        flags: Vec::new(),
    }
}

fn by_content(data: &[u8], complete: bool, ext: Option<&str>) -> Inspection {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return if complete {
            zip_complete(data)
        } else {
            zip_head(data)
        };
    }
    if data.starts_with(&OLE_MAGIC) {
        return ole(data, complete, ext);
    }
    if pdf_header_at(data).is_some() {
        return pdf(data, complete);
    }
    if let Some(t) = infer::get(data) {
        match t.matcher_type() {
            infer::MatcherType::Image => return plain(Kind::Image),
            infer::MatcherType::Video => return plain(Kind::Video),
            infer::MatcherType::Audio => return plain(Kind::Audio),
            _ => {}
        }
        if infer::archive::is_7z(data) {
            return plain(Kind::SevenZ);
        }
        if infer::archive::is_rar(data) {
            return plain(Kind::Rar);
        }
    }
    if is_text(data, complete) {
        return plain(Kind::Text);
    }
    plain(Kind::Unknown)
}

// ---- zip-based documents -------------------------------------------------------------

/// The parts that tell the OOXML kinds apart: the main part of each.
const DOCX_MAIN: &str = "word/document.xml";
const PPTX_MAIN: &str = "ppt/presentation.xml";
const XLSX_MAIN: &str = "xl/workbook.xml";
const CONTENT_TYPES: &str = "[Content_Types].xml";
const PACKAGE_RELS: &str = "_rels/.rels";

/// The OOXML kind a set of part names points to: by main part first, else by the folder
/// its parts live in when the package declares itself OOXML.
fn ooxml_kind<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Option<Kind> {
    let has = |n: &str| names.clone().any(|x| x == n);
    if has(DOCX_MAIN) {
        return Some(Kind::Docx);
    }
    if has(PPTX_MAIN) {
        return Some(Kind::Pptx);
    }
    if has(XLSX_MAIN) {
        return Some(Kind::Xlsx);
    }
    if has(CONTENT_TYPES) {
        for (prefix, kind) in [
            ("word/", Kind::Docx),
            ("ppt/", Kind::Pptx),
            ("xl/", Kind::Xlsx),
        ] {
            if names.clone().any(|n| n.starts_with(prefix)) {
                return Some(kind);
            }
        }
    }
    None
}

/// The OOXML kind [Content_Types].xml declares for its main part.
fn kind_from_content_types(xml: &str) -> Option<Kind> {
    if xml.contains("wordprocessingml.document.main+xml")
        || xml.contains("ms-word.document.macroEnabled.main+xml")
        || xml.contains("wordprocessingml.template.main+xml")
    {
        Some(Kind::Docx)
    } else if xml.contains("presentationml.presentation.main+xml")
        || xml.contains("presentationml.slideshow.main+xml")
        || xml.contains("presentationml.template.main+xml")
        || xml.contains("ms-powerpoint.presentation.macroEnabled.main+xml")
    {
        Some(Kind::Pptx)
    } else if xml.contains("spreadsheetml.sheet.main+xml")
        || xml.contains("spreadsheetml.template.main+xml")
        || xml.contains("ms-excel.sheet.macroEnabled.main+xml")
    {
        Some(Kind::Xlsx)
    } else {
        None
    }
}

fn main_part(kind: Kind) -> &'static str {
    match kind {
        Kind::Pptx => PPTX_MAIN,
        Kind::Xlsx => XLSX_MAIN,
        _ => DOCX_MAIN,
    }
}

/// Where the end-of-central-directory record starts, searched backwards over the last
/// 64 KiB + 22 bytes (the record plus the longest comment).
fn find_end_of_central_directory(data: &[u8]) -> Option<usize> {
    if data.len() < 22 {
        return None;
    }
    let lowest = data.len().saturating_sub(22 + 65535);
    (lowest..=data.len() - 22)
        .rev()
        .find(|&i| data[i..].starts_with(b"PK\x05\x06"))
}

/// Reading a part to check it decompresses: bounded so a bomb cannot take long here
/// (nothing is kept, the bytes go to a sink).
const PART_CHECK_LIMIT: u64 = 256 << 20;

fn zip_complete(data: &[u8]) -> Inspection {
    if find_end_of_central_directory(data).is_none() {
        let names = local_header_names(data);
        let kind = ooxml_kind(names.iter().map(|n| n.name.as_str())).unwrap_or(Kind::Zip);
        return Inspection {
            kind,
            flags: vec![FlagNote::new(
                Flag::Truncated,
                "zip end-of-central-directory record missing: the file is cut short",
            )],
        };
    }
    let opened = catch_unwind(AssertUnwindSafe(|| zip::ZipArchive::new(Cursor::new(data))));
    let mut archive = match opened {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return zip_unreadable(data, &e.to_string()),
        Err(_) => return zip_unreadable(data, "the zip reader failed"),
    };
    let names: Vec<String> = archive
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let encrypted = (0..archive.len())
        .filter(|&i| {
            archive
                .by_index_data(i)
                .map(|e| e.encrypted())
                .unwrap_or(false)
        })
        .count();
    let mut flags = Vec::new();
    if encrypted > 0 {
        flags.push(FlagNote::new(
            Flag::Encrypted,
            format!("{encrypted} of {} zip entries are encrypted", archive.len()),
        ));
    }
    let content_types_kind = read_part(&mut archive, CONTENT_TYPES, 1 << 20)
        .ok()
        .and_then(|b| kind_from_content_types(&String::from_utf8_lossy(&b)));
    let Some(kind) = ooxml_kind(names.iter().map(String::as_str)).or(content_types_kind) else {
        return Inspection {
            kind: Kind::Zip,
            flags,
        };
    };
    let main = main_part(kind);
    let missing: Vec<&str> = [CONTENT_TYPES, PACKAGE_RELS, main]
        .into_iter()
        .filter(|p| !names.iter().any(|n| n == p))
        .collect();
    if !missing.is_empty() {
        flags.push(FlagNote::new(
            Flag::Corrupt,
            format!(
                "{} package without its required part {}",
                kind.as_str(),
                missing.join(", ")
            ),
        ));
    } else if encrypted == 0
        && let Err(e) = check_part(&mut archive, main, PART_CHECK_LIMIT)
    {
        flags.push(FlagNote::new(
            Flag::Corrupt,
            format!("{main} cannot be read: {e}"),
        ));
    }
    Inspection { kind, flags }
}

/// A zip whose end record is there but whose central directory cannot be read.
fn zip_unreadable(data: &[u8], reason: &str) -> Inspection {
    let names = local_header_names(data);
    let kind = ooxml_kind(names.iter().map(|n| n.name.as_str())).unwrap_or(Kind::Zip);
    Inspection {
        kind,
        flags: vec![FlagNote::new(
            Flag::Corrupt,
            format!("zip central directory unreadable: {reason}"),
        )],
    }
}

/// The bytes of one part, at most `limit` of them (more is an error), CRC checked.
fn read_part(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let entry = archive.by_name(name).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    entry
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if out.len() as u64 > limit {
        return Err(format!("larger than {} MiB", limit >> 20));
    }
    Ok(out)
}

/// Decompresses one part into a sink, at most `limit` bytes (more is an error), so its
/// data and CRC are checked without keeping it.
fn check_part(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<(), String> {
    let entry = archive.by_name(name).map_err(|e| e.to_string())?;
    let n = std::io::copy(&mut entry.take(limit + 1), &mut std::io::sink())
        .map_err(|e| e.to_string())?;
    if n > limit {
        return Err(format!("larger than {} MiB", limit >> 20));
    }
    Ok(())
}

/// A local file header seen while walking a zip from its start.
struct LocalName {
    name: String,
    encrypted: bool,
    offset: usize,
}

/// Names (with the encrypted bit) of the local file headers found from the start of the
/// data: what a head of a large zip tells. A header whose sizes are deferred to a data
/// descriptor cannot be skipped over, so the walk then searches for the next signature.
fn local_header_names(data: &[u8]) -> Vec<LocalName> {
    let mut names = Vec::new();
    let mut at = 0usize;
    while names.len() < 10_000 {
        let Some(h) = data.get(at..at + 30) else {
            break;
        };
        if !h.starts_with(b"PK\x03\x04") {
            match find(&data[at + 1..], b"PK\x03\x04") {
                Some(i) => {
                    at = at + 1 + i;
                    continue;
                }
                None => break,
            }
        }
        let flags = u16::from_le_bytes([h[6], h[7]]);
        let compressed = u32::from_le_bytes([h[18], h[19], h[20], h[21]]) as usize;
        let name_len = u16::from_le_bytes([h[26], h[27]]) as usize;
        let extra_len = u16::from_le_bytes([h[28], h[29]]) as usize;
        let Some(name) = data.get(at + 30..at + 30 + name_len) else {
            break;
        };
        names.push(LocalName {
            name: String::from_utf8_lossy(name).into_owned(),
            encrypted: flags & 1 != 0,
            offset: at,
        });
        let data_start = at + 30 + name_len + extra_len;
        if flags & 0x08 != 0 || compressed == 0xFFFF_FFFF {
            at = data_start.max(at + 1);
            match data.get(at..).and_then(|rest| find(rest, b"PK\x03\x04")) {
                Some(i) => at += i,
                None => break,
            }
        } else {
            at = data_start + compressed;
        }
    }
    names
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn zip_head(data: &[u8]) -> Inspection {
    let names = local_header_names(data);
    let mut kind = ooxml_kind(names.iter().map(|n| n.name.as_str()));
    if kind.is_none() {
        // [Content_Types].xml is small: when the head holds it whole, it declares the
        // main part's type.
        kind = names
            .iter()
            .filter(|n| n.name == CONTENT_TYPES)
            .find_map(|n| content_types_at(data, n.offset))
            .and_then(|x| kind_from_content_types(&x));
    }
    if kind.is_none() {
        kind = ooxml_kind_from_inner_parts(names.iter().map(|n| n.name.as_str()));
    }
    let mut flags = Vec::new();
    let encrypted = names.iter().filter(|n| n.encrypted).count();
    if encrypted > 0 {
        flags.push(FlagNote::new(
            Flag::Encrypted,
            format!("{encrypted} zip entries in the first 64 KiB are encrypted"),
        ));
    }
    Inspection {
        kind: kind.unwrap_or(Kind::Zip),
        flags,
    }
}

/// From a head that has neither the main part nor [Content_Types].xml: parts only Office
/// writes (a theme, styles, worksheets or slides) beside package metadata. A folder that
/// merely is named `word/` or `ppt/` in a user's zip does not qualify.
fn ooxml_kind_from_inner_parts<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Option<Kind> {
    let package = names
        .clone()
        .any(|n| n == PACKAGE_RELS || n.starts_with("docProps/"));
    if !package {
        return None;
    }
    let inner: [(&str, Kind); 9] = [
        ("word/styles.xml", Kind::Docx),
        ("word/_rels/document.xml.rels", Kind::Docx),
        ("word/theme/", Kind::Docx),
        ("ppt/slides/slide", Kind::Pptx),
        ("ppt/slideMasters/", Kind::Pptx),
        ("ppt/theme/", Kind::Pptx),
        ("xl/worksheets/sheet", Kind::Xlsx),
        ("xl/styles.xml", Kind::Xlsx),
        ("xl/theme/", Kind::Xlsx),
    ];
    inner
        .iter()
        .find(|(prefix, _)| names.clone().any(|n| n.starts_with(prefix)))
        .map(|(_, kind)| *kind)
}

/// [Content_Types].xml decompressed from the local entry at `offset`, when the head holds
/// all of it.
fn content_types_at(data: &[u8], offset: usize) -> Option<String> {
    let h = data.get(offset..offset + 30)?;
    let method = u16::from_le_bytes([h[8], h[9]]);
    let compressed = u32::from_le_bytes([h[18], h[19], h[20], h[21]]) as usize;
    let name_len = u16::from_le_bytes([h[26], h[27]]) as usize;
    let extra_len = u16::from_le_bytes([h[28], h[29]]) as usize;
    let start = offset + 30 + name_len + extra_len;
    let body = data.get(start..start.checked_add(compressed)?)?;
    let mut out = Vec::new();
    match method {
        0 => out.extend_from_slice(body),
        8 => {
            flate2::read::DeflateDecoder::new(body)
                .take(1 << 20)
                .read_to_end(&mut out)
                .ok()?;
        }
        _ => return None,
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

// ---- OLE2 compound files -------------------------------------------------------------

const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Stream names that tell the legacy Office kinds apart, and the one that marks a
/// password-protected OOXML package (MS-OFFCRYPTO: the encrypted package travels inside an
/// OLE2 container).
fn ole_kind_from_names(names: &[String]) -> Option<Kind> {
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("WordDocument") {
        Some(Kind::Doc)
    } else if has("Workbook") || has("Book") {
        Some(Kind::Xls)
    } else if has("PowerPoint Document") {
        Some(Kind::Ppt)
    } else {
        None
    }
}

/// Stream names found in a head as the UTF-16LE names of directory entries.
fn ole_names_in_head(data: &[u8]) -> Vec<String> {
    [
        "WordDocument",
        "Workbook",
        "Book",
        "PowerPoint Document",
        "EncryptedPackage",
    ]
    .into_iter()
    .filter(|n| {
        let utf16: Vec<u8> = n.encode_utf16().flat_map(u16::to_le_bytes).collect();
        // A directory entry: the name, a NUL terminator, and 128-byte alignment.
        let mut needle = utf16;
        needle.extend_from_slice(&[0, 0]);
        let mut from = 0;
        while let Some(i) = data.get(from..).and_then(|d| find(d, &needle)) {
            if (from + i) % 128 == 0 {
                return true;
            }
            from += i + 1;
        }
        false
    })
    .map(str::to_string)
    .collect()
}

fn ole(data: &[u8], complete: bool, ext: Option<&str>) -> Inspection {
    let hint = ext.and_then(kind_of_extension);
    if !complete {
        let names = ole_names_in_head(data);
        if names.iter().any(|n| n == "EncryptedPackage") {
            return encrypted_package(hint);
        }
        let kind = ole_kind_from_names(&names)
            .or(hint.filter(|k| matches!(k, Kind::Doc | Kind::Xls | Kind::Ppt)))
            .unwrap_or(Kind::Unknown);
        return plain(kind);
    }
    let read = catch_unwind(AssertUnwindSafe(|| ole_read(data)));
    match read {
        Ok(Ok(inspection)) => {
            if inspection.kind == Kind::Unknown
                && inspection.flags.iter().any(|f| f.flag == Flag::Encrypted)
            {
                encrypted_package(hint)
            } else {
                inspection
            }
        }
        Ok(Err(e)) => ole_corrupt(data, &e),
        Err(_) => ole_corrupt(data, "the compound-file reader failed"),
    }
}

fn ole_corrupt(data: &[u8], reason: &str) -> Inspection {
    let kind = ole_kind_from_names(&ole_names_in_head(data)).unwrap_or(Kind::Unknown);
    Inspection {
        kind,
        flags: vec![FlagNote::new(
            Flag::Corrupt,
            format!("OLE2 compound file unreadable: {reason}"),
        )],
    }
}

/// A password-protected OOXML package: its kind cannot be read without the password, so
/// the extension (if it names an Office kind) stands in.
fn encrypted_package(hint: Option<Kind>) -> Inspection {
    let kind = hint
        .filter(|k| {
            matches!(
                k,
                Kind::Docx | Kind::Xlsx | Kind::Pptx | Kind::Doc | Kind::Xls | Kind::Ppt
            )
        })
        .unwrap_or(Kind::Unknown);
    Inspection {
        kind,
        flags: vec![FlagNote::new(
            Flag::Encrypted,
            "password-protected Office document (encrypted package)",
        )],
    }
}

fn ole_read(data: &[u8]) -> Result<Inspection, String> {
    let mut file = cfb::CompoundFile::open(Cursor::new(data)).map_err(|e| e.to_string())?;
    let names: Vec<String> = file
        .read_root_storage()
        .map(|e| e.name().to_string())
        .collect();
    if names.iter().any(|n| n == "EncryptedPackage") {
        return Ok(Inspection {
            kind: Kind::Unknown,
            flags: vec![FlagNote::new(Flag::Encrypted, "encrypted package")],
        });
    }
    let Some(kind) = ole_kind_from_names(&names) else {
        return Ok(plain(Kind::Unknown));
    };
    let encrypted = match kind {
        Kind::Doc => word_encrypted(&mut file)?,
        Kind::Xls => {
            let stream = if names.iter().any(|n| n == "Workbook") {
                "Workbook"
            } else {
                "Book"
            };
            excel_encrypted(&mut file, stream)?
        }
        _ => names.iter().any(|n| n == "EncryptedSummary"),
    };
    let mut flags = Vec::new();
    if encrypted {
        flags.push(FlagNote::new(
            Flag::Encrypted,
            format!("password-protected {} document", kind.as_str()),
        ));
    }
    Ok(Inspection { kind, flags })
}

/// MS-DOC FibBase: bit fEncrypted is bit 8 of the 16-bit flags at offset 0x0A.
fn word_encrypted(file: &mut cfb::CompoundFile<Cursor<&[u8]>>) -> Result<bool, String> {
    let mut fib = [0u8; 12];
    file.open_stream("WordDocument")
        .and_then(|mut s| s.read_exact(&mut fib))
        .map_err(|e| format!("WordDocument stream: {e}"))?;
    Ok(u16::from_le_bytes([fib[10], fib[11]]) & 0x0100 != 0)
}

/// MS-XLS: a FILEPASS record (0x002F) in the workbook globals, before their EOF record
/// (0x000A), marks an encrypted workbook.
fn excel_encrypted(
    file: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    stream: &str,
) -> Result<bool, String> {
    let mut head = Vec::new();
    file.open_stream(stream)
        .and_then(|s| s.take(1 << 20).read_to_end(&mut head))
        .map_err(|e| format!("{stream} stream: {e}"))?;
    let mut at = 0;
    while let Some(h) = head.get(at..at + 4) {
        let kind = u16::from_le_bytes([h[0], h[1]]);
        let len = u16::from_le_bytes([h[2], h[3]]) as usize;
        match kind {
            0x002F => return Ok(true),
            0x000A => return Ok(false),
            _ => at += 4 + len,
        }
    }
    Ok(false)
}

// ---- PDF ------------------------------------------------------------------------------

/// The PDF header may follow up to 1 KiB of junk (as readers accept).
fn pdf_header_at(data: &[u8]) -> Option<usize> {
    find(&data[..data.len().min(1024)], b"%PDF-")
}

/// How far from the end `%%EOF` and `startxref` are looked for: the last lines of a PDF,
/// with room for the trailing bytes some mail and upload systems append.
const PDF_TAIL: usize = 2048;
/// How much of each end is searched for the `/Encrypt` trailer entry (a linearized file
/// has its first-page trailer near the start).
const PDF_TRAILER_ZONE: usize = 64 << 10;

fn pdf(data: &[u8], complete: bool) -> Inspection {
    let mut flags = Vec::new();
    let head_zone = &data[..data.len().min(PDF_TRAILER_ZONE)];
    let tail_zone = &data[data.len().saturating_sub(PDF_TRAILER_ZONE)..];
    let encrypted = has_encrypt_entry(tail_zone) || has_encrypt_entry(head_zone);
    if encrypted {
        flags.push(FlagNote::new(
            Flag::Encrypted,
            "PDF trailer has an /Encrypt dictionary",
        ));
    }
    if !complete {
        return Inspection {
            kind: Kind::Pdf,
            flags,
        };
    }
    let tail = &data[data.len().saturating_sub(PDF_TAIL)..];
    let missing: Vec<&str> = [("%%EOF", b"%%EOF".as_slice()), ("startxref", b"startxref")]
        .into_iter()
        .filter(|(_, m)| rfind(tail, m).is_none())
        .map(|(n, _)| n)
        .collect();
    if !missing.is_empty() {
        flags.push(FlagNote::new(
            Flag::Truncated,
            format!("PDF ends without {}", missing.join(" or ")),
        ));
        return Inspection {
            kind: Kind::Pdf,
            flags,
        };
    }
    let loaded = catch_unwind(AssertUnwindSafe(|| lopdf::Document::load_mem(data)));
    let failure = match loaded {
        Ok(Ok(doc)) => {
            if !encrypted && doc.is_encrypted() {
                flags.push(FlagNote::new(Flag::Encrypted, "PDF is encrypted"));
            }
            None
        }
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("the PDF reader failed".to_string()),
    };
    // An encrypted file whose password is unknown fails to load for that reason alone.
    if let Some(reason) = failure
        && !flags.iter().any(|f| f.flag == Flag::Encrypted)
    {
        flags.push(FlagNote::new(
            Flag::Corrupt,
            format!("PDF cannot be read: {reason}"),
        ));
    }
    Inspection {
        kind: Kind::Pdf,
        flags,
    }
}

/// An `/Encrypt` key (not `/EncryptMetadata` and the like) in a trailer or cross-reference
/// stream dictionary.
fn has_encrypt_entry(zone: &[u8]) -> bool {
    let mut from = 0;
    while let Some(i) = zone.get(from..).and_then(|z| find(z, b"/Encrypt")) {
        let after = zone.get(from + i + 8).copied();
        if matches!(
            after,
            None | Some(b' ' | b'\r' | b'\n' | b'\t' | b'<' | b'/' | b'0'..=b'9')
        ) {
            return true;
        }
        from += i + 1;
    }
    false
}

// ---- text -----------------------------------------------------------------------------

/// Text: decodes as UTF-8 (BOM or not), UTF-16 with a BOM, or GB18030, with no NUL and
/// few control characters. A head may end inside a character; that tail is forgiven.
fn is_text(data: &[u8], complete: bool) -> bool {
    let Some(text) = decode_text(data, complete) else {
        return false;
    };
    let mut chars = 0usize;
    let mut control = 0usize;
    for c in text.chars() {
        chars += 1;
        if c == '\0' {
            return false;
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{0C}' | '\u{1A}') {
            control += 1;
        }
    }
    chars > 0 && control * 100 <= chars
}

fn decode_text(data: &[u8], complete: bool) -> Option<String> {
    if let Some(rest) = data.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(rest, complete, u16::from_le_bytes);
    }
    if let Some(rest) = data.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(rest, complete, u16::from_be_bytes);
    }
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    match std::str::from_utf8(body) {
        Ok(s) => return Some(s.to_string()),
        Err(e) if !complete && e.error_len().is_none() => {
            return Some(String::from_utf8_lossy(&body[..e.valid_up_to()]).into_owned());
        }
        Err(_) => {}
    }
    // GB18030 characters are at most 4 bytes: a head may cut the last one.
    let trims: &[usize] = if complete { &[0] } else { &[0, 1, 2, 3] };
    trims.iter().find_map(|&t| {
        let slice = body.get(..body.len().checked_sub(t)?)?;
        encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(slice)
            .map(|s| s.into_owned())
    })
}

fn decode_utf16(bytes: &[u8], complete: bool, unit: fn([u8; 2]) -> u16) -> Option<String> {
    let even = if complete {
        if !bytes.len().is_multiple_of(2) {
            return None;
        }
        bytes
    } else {
        &bytes[..bytes.len() - bytes.len() % 2]
    };
    let units = even.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::new();
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => out.push(c),
            // A head may end between the two halves of a surrogate pair.
            Err(_) if !complete => break,
            Err(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_read_from_the_last_segment() {
        assert_eq!(extension("a/b.c/培训.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension("dir.v2\\readme"), None);
        assert_eq!(extension(".bashrc"), None);
        assert_eq!(extension("x."), None);
    }

    #[test]
    fn encrypt_key_is_told_from_encrypt_metadata() {
        assert!(has_encrypt_entry(b"trailer << /Size 9 /Encrypt 8 0 R >>"));
        assert!(has_encrypt_entry(b"<</Encrypt<</Filter/Standard>>>>"));
        assert!(!has_encrypt_entry(b"<< /EncryptMetadata false >>"));
    }

    #[test]
    fn text_in_utf8_gbk_and_utf16_is_text() {
        let s = "培训方案\n第二行\t完";
        assert!(is_text(s.as_bytes(), true));
        assert!(is_text(&encoding_rs::GBK.encode(s).0, true));
        let mut le = vec![0xFF, 0xFE];
        le.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        assert!(is_text(&le, true));
        let mut be = vec![0xFE, 0xFF];
        be.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        assert!(is_text(&be, true));
    }

    #[test]
    fn a_head_may_cut_a_character() {
        let s = "培训方案".repeat(10);
        let b = s.as_bytes();
        assert!(!is_text(&b[..b.len() - 1], true));
        assert!(is_text(&b[..b.len() - 1], false));
        let g = encoding_rs::GBK.encode(&s).0;
        assert!(is_text(&g[..g.len() - 1], false));
    }

    #[test]
    fn binary_is_not_text() {
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(!is_text(&bytes, true));
        assert!(!is_text(b"abc\0def", true));
        // Two control characters in 40 is more than "few".
        let mut t = b"plain text that is long enough here".to_vec();
        t.extend_from_slice(b"\x01\x02\x03");
        assert!(!is_text(&t, true));
    }

    #[test]
    fn ole_directory_names_are_found_at_entry_boundaries() {
        let mut data = vec![0u8; 512];
        let name: Vec<u8> = "WordDocument"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        data[256..256 + name.len()].copy_from_slice(&name);
        assert_eq!(ole_names_in_head(&data), vec!["WordDocument".to_string()]);
        let mut shifted = vec![0u8; 512];
        shifted[300..300 + name.len()].copy_from_slice(&name);
        assert!(ole_names_in_head(&shifted).is_empty());
    }
}
