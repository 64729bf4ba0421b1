//! Text extraction (文字提取) from the kinds that carry text: docx, pptx, xlsx, xls, PDF
//! and plain text. Never panics; failures come back as flags, and the text is capped.
//!
//! PDFs go through a quality gate: text that comes out as replacement or private-use
//! characters, or glyphs no Unicode mapping covers, is retried with a second extractor and,
//! if still poor, flagged [`Flag::PoorText`] so later stages do not trust it.

use std::collections::{BTreeSet, HashMap};
use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

use quick_xml::events::Event;

use crate::types::{Flag, FlagNote, Kind};

/// The most text kept from one file, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 2 << 20;

/// A single XML part is not decompressed beyond this (a part larger than this in a
/// declaration document is a bomb, not a document).
const MAX_PART_BYTES: u64 = 256 << 20;

/// Text taken out of a file, which extractor produced it, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub text: String,
    pub extractor: &'static str,
    pub flags: Vec<FlagNote>,
}

/// Character counts that tell readable text from garbage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextQuality {
    /// Characters other than white space.
    pub chars: usize,
    /// U+FFFD REPLACEMENT CHARACTER.
    pub replacement: usize,
    /// Private-use code points (U+E000–U+F8FF and planes 15–16): glyph codes passed
    /// through where no Unicode mapping was known.
    pub private_use: usize,
    /// CJK ideographs.
    pub cjk: usize,
    /// Control characters other than tab, line feed and carriage return.
    pub control: usize,
}

impl TextQuality {
    /// Share of non-space characters that are unreadable, 0.0 for no characters.
    pub fn bad_ratio(&self) -> f64 {
        if self.chars == 0 {
            0.0
        } else {
            (self.replacement + self.private_use) as f64 / self.chars as f64
        }
    }
}

pub fn text_quality(text: &str) -> TextQuality {
    let mut q = TextQuality::default();
    for c in text.chars() {
        if c.is_whitespace() {
            continue;
        }
        q.chars += 1;
        let u = c as u32;
        if c == '\u{FFFD}' {
            q.replacement += 1;
        } else if matches!(u, 0xE000..=0xF8FF | 0xF_0000..=0xF_FFFD | 0x10_0000..=0x10_FFFD) {
            q.private_use += 1;
        } else if matches!(
            u,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x2_0000..=0x3_134F
        ) {
            q.cjk += 1;
        } else if c.is_control() {
            q.control += 1;
        }
    }
    q
}

/// Extracts the text of `data` read as `kind`. Kinds without text give empty text and no
/// flags.
pub fn extract(kind: Kind, data: &[u8]) -> Extracted {
    let mut out = match kind {
        Kind::Docx => ooxml_text(data, Ooxml::Docx),
        Kind::Pptx => ooxml_text(data, Ooxml::Pptx),
        Kind::Xlsx | Kind::Xls => spreadsheet(kind, data),
        Kind::Pdf => pdf(data),
        Kind::Text => plain_text(data),
        _ => Extracted {
            text: String::new(),
            extractor: "none",
            flags: Vec::new(),
        },
    };
    cap(&mut out.text);
    out
}

fn failed(extractor: &'static str, reason: impl Into<String>) -> Extracted {
    Extracted {
        text: String::new(),
        extractor,
        flags: vec![FlagNote::new(Flag::ExtractFailed, reason)],
    }
}

/// Cuts text to [`MAX_TEXT_BYTES`] at a character boundary.
fn cap(text: &mut String) {
    if text.len() > MAX_TEXT_BYTES {
        let mut end = MAX_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

// ---- plain text -----------------------------------------------------------------------

fn plain_text(data: &[u8]) -> Extracted {
    let (text, extractor) = if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
        (String::from_utf8_lossy(rest).into_owned(), "text-utf8")
    } else if data.starts_with(b"\xFF\xFE") {
        let (t, _) = encoding_rs::UTF_16LE.decode_with_bom_removal(data);
        (t.into_owned(), "text-utf16")
    } else if data.starts_with(b"\xFE\xFF") {
        let (t, _) = encoding_rs::UTF_16BE.decode_with_bom_removal(data);
        (t.into_owned(), "text-utf16")
    } else if let Ok(s) = std::str::from_utf8(data) {
        (s.to_string(), "text-utf8")
    } else {
        let (t, _, _) = encoding_rs::GB18030.decode(data);
        (t.into_owned(), "text-gb18030")
    };
    Extracted {
        text,
        extractor,
        flags: Vec::new(),
    }
}

// ---- docx and pptx ----------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ooxml {
    Docx,
    Pptx,
}

