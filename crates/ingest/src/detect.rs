//! A file's type from its content — magic bytes, the parts inside a zip container, the
//! streams of an OLE2 compound file — never from its name; and its health: empty,
//! truncated, corrupt, encrypted, or named with the wrong extension.

use crate::{Flag, FlagNote, Kind};
use std::io::Cursor;

/// How much of a large file is read to tell its type.
pub const HEAD_LEN: usize = 65536;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub kind: Kind,
    pub flags: Vec<FlagNote>,
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// The kinds an extension promises; None for extensions that promise nothing.
fn expected(ext: &str) -> Option<&'static [Kind]> {
    Some(match ext {
        "docx" | "docm" | "dotx" => &[Kind::Docx],
        "pptx" | "pptm" | "ppsx" => &[Kind::Pptx],
        "xlsx" | "xlsm" => &[Kind::Xlsx],
        "doc" | "wps" | "dot" => &[Kind::Doc],
        "ppt" | "dps" | "pps" => &[Kind::Ppt],
        "xls" | "et" => &[Kind::Xls],
        "pdf" => &[Kind::Pdf],
        "txt" | "csv" | "md" | "json" | "xml" | "html" | "htm" | "log" => &[Kind::Text],
        "zip" => &[Kind::Zip],
        "7z" => &[Kind::SevenZ],
        "rar" => &[Kind::Rar],
        "jpg" | "jpeg" | "png" | "gif" | "bmp" | "tif" | "tiff" | "webp" => &[Kind::Image],
        "mp4" | "avi" | "mov" | "mkv" | "wmv" | "flv" | "webm" | "m4v" | "mpg" | "mpeg" => {
            &[Kind::Video]
        }
        "mp3" | "wav" | "wma" | "m4a" | "aac" | "flac" | "ogg" => &[Kind::Audio],
        _ => return None,
    })
}

fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_lowercase(),
        _ => String::new(),
    }
}

/// What a zip container holds, from its central directory (complete file) or from the local
/// headers visible in its head.
fn zip_kind(data: &[u8], complete: bool, flags: &mut Vec<FlagNote>) -> Kind {
    let by_names = |has: &dyn Fn(&str) -> bool| {
        if has("word/document.xml") {
            Kind::Docx
        } else if has("ppt/presentation.xml") {
            Kind::Pptx
        } else if has("xl/workbook.xml") {
            Kind::Xlsx
        } else {
            Kind::Zip
        }
    };
    if !complete {
        return by_names(&|n: &str| find(data, n.as_bytes()));
    }
    match zip::ZipArchive::new(Cursor::new(data)) {
        Ok(mut z) => {
            let names: Vec<String> = z
                .file_names_raw()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect();
            let kind = by_names(&|n: &str| names.iter().any(|x| x == n));
            if kind != Kind::Zip && !names.iter().any(|x| x == "[Content_Types].xml") {
                flags.push(FlagNote::new(
                    Flag::Corrupt,
                    "office document without [Content_Types].xml",
                ));
            }
            let encrypted = (0..z.len())
                .filter_map(|i| z.by_index_raw(i).ok().map(|f| f.encrypted()))
                .filter(|e| *e)
                .count();
            if encrypted > 0 {
                flags.push(FlagNote::new(
                    Flag::Encrypted,
                    format!("{encrypted} encrypted entries"),
                ));
            }
            kind
        }
        Err(e) => {
            let tail = &data[data.len().saturating_sub(65_557)..];
            let kind = by_names(&|n: &str| find(data, n.as_bytes()));
            if !find(tail, b"PK\x05\x06") {
                flags.push(FlagNote::new(
                    Flag::Truncated,
                    "the zip container ends before its directory",
                ));
            } else {
                flags.push(FlagNote::new(
                    Flag::Corrupt,
                    format!("unreadable zip container: {e}"),
                ));
            }
            kind
        }
    }
}

/// OLE2 compound files: the stream names (UTF-16LE in the directory) tell Word, Excel,
/// PowerPoint and encrypted OOXML apart.
fn ole_kind(data: &[u8], name_ext: &str, flags: &mut Vec<FlagNote>) -> Kind {
    if find(data, &utf16le("EncryptedPackage")) {
        flags.push(FlagNote::new(
            Flag::Encrypted,
            "password-protected office document",
        ));
        return match name_ext {
            "docx" | "doc" => Kind::Docx,
            "xlsx" | "xls" => Kind::Xlsx,
            "pptx" | "ppt" => Kind::Ppt,
            _ => Kind::Unknown,
        };
    }
    if find(data, &utf16le("WordDocument")) {
        Kind::Doc
    } else if find(data, &utf16le("Workbook")) || find(data, &utf16le("Book")) {
        Kind::Xls
    } else if find(data, &utf16le("PowerPoint Document")) {
        Kind::Ppt
    } else {
        Kind::Unknown
    }
}

fn pdf_health(data: &[u8], flags: &mut Vec<FlagNote>) {
    let tail = &data[data.len().saturating_sub(2048)..];
    if !find(tail, b"%%EOF") {
        flags.push(FlagNote::new(
            Flag::Truncated,
            "the PDF ends before its %%EOF marker",
        ));
        return;
    }
    let trailer = &data[data.len().saturating_sub(65_536)..];
    if find(trailer, b"/Encrypt") {
        flags.push(FlagNote::new(Flag::Encrypted, "the PDF is encrypted"));
        return;
    }
    let loaded = std::panic::catch_unwind(|| lopdf::Document::load_mem(data).map(|_| ()));
    match loaded {
        Ok(Ok(())) => {}
        Ok(Err(e)) => flags.push(FlagNote::new(Flag::Corrupt, format!("unreadable PDF: {e}"))),
        Err(_) => flags.push(FlagNote::new(Flag::Corrupt, "unreadable PDF")),
    }
}

