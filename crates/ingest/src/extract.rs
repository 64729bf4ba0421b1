//! Text from documents: docx and pptx (their XML parts), xlsx and xls (calamine), PDF
//! (two extractors and a quality gate for Chinese text that comes out as replacement or
//! private-use characters), and plain text in UTF-8, UTF-16 or GB18030.

use crate::{Flag, FlagNote, Kind};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::{Cursor, Read};

/// Extracted text is capped (characters beyond are not needed to classify or compare).
pub const MAX_TEXT_BYTES: usize = 2 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub text: String,
    pub extractor: &'static str,
    pub flags: Vec<FlagNote>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextQuality {
    pub chars: usize,
    pub replacement: usize,
    pub private_use: usize,
    pub cjk: usize,
    pub control: usize,
    /// Latin-1 and spacing-modifier letters or rare punctuation, as when two-byte
    /// character codes are read as single bytes ("h8zp„^œ"); real Chinese or English text
    /// has few of them.
    pub mojibake: usize,
}

impl TextQuality {
    /// Share of non-space characters that are replacement or private-use characters.
    pub fn bad_ratio(&self) -> f64 {
        if self.chars == 0 {
            0.0
        } else {
            (self.replacement + self.private_use + self.control + self.mojibake) as f64
                / self.chars as f64
        }
    }
}

pub fn text_quality(text: &str) -> TextQuality {
    let mut q = TextQuality::default();
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        q.chars += 1;
        let u = c as u32;
        if c == '\u{FFFD}' {
            q.replacement += 1;
        } else if (0xE000..=0xF8FF).contains(&u) || (0xF0000..=0x10FFFF).contains(&u) {
            q.private_use += 1;
        } else if c.is_control() {
            q.control += 1;
        } else if (0x4E00..=0x9FFF).contains(&u) || (0x3400..=0x4DBF).contains(&u) {
            q.cjk += 1;
        } else if ((0x80..=0x2FF).contains(&u) && !matches!(u, 0xB0 | 0xB7 | 0xD7 | 0xF7))
            || ((0x2000..=0x206F).contains(&u) && !(0x2010..=0x2027).contains(&u))
        {
            q.mojibake += 1;
        }
    }
    q
}