type ZipReader<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn ooxml_text(data: &[u8], which: Ooxml) -> Extracted {
    let extractor = match which {
        Ooxml::Docx => "docx-xml",
        Ooxml::Pptx => "pptx-xml",
    };
    let run = catch_unwind(AssertUnwindSafe(|| -> Result<String, String> {
        let mut archive = zip::ZipArchive::new(Cursor::new(data))
            .map_err(|e| format!("not a readable zip: {e}"))?;
        let mut text = String::new();
        match which {
            Ooxml::Docx => {
                let xml = read_part(&mut archive, "word/document.xml")?;
                markup_text(&xml, &mut text)?;
            }
            Ooxml::Pptx => {
                for slide in slide_parts(&mut archive) {
                    if text.len() > MAX_TEXT_BYTES {
                        break;
                    }
                    let xml = read_part(&mut archive, &slide)?;
                    markup_text(&xml, &mut text)?;
                }
            }
        }
        Ok(text)
    }));
    match run {
        Ok(Ok(text)) => Extracted {
            text: text.trim_end().to_string(),
            extractor,
            flags: Vec::new(),
        },
        Ok(Err(reason)) => failed(extractor, reason),
        Err(_) => failed(extractor, "the extractor failed on malformed content"),
    }
}

/// One part as text, bounded by [`MAX_PART_BYTES`].
fn read_part(archive: &mut ZipReader, name: &str) -> Result<String, String> {
    let entry = archive.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    let mut bytes = Vec::new();
    entry
        .take(MAX_PART_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 > MAX_PART_BYTES {
        return Err(format!(
            "{name} is larger than {} MiB",
            MAX_PART_BYTES >> 20
        ));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// The slide parts in presentation order: the order of `p:sldIdLst` in
/// ppt/presentation.xml, resolved through its relationships; by slide number when those
/// cannot be read.
fn slide_parts(archive: &mut ZipReader) -> Vec<String> {
    let ordered = (|| -> Option<Vec<String>> {
        let pres = read_part(archive, "ppt/presentation.xml").ok()?;
        let rels = read_part(archive, "ppt/_rels/presentation.xml.rels").ok()?;
        let targets = relationship_targets(&rels)?;
        let mut slides = Vec::new();
        let mut reader = quick_xml::Reader::from_str(&pres);
        loop {
            match reader.read_event().ok()? {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "sldId" => {
                    for a in e.attributes().flatten() {
                        let key = a.key.as_ref();
                        // r:id (any prefix), not the numeric id.
                        if key.ends_with(":id") {
                            let id = a.value.to_string();
                            if let Some(t) = targets.get(&id) {
                                slides.push(resolve_target("ppt", t));
                            }
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Some(slides)
    })();
    match ordered {
        Some(s) if !s.is_empty() => s,
        _ => {
            let mut numbered: Vec<(u32, String)> = archive
                .file_names()
                .filter_map(|n| {
                    let n = n.ok()?;
                    let num = n
                        .strip_prefix("ppt/slides/slide")?
                        .strip_suffix(".xml")?
                        .parse()
                        .ok()?;
                    Some((num, n.to_string()))
                })
                .collect();
            numbered.sort();
            numbered.into_iter().map(|(_, n)| n).collect()
        }
    }
}

fn relationship_targets(rels: &str) -> Option<HashMap<String, String>> {
    let mut map = HashMap::new();
    let mut reader = quick_xml::Reader::from_str(rels);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let mut id = None;
                let mut target = None;
                for a in e.attributes().flatten() {
                    match a.key.as_ref() {
                        "Id" => id = Some(a.value.to_string()),
                        "Target" => target = Some(a.value.to_string()),
                        _ => {}
                    }
                }
                if let (Some(id), Some(target)) = (id, target) {
                    map.insert(id, target);
                }
            }
            Event::Eof => return Some(map),
            _ => {}
        }
    }
}

/// A relationship target as a part name: absolute targets drop their slash, relative
/// ones are joined to the source part's folder.
fn resolve_target(folder: &str, target: &str) -> String {
    if let Some(abs) = target.strip_prefix('/') {
        return abs.to_string();
    }
    let mut parts: Vec<&str> = folder.split('/').filter(|s| !s.is_empty()).collect();
    for seg in target.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Text of WordprocessingML or DrawingML markup: the content of `t` elements; a paragraph
/// ends a line; in tables, cells end with a tab and rows with a line; `tab` within a run
/// and `br`/`cr` are themselves. `mc:Fallback` repeats what `mc:Choice` says and is
/// skipped.
fn markup_text(xml: &str, out: &mut String) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut in_t = 0u32;
    let mut in_run = 0u32;
    let mut in_cell = 0u32;
    let mut fallback = 0u32;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "Fallback" => fallback += 1,
                "t" => in_t += 1,
                "r" => in_run += 1,
                "tc" => in_cell += 1,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "Fallback" => fallback = fallback.saturating_sub(1),
                "t" => in_t = in_t.saturating_sub(1),
                "r" => in_run = in_run.saturating_sub(1),
                "p" if fallback == 0 => out.push(if in_cell > 0 { ' ' } else { '\n' }),
                "tc" if fallback == 0 => {
                    in_cell = in_cell.saturating_sub(1);
                    trim_end_spaces(out);
                    out.push('\t');
                }
                "tc" => in_cell = in_cell.saturating_sub(1),
                "tr" if fallback == 0 => {
                    if out.ends_with('\t') {
                        out.pop();
                    }
                    out.push('\n');
                }
                _ => {}
            },
            Event::Empty(e) if fallback == 0 => match e.local_name().as_ref() {
                "tab" if in_run > 0 => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                "p" => out.push(if in_cell > 0 { ' ' } else { '\n' }),
                _ => {}
            },
            Event::Text(t) if in_t > 0 && fallback == 0 => out.push_str(&t.xml10_content()),
            Event::CData(t) if in_t > 0 && fallback == 0 => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_t > 0 && fallback == 0 => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                    out.push_str(s);
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        if out.len() > MAX_TEXT_BYTES {
            return Ok(());
        }
    }
}

fn trim_end_spaces(s: &mut String) {
    while s.ends_with(' ') {
        s.pop();
    }
}

// ---- spreadsheets ---------------------------------------------------------------------

fn cell_text(d: &calamine::Data) -> String {
    d.to_string()
}

fn spreadsheet(kind: Kind, data: &[u8]) -> Extracted {
    let run = catch_unwind(AssertUnwindSafe(|| match kind {
        Kind::Xlsx => xlsx_text(data),
        _ => xls_text(data),
    }));
    match run {
        Ok(Ok(text)) => Extracted {
            text: text.trim_end().to_string(),
            extractor: "calamine",
            flags: Vec::new(),
        },
        Ok(Err(reason)) => failed("calamine", reason),
        Err(_) => failed(
            "calamine",
            "the spreadsheet reader failed on malformed content",
        ),
    }
}

/// Cells stream out of each sheet in file order (no grid is built, so a sheet that claims
/// a million rows costs only what it holds).
fn xlsx_text(data: &[u8]) -> Result<String, String> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(Cursor::new(data)).map_err(|e| format!("workbook unreadable: {e}"))?;
    let mut text = String::new();
    for sheet in book.sheet_names() {
        let mut cells = book
            .worksheet_cells_reader(&sheet)
            .map_err(|e| format!("sheet {sheet}: {e}"))?;
        let mut row = None;
        while let Some(cell) = cells
            .next_cell()
            .map_err(|e| format!("sheet {sheet}: {e}"))?
        {
            let value = calamine::Data::from(cell.get_value().clone());
            let value = cell_text(&value);
            if value.is_empty() {
                continue;
            }
            let (r, _) = cell.get_position();
            match row {
                Some(prev) if prev == r => text.push('\t'),
                Some(_) => text.push('\n'),
                None if !text.is_empty() => text.push('\n'),
                None => {}
            }
            row = Some(r);
            text.push_str(&value);
            if text.len() > MAX_TEXT_BYTES {
                return Ok(text);
            }
        }
    }
    Ok(text)
}

fn xls_text(data: &[u8]) -> Result<String, String> {
    use calamine::Reader;
    let mut book: calamine::Xls<_> =
        calamine::Xls::new(Cursor::new(data)).map_err(|e| format!("workbook unreadable: {e}"))?;
    let mut text = String::new();
    for sheet in book.sheet_names() {
        let range = book
            .worksheet_range(&sheet)
            .map_err(|e| format!("sheet {sheet}: {e}"))?;
        for row in range.rows() {
            let cells: Vec<String> = row.iter().map(cell_text).collect();
            let used = cells.iter().rposition(|c| !c.is_empty());
            let Some(last) = used else { continue };
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&cells[..=last].join("\t"));
            if text.len() > MAX_TEXT_BYTES {
                return Ok(text);
            }
        }
    }
    Ok(text)
}

// ---- PDF --------------------------------------------------------------------------------

/// Above this share of unreadable characters a page's (or file's) text is poor.
const POOR_RATIO: f64 = 0.10;

/// Glyphs a page shows, and how many of them are in fonts whose codes no extractor can
/// map to Unicode: composite (Type0) fonts with neither a ToUnicode CMap nor a predefined
/// Unicode encoding (`Uni…` CMaps). Their codes are glyph or CID numbers, not characters.
#[derive(Debug, Default, Clone, Copy)]
struct GlyphCensus {
    shown: usize,
    unmapped: usize,
    /// A composite font with a predefined CMap other than Identity: the primary extractor
    /// does not support these (it gives up on the page), the fallback decodes the `Uni…`
    /// ones.
    predefined_cmap: bool,
}

fn census(doc: &lopdf::Document, page: lopdf::ObjectId) -> GlyphCensus {
    let mut c = GlyphCensus::default();
    let Ok(fonts) = doc.get_page_fonts(page) else {
        return c;
    };
    let mut composite = BTreeSet::new();
    let mut unmapped = BTreeSet::new();
    for (name, font) in &fonts {
        let is_type0 = font
            .get(b"Subtype")
            .and_then(lopdf::Object::as_name)
            .is_ok_and(|s| s == b"Type0");
        if !is_type0 {
            continue;
        }
        composite.insert(name.clone());
        let encoding = font.get(b"Encoding").and_then(lopdf::Object::as_name).ok();
        let unicode_encoding = encoding.is_some_and(|e| e.starts_with(b"Uni"));
        if encoding.is_some_and(|e| e != b"Identity-H" && e != b"Identity-V") {
            c.predefined_cmap = true;
        }
        if !font.has(b"ToUnicode") && !unicode_encoding {
            unmapped.insert(name.clone());
        }
    }
    let Ok(content) = doc.get_and_decode_page_content(page) else {
        return c;
    };
    let mut current: Option<Vec<u8>> = None;
    for op in &content.operations {
        let strings: Vec<&[u8]> = match op.operator.as_str() {
            "Tf" => {
                current = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .map(<[u8]>::to_vec);
                continue;
            }
            "Tj" | "'" => op.operands.iter().filter_map(|o| o.as_str().ok()).collect(),
            "\"" => op
                .operands
                .get(2)
                .and_then(|o| o.as_str().ok())
                .into_iter()
                .collect(),
            "TJ" => op
                .operands
                .iter()
                .filter_map(|o| o.as_array().ok())
                .flatten()
                .filter_map(|o| o.as_str().ok())
                .collect(),
            _ => continue,
        };
        let Some(font) = &current else { continue };
        let width = if composite.contains(font) { 2 } else { 1 };
        let glyphs: usize = strings.iter().map(|s| s.len() / width).sum();
        c.shown += glyphs;
        if unmapped.contains(font) {
            c.unmapped += glyphs;
        }
    }
    c
}

/// Unreadable and total counts of a candidate page text, unmapped glyphs included (an
/// extractor drops them or turns them into unrelated characters).
fn badness(text: &str, census: GlyphCensus) -> (usize, usize) {
    let q = text_quality(text);
    (
        q.replacement + q.private_use + census.unmapped,
        q.chars.max(census.unmapped),
    )
}

fn is_poor(text: &str, census: GlyphCensus) -> bool {
    let (bad, total) = badness(text, census);
    if total == 0 {
        return census.shown > 0;
    }
    bad as f64 > POOR_RATIO * total as f64
}

fn primary_page(doc: &lopdf::Document, page: u32) -> Option<String> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut s = String::new();
        {
            let mut output = pdf_extract::PlainTextOutput::new(&mut s);
            pdf_extract::output_doc_page(doc, &mut output, page).ok()?;
        }
        Some(s)
    }))
    .ok()
    .flatten()
}