/// Text when it decodes as UTF-8 (a cut last character allowed in a head), UTF-16 with a
/// byte-order mark, or GB18030, with almost no control characters.
fn is_text(data: &[u8], complete: bool) -> bool {
    if data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let sample = &data[..data.len().min(HEAD_LEN)];
    let controls = sample
        .iter()
        .filter(|b| **b < 0x20 && !matches!(**b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if controls * 100 > sample.len().max(1) {
        return false;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) if e.error_len().is_none() && (!complete || sample.len() < data.len()) => true,
        Err(_) => {
            let (_, _, bad) = encoding_rs::GB18030.decode(sample);
            !bad || !complete
        }
    }
}

/// Inspect a file. `data` is the whole file when `complete`, else its first bytes.
pub fn inspect(name: &str, data: &[u8], complete: bool) -> Inspection {
    let ext = extension(name);
    let mut flags = Vec::new();
    if data.is_empty() {
        if complete {
            flags.push(FlagNote::new(Flag::Empty, "zero bytes"));
        }
        return Inspection {
            kind: Kind::Empty,
            flags,
        };
    }
    let head = &data[..data.len().min(1024)];
    let kind = if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        zip_kind(data, complete, &mut flags)
    } else if data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        ole_kind(data, &ext, &mut flags)
    } else if find(head, b"%PDF-") {
        if complete {
            pdf_health(data, &mut flags);
        }
        Kind::Pdf
    } else if let Some(t) = infer::get(data) {
        match t.matcher_type() {
            infer::MatcherType::Image => Kind::Image,
            infer::MatcherType::Video => Kind::Video,
            infer::MatcherType::Audio => Kind::Audio,
            _ if t.mime_type() == "application/x-7z-compressed" => Kind::SevenZ,
            _ if t.mime_type() == "application/vnd.rar" => Kind::Rar,
            _ if is_text(data, complete) => Kind::Text,
            _ => Kind::Unknown,
        }
    } else if is_text(data, complete) {
        Kind::Text
    } else {
        Kind::Unknown
    };
    if let Some(kinds) = expected(&ext) {
        let fine = kinds.contains(&kind)
            || kind == Kind::Unknown
            // A .docx that is a zip without the document part is broken, not misnamed.
            || (kind == Kind::Zip && matches!(ext.as_str(), "docx" | "xlsx" | "pptx"));
        if !fine {
            flags.push(FlagNote::new(
                Flag::ExtensionMismatch,
                format!("extension .{ext}, content {}", kind.as_str()),
            ));
        }
        if kind == Kind::Zip && complete && matches!(ext.as_str(), "docx" | "xlsx" | "pptx") {
            flags.push(FlagNote::new(
                Flag::Corrupt,
                format!("a .{ext} without its main document part"),
            ));
        }
    }
    Inspection { kind, flags }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docgen;

    fn has(i: &Inspection, f: Flag) -> bool {
        i.flags.iter().any(|x| x.flag == f)
    }

    #[test]
    fn office_files_are_told_apart_by_their_parts() {
        let d = docgen::docx("标题", &["正文".into()]);
        assert_eq!(inspect("a.docx", &d, true).kind, Kind::Docx);
        assert_eq!(
            inspect("a.docx", &d[..200.min(d.len())], false).kind,
            Kind::Zip
        );
        let p = docgen::pptx("t", &[vec!["幻灯片".into()]]);
        assert_eq!(inspect("a.pptx", &p, true).kind, Kind::Pptx);
        let x = docgen::xlsx("表", &[vec!["a".into()]]);
        assert_eq!(inspect("a.xlsx", &x, true).kind, Kind::Xlsx);
        let i = inspect("报告.pdf", &d, true);
        assert_eq!(i.kind, Kind::Docx);
        assert!(has(&i, Flag::ExtensionMismatch));
        assert!(i.flags[0].detail.contains(".pdf") && i.flags[0].detail.contains("docx"));
    }

    #[test]
    fn broken_files_are_flagged() {
        let d = docgen::docx("标题", &["正文".into()]);
        let cut = inspect("a.docx", &d[..d.len() - 30], true);
        assert!(has(&cut, Flag::Truncated), "{cut:?}");
        let pdf = docgen::pdf(&["考核方案".into()], true);
        assert!(inspect("a.pdf", &pdf, true).flags.is_empty());
        let cut = inspect("a.pdf", &pdf[..pdf.len() / 2], true);
        assert!(has(&cut, Flag::Truncated));
        let e = inspect("空.txt", b"", true);
        assert_eq!(e.kind, Kind::Empty);
        assert!(has(&e, Flag::Empty));
    }

    #[test]
    fn text_in_utf8_or_gbk_is_text_and_binary_is_not() {
        assert_eq!(
            inspect("a.txt", "培训方案\n".as_bytes(), true).kind,
            Kind::Text
        );
        let gbk = encoding_rs::GBK.encode("考核大纲，第一章").0;
        assert_eq!(inspect("a.csv", &gbk, true).kind, Kind::Text);
        let bin: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        assert_eq!(inspect("a.bin", &bin, true).kind, Kind::Unknown);
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        assert_eq!(inspect("a.png", &png, true).kind, Kind::Image);
        assert!(!has(&inspect("a.jpg", &png, true), Flag::ExtensionMismatch));
    }
}