fn cap(mut s: String) -> String {
    if s.len() > MAX_TEXT_BYTES {
        let mut end = MAX_TEXT_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Text of the elements named `text_tag` in an OOXML part; a newline after each
/// `para_tag`, a tab for `w:tab`.
fn xml_text(xml: &[u8], text_tag: &str, para_tag: &str, out: &mut String) -> Result<(), String> {
    let mut r = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut in_text = false;
    loop {
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.name().as_ref() == text_tag => in_text = true,
            Ok(Event::End(e)) if e.name().as_ref() == text_tag => in_text = false,
            Ok(Event::End(e)) if e.name().as_ref() == para_tag => out.push('\n'),
            Ok(Event::Empty(e)) if e.name().as_ref() == "w:tab" => out.push('\t'),
            Ok(Event::Text(t)) if in_text => out.push_str(&t),
            Ok(Event::GeneralRef(g)) if in_text => {
                let name: &str = &g;
                out.push_str(match name {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Ok(Event::Eof) => break,
            Err(e) => return Err(format!("XML: {e}")),
            _ => {}
        }
        if out.len() > MAX_TEXT_BYTES {
            break;
        }
        buf.clear();
    }
    Ok(())
}

fn zip_part(z: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Vec<u8>, String> {
    let f = z.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    let mut v = Vec::new();
    // Parts are bounded like archive entries: a crafted document cannot inflate without end.
    f.take(64 << 20)
        .read_to_end(&mut v)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(v)
}

fn docx_text(data: &[u8]) -> Result<String, String> {
    let mut z = zip::ZipArchive::new(Cursor::new(data)).map_err(|e| e.to_string())?;
    let xml = zip_part(&mut z, "word/document.xml")?;
    let mut out = String::new();
    xml_text(&xml, "w:t", "w:p", &mut out)?;
    Ok(out)
}

fn pptx_text(data: &[u8]) -> Result<String, String> {
    let mut z = zip::ZipArchive::new(Cursor::new(data)).map_err(|e| e.to_string())?;
    let mut slides: Vec<(u32, String)> = z
        .file_names_raw()
        .filter_map(|n| {
            let n = std::str::from_utf8(n).ok()?;
            let num = n
                .strip_prefix("ppt/slides/slide")?
                .strip_suffix(".xml")?
                .parse()
                .ok()?;
            Some((num, n.to_string()))
        })
        .collect();
    slides.sort();
    let mut out = String::new();
    for (_, name) in slides {
        let xml = zip_part(&mut z, &name)?;
        xml_text(&xml, "a:t", "a:p", &mut out)?;
    }
    Ok(out)
}

fn sheet_text(data: &[u8]) -> Result<String, String> {
    use calamine::{Data, Reader as _};
    let mut wb =
        calamine::open_workbook_auto_from_rs(Cursor::new(data)).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for name in wb.sheet_names() {
        let Ok(range) = wb.worksheet_range(&name) else {
            continue;
        };
        for row in range.rows() {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect();
            out.push_str(cells.join("\t").trim_end());
            out.push('\n');
            if out.len() > MAX_TEXT_BYTES {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// Decode plain text: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030.
pub fn decode_text(data: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(data) {
        return enc.decode_without_bom_handling(&data[bom..]).0.into_owned();
    }
    match std::str::from_utf8(data) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(data).0.into_owned(),
    }
}

fn pdf_primary(data: &[u8]) -> Result<String, String> {
    match std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(data)) {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the PDF text extractor failed".into()),
    }
}

fn pdf_fallback(data: &[u8]) -> Result<String, String> {
    let run = || -> Result<String, String> {
        let doc = lopdf::Document::load_mem(data).map_err(|e| e.to_string())?;
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        doc.extract_text(&pages).map_err(|e| e.to_string())
    };
    std::panic::catch_unwind(run).unwrap_or_else(|_| Err("the PDF text extractor failed".into()))
}

/// Above this share of bad characters, a PDF's text is not trusted.
const POOR_TEXT: f64 = 0.10;

fn pdf_text(data: &[u8]) -> Extracted {
    let first = pdf_primary(data);
    let good = |t: &str| {
        let q = text_quality(t);
        q.chars > 0 && q.bad_ratio() <= POOR_TEXT
    };
    if let Ok(t) = &first
        && good(t)
    {
        return Extracted {
            text: t.clone(),
            extractor: "pdf-extract",
            flags: Vec::new(),
        };
    }
    let second = pdf_fallback(data);
    let pick = match (first, second) {
        (Ok(_), Ok(b)) if good(&b) => {
            return Extracted {
                text: b,
                extractor: "lopdf",
                flags: Vec::new(),
            };
        }
        (Ok(a), Ok(b)) => {
            if text_quality(&b).chars > text_quality(&a).chars {
                Ok((b, "lopdf"))
            } else {
                Ok((a, "pdf-extract"))
            }
        }
        (Ok(a), Err(_)) => Ok((a, "pdf-extract")),
        (Err(_), Ok(b)) => Ok((b, "lopdf")),
        (Err(a), Err(_)) => Err(a),
    };
    match pick {
        Ok((text, extractor)) => {
            let q = text_quality(&text);
            // Text that is not trusted is not passed on (it would mislead the classifier and
            // the near-duplicate check); the flag says why.
            let detail = if q.chars == 0 {
                "no text could be extracted (scanned or image-only PDF?)".to_string()
            } else {
                format!(
                    "{:.0}% of the extracted characters are replacement, private-use or misread characters (no usable ToUnicode map?)",
                    q.bad_ratio() * 100.0
                )
            };
            Extracted {
                text: String::new(),
                extractor,
                flags: vec![FlagNote::new(Flag::PoorText, detail)],
            }
        }
        Err(e) => Extracted {
            text: String::new(),
            extractor: "pdf-extract",
            flags: vec![FlagNote::new(Flag::ExtractFailed, e)],
        },
    }
}

/// Extract a document's text. Never panics; a failure is a flag with its reason.
pub fn extract(kind: Kind, data: &[u8]) -> Extracted {
    let (result, extractor) = match kind {
        Kind::Docx => (docx_text(data), "docx"),
        Kind::Pptx => (pptx_text(data), "pptx"),
        Kind::Xlsx | Kind::Xls => (sheet_text(data), "calamine"),
        Kind::Text => (Ok(decode_text(data)), "text"),
        Kind::Pdf => {
            let mut e = pdf_text(data);
            e.text = cap(e.text);
            return e;
        }
        _ => (Ok(String::new()), "none"),
    };
    match result {
        Ok(text) => Extracted {
            text: cap(text),
            extractor,
            flags: Vec::new(),
        },
        Err(e) => Extracted {
            text: String::new(),
            extractor,
            flags: vec![FlagNote::new(Flag::ExtractFailed, e)],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docgen;

    #[test]
    fn generated_documents_give_back_their_text() {
        let lines = vec![
            "继电保护职业技能等级证书考核方案".to_string(),
            "考核分为理论知识考试与实际操作考核 & 综合评价".to_string(),
        ];
        let t = extract(Kind::Docx, &docgen::docx("标题", &lines)).text;
        assert!(t.contains("标题\n") && t.contains(&lines[1]), "{t}");
        let t = extract(
            Kind::Pptx,
            &docgen::pptx("t", &[vec![lines[0].clone()], vec![lines[1].clone()]]),
        )
        .text;
        let (a, b) = (t.find(&lines[0]).unwrap(), t.find(&lines[1]).unwrap());
        assert!(a < b, "slides in order: {t}");
        let t = extract(
            Kind::Xlsx,
            &docgen::xlsx("表", &[vec!["序号".into(), "内容".into()]]),
        )
        .text;
        assert_eq!(t.trim(), "序号\t内容");
        let pdf = extract(Kind::Pdf, &docgen::pdf(&lines, true));
        assert!(pdf.flags.is_empty(), "{pdf:?}");
        assert!(
            pdf.text.contains("继电保护职业技能等级证书考核方案"),
            "{}",
            pdf.text
        );
    }

    #[test]
    fn a_pdf_without_a_unicode_map_is_flagged() {
        let lines = vec!["考核站点建设标准".repeat(5)];
        let e = extract(Kind::Pdf, &docgen::pdf(&lines, false));
        assert!(!e.text.contains("考核站点"), "{}", e.text);
        assert!(
            e.flags
                .iter()
                .any(|f| matches!(f.flag, Flag::PoorText | Flag::ExtractFailed)),
            "{e:?}"
        );
    }

    #[test]
    fn text_files_decode_from_utf8_utf16_and_gbk() {
        let s = "样题题库：单选题 20 道";
        assert_eq!(decode_text(s.as_bytes()), s);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(s.as_bytes());
        assert_eq!(decode_text(&bom), s);
        assert_eq!(decode_text(&encoding_rs::GBK.encode(s).0), s);
        let mut u16 = vec![0xFF, 0xFE];
        u16.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(decode_text(&u16), s);
        let q = text_quality("中文\u{FFFD}\u{E000}ab");
        assert_eq!((q.chars, q.replacement, q.private_use, q.cjk), (6, 1, 1, 2));
    }

    #[test]
    fn garbage_gives_a_flag_not_a_panic() {
        for kind in [Kind::Docx, Kind::Pptx, Kind::Xlsx, Kind::Xls, Kind::Pdf] {
            let e = extract(kind, b"PK\x03\x04 not really a document");
            assert!(e.text.is_empty());
            assert!(
                e.flags.iter().any(|f| f.flag == Flag::ExtractFailed),
                "{kind:?}"
            );
        }
    }
}