fn fallback_page(doc: &lopdf::Document, page: u32) -> Option<String> {
    catch_unwind(AssertUnwindSafe(|| doc.extract_text(&[page]).ok()))
        .ok()
        .flatten()
}

fn pdf(data: &[u8]) -> Extracted {
    let loaded = catch_unwind(AssertUnwindSafe(|| lopdf::Document::load_mem(data)));
    let mut doc = match loaded {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) => return failed("pdf-extract", format!("PDF cannot be read: {e}")),
        Err(_) => return failed("pdf-extract", "the PDF reader failed on malformed content"),
    };
    if doc.is_encrypted() {
        // An empty user password opens many "protected" PDFs (permissions only).
        let opened = catch_unwind(AssertUnwindSafe(|| doc.decrypt(""))).is_ok_and(|r| r.is_ok());
        if !opened {
            return failed("pdf-extract", "PDF is encrypted and needs a password");
        }
    }
    let pages = doc.get_pages();
    let mut text = String::new();
    let (mut bad, mut total) = (0usize, 0usize);
    let (mut used_primary, mut used_fallback) = (false, false);
    for (&number, &id) in &pages {
        if text.len() > MAX_TEXT_BYTES {
            break;
        }
        let c = census(&doc, id);
        let primary = if c.predefined_cmap {
            None
        } else {
            primary_page(&doc, number)
        };
        let chosen = match primary {
            Some(p) if !is_poor(&p, c) => {
                used_primary = true;
                p
            }
            primary => {
                let fallback = fallback_page(&doc, number);
                // The better of the two: fewer unreadable characters by share; on a tie
                // the primary, whose failures are dropped glyphs rather than wrong ones.
                let share = |t: &str| {
                    let (b, n) = badness(t, c);
                    if n == 0 { 1.0 } else { b as f64 / n as f64 }
                };
                match (primary, fallback) {
                    (Some(p), Some(f)) if share(&f) < share(&p) => {
                        used_fallback = true;
                        f
                    }
                    (Some(p), _) => {
                        used_primary = true;
                        p
                    }
                    (None, Some(f)) => {
                        used_fallback = true;
                        f
                    }
                    (None, None) => String::new(),
                }
            }
        };
        let (b, n) = badness(&chosen, c);
        bad += b;
        total += n;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&chosen);
    }
    let extractor = match (used_primary, used_fallback) {
        (_, false) => "pdf-extract",
        (false, true) => "lopdf",
        (true, true) => "pdf-extract+lopdf",
    };
    let mut flags = Vec::new();
    if total == 0 && !pages.is_empty() {
        flags.push(FlagNote::new(
            Flag::PoorText,
            format!(
                "no extractable text on {} page{} (scanned images?)",
                pages.len(),
                if pages.len() == 1 { "" } else { "s" }
            ),
        ));
    } else if total > 0 && bad as f64 > POOR_RATIO * total as f64 {
        flags.push(FlagNote::new(
            Flag::PoorText,
            format!(
                "{:.0}% of {total} characters unreadable (replacement, private-use or \
                 unmapped glyphs)",
                100.0 * bad as f64 / total as f64
            ),
        ));
    }
    Extracted {
        text: text.trim().to_string(),
        extractor,
        flags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_counts_each_class() {
        let q = text_quality("培训 a\u{FFFD}\u{E001}\u{1}\n");
        assert_eq!(
            q,
            TextQuality {
                chars: 6,
                replacement: 1,
                private_use: 1,
                cjk: 2,
                control: 1
            }
        );
        assert!((q.bad_ratio() - 2.0 / 6.0).abs() < 1e-9);
    }

    #[test]
    fn text_is_capped_at_a_character_boundary() {
        let mut t = "培".repeat(MAX_TEXT_BYTES / 3 + 10);
        cap(&mut t);
        assert!(t.len() <= MAX_TEXT_BYTES);
        assert!(t.len() > MAX_TEXT_BYTES - 3);
        assert!(t.chars().all(|c| c == '培'));
    }

    #[test]
    fn markup_paragraphs_tables_tabs_and_entities() {
        let xml = r#"<w:document xmlns:w="w"><w:body>
            <w:p><w:pPr><w:tabs><w:tab w:val="left"/></w:tabs></w:pPr>
              <w:r><w:t>一</w:t><w:tab/><w:t xml:space="preserve">A &amp; B &#x57F9;</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>甲</w:t></w:r></w:p></w:tc>
                         <w:tc><w:p><w:r><w:t>乙</w:t></w:r></w:p></w:tc></w:tr>
                   <w:tr><w:tc><w:p><w:r><w:t>丙</w:t></w:r></w:p></w:tc>
                         <w:tc><w:p><w:r><w:t>丁</w:t><w:br/><w:t>戊</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            <w:p><w:r><w:delText>删</w:delText><w:t>完</w:t></w:r></w:p>
            <mc:AlternateContent xmlns:mc="mc"><mc:Choice><w:t>选</w:t></mc:Choice>
              <mc:Fallback><w:p><w:r><w:t>选</w:t></w:r></w:p></mc:Fallback></mc:AlternateContent>
            </w:body></w:document>"#;
        let mut out = String::new();
        markup_text(xml, &mut out).unwrap();
        assert_eq!(out, "一\tA & B 培\n甲\t乙\n丙\t丁\n戊\n完\n选");
    }

    #[test]
    fn relationship_targets_resolve_against_the_folder() {
        assert_eq!(
            resolve_target("ppt", "slides/slide2.xml"),
            "ppt/slides/slide2.xml"
        );
        assert_eq!(
            resolve_target("ppt", "/ppt/slides/s.xml"),
            "ppt/slides/s.xml"
        );
        assert_eq!(
            resolve_target("ppt/slides", "../media/a.png"),
            "ppt/media/a.png"
        );
    }

    #[test]
    fn plain_text_in_each_encoding() {
        let s = "第一条 总则";
        assert_eq!(extract(Kind::Text, s.as_bytes()).text, s);
        let gbk = encoding_rs::GBK.encode(s).0;
        let e = extract(Kind::Text, &gbk);
        assert_eq!((e.text.as_str(), e.extractor), (s, "text-gb18030"));
        let mut le = vec![0xFF, 0xFE];
        le.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(extract(Kind::Text, &le).text, s);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(s.as_bytes());
        assert_eq!(extract(Kind::Text, &bom).text, s);
    }

    #[test]
    fn garbage_never_panics() {
        let junk: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 256) as u8).collect();
        for kind in [Kind::Docx, Kind::Pptx, Kind::Xlsx, Kind::Xls, Kind::Pdf] {
            let e = extract(kind, &junk);
            assert!(e.text.is_empty());
            assert_eq!(e.flags.len(), 1, "{kind:?}");
            assert_eq!(e.flags[0].flag, Flag::ExtractFailed);
        }
        let mut pdfish = b"%PDF-1.4\n".to_vec();
        pdfish.extend_from_slice(&junk);
        assert_eq!(
            extract(Kind::Pdf, &pdfish).flags[0].flag,
            Flag::ExtractFailed
        );
    }
}
