//! Writers of real documents holding given text — docx, pptx, xlsx and PDF — for tests and
//! the corpus generator (样本生成).
//!
//! All output is deterministic: fixed timestamps and no random identifiers, so the same
//! input gives the same bytes (the corpus generator relies on this for exact duplicates).

use std::fmt::Write as _;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};

use crate::rawzip::{RawEntry, write_zip};

/// The fixed creation and modification time of every generated document.
const FIXED_W3CDTF: &str = "2024-01-01T00:00:00Z";

const CONTENT_TYPES_NS: &str = "http://schemas.openxmlformats.org/package/2006/content-types";
const PACKAGE_RELS_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const OFFICE_DOCUMENT_REL: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";
const CORE_PROPERTIES_REL: &str =
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties";
const DOC_RELS_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const DRAWING_NS: &str = "http://schemas.openxmlformats.org/drawingml/2006/main";
const PRESENTATION_NS: &str = "http://schemas.openxmlformats.org/presentationml/2006/main";
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// Text escaped for XML content and attribute values. Characters XML 1.0 forbids (most C0
/// controls) are dropped: they cannot be written at all.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn core_properties(title: &str) -> String {
    format!(
        "{XML_DECL}<cp:coreProperties \
         xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:dcterms=\"http://purl.org/dc/terms/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <dc:title>{}</dc:title><dc:creator>xcert</dc:creator>\
         <dcterms:created xsi:type=\"dcterms:W3CDTF\">{FIXED_W3CDTF}</dcterms:created>\
         <dcterms:modified xsi:type=\"dcterms:W3CDTF\">{FIXED_W3CDTF}</dcterms:modified>\
         </cp:coreProperties>",
        xml_escape(title)
    )
}

fn package_rels(main_part: &str) -> String {
    format!(
        "{XML_DECL}<Relationships xmlns=\"{PACKAGE_RELS_NS}\">\
         <Relationship Id=\"rId1\" Type=\"{OFFICE_DOCUMENT_REL}\" Target=\"{main_part}\"/>\
         <Relationship Id=\"rId2\" Type=\"{CORE_PROPERTIES_REL}\" Target=\"docProps/core.xml\"/>\
         </Relationships>"
    )
}

/// A zip of named parts, in the order given ([Content_Types].xml first, as Office writes it).
fn package(parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    let entries: Vec<RawEntry> = parts
        .iter()
        .map(|(name, data)| RawEntry::file(name, data))
        .collect();
    write_zip(&entries)
}

/// Runs of one line of text: tabs and line breaks become their WordprocessingML elements.
fn docx_runs(text: &str, run_props: &str) -> String {
    let mut out = String::new();
    out.push_str("<w:r>");
    out.push_str(run_props);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<w:br/>");
        }
        for (j, piece) in line.split('\t').enumerate() {
            if j > 0 {
                out.push_str("<w:tab/>");
            }
            if !piece.is_empty() {
                let _ = write!(
                    out,
                    "<w:t xml:space=\"preserve\">{}</w:t>",
                    xml_escape(piece)
                );
            }
        }
    }
    out.push_str("</w:r>");
    out
}

/// A Word document: the title as its first, bold paragraph (and as the core title
/// property), then one paragraph per entry of `paragraphs`.
pub fn docx(title: &str, paragraphs: &[String]) -> Vec<u8> {
    let content_types = format!(
        "{XML_DECL}<Types xmlns=\"{CONTENT_TYPES_NS}\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
         <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
         </Types>"
    );
    let mut body = String::new();
    body.push_str("<w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr>");
    body.push_str(&docx_runs(
        title,
        "<w:rPr><w:b/><w:sz w:val=\"36\"/><w:szCs w:val=\"36\"/></w:rPr>",
    ));
    body.push_str("</w:p>");
    for p in paragraphs {
        body.push_str("<w:p>");
        body.push_str(&docx_runs(p, ""));
        body.push_str("</w:p>");
    }
    let document = format!(
        "{XML_DECL}<w:document \
         xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" \
         xmlns:r=\"{DOC_RELS_NS}\"><w:body>{body}\
         <w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/>\
         <w:pgMar w:top=\"1440\" w:right=\"1800\" w:bottom=\"1440\" w:left=\"1800\" \
         w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/></w:sectPr>\
         </w:body></w:document>"
    );
    package(&[
        ("[Content_Types].xml".into(), content_types.into_bytes()),
        (
            "_rels/.rels".into(),
            package_rels("word/document.xml").into_bytes(),
        ),
        ("word/document.xml".into(), document.into_bytes()),
        (
            "docProps/core.xml".into(),
            core_properties(title).into_bytes(),
        ),
    ])
}

const THEME: &str = concat!(
    "<a:theme xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" name=\"xcert\">",
    "<a:themeElements><a:clrScheme name=\"xcert\">",
    "<a:dk1><a:srgbClr val=\"000000\"/></a:dk1><a:lt1><a:srgbClr val=\"FFFFFF\"/></a:lt1>",
    "<a:dk2><a:srgbClr val=\"1F497D\"/></a:dk2><a:lt2><a:srgbClr val=\"EEECE1\"/></a:lt2>",
    "<a:accent1><a:srgbClr val=\"4F81BD\"/></a:accent1><a:accent2><a:srgbClr val=\"C0504D\"/></a:accent2>",
    "<a:accent3><a:srgbClr val=\"9BBB59\"/></a:accent3><a:accent4><a:srgbClr val=\"8064A2\"/></a:accent4>",
    "<a:accent5><a:srgbClr val=\"4BACC6\"/></a:accent5><a:accent6><a:srgbClr val=\"F79646\"/></a:accent6>",
    "<a:hlink><a:srgbClr val=\"0000FF\"/></a:hlink><a:folHlink><a:srgbClr val=\"800080\"/></a:folHlink>",
    "</a:clrScheme><a:fontScheme name=\"xcert\">",
    "<a:majorFont><a:latin typeface=\"Arial\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/></a:majorFont>",
    "<a:minorFont><a:latin typeface=\"Arial\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/></a:minorFont>",
    "</a:fontScheme><a:fmtScheme name=\"xcert\"><a:fillStyleLst>",
    "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>",
    "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>",
    "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>",
    "</a:fillStyleLst><a:lnStyleLst>",
    "<a:ln w=\"9525\"><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill></a:ln>",
    "<a:ln w=\"25400\"><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill></a:ln>",
    "<a:ln w=\"38100\"><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill></a:ln>",
    "</a:lnStyleLst><a:effectStyleLst>",
    "<a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle>",
    "<a:effectStyle><a:effectLst/></a:effectStyle>",
    "</a:effectStyleLst><a:bgFillStyleLst>",
    "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>",
    "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>",
    "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>",
    "</a:bgFillStyleLst></a:fmtScheme></a:themeElements>",
    "<a:objectDefaults/><a:extraClrSchemeLst/></a:theme>"
);

const EMPTY_SHAPE_TREE: &str = "<p:spTree><p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/>\
     <p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/></p:spTree>";

fn rels(targets: &[(&str, String)]) -> String {
    let mut out = format!("{XML_DECL}<Relationships xmlns=\"{PACKAGE_RELS_NS}\">");
    for (i, (kind, target)) in targets.iter().enumerate() {
        let _ = write!(
            out,
            "<Relationship Id=\"rId{}\" Type=\"{DOC_RELS_NS}/{kind}\" Target=\"{target}\"/>",
            i + 1
        );
    }
    out.push_str("</Relationships>");
    out
}

fn slide_xml(lines: &[String]) -> String {
    let mut paras = String::new();
    for (i, line) in lines.iter().enumerate() {
        // The first line is the slide's heading: larger and bold.
        let props = if i == 0 {
            "<a:rPr lang=\"zh-CN\" sz=\"3200\" b=\"1\"/>"
        } else {
            "<a:rPr lang=\"zh-CN\" sz=\"2000\"/>"
        };
        let _ = write!(
            paras,
            "<a:p><a:r>{props}<a:t>{}</a:t></a:r></a:p>",
            xml_escape(line)
        );
    }
    if paras.is_empty() {
        paras.push_str("<a:p><a:endParaRPr lang=\"zh-CN\"/></a:p>");
    }
    format!(
        "{XML_DECL}<p:sld xmlns:a=\"{DRAWING_NS}\" xmlns:r=\"{DOC_RELS_NS}\" xmlns:p=\"{PRESENTATION_NS}\">\
         <p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>\
         <p:grpSpPr/><p:sp><p:nvSpPr><p:cNvPr id=\"2\" name=\"Text 1\"/><p:cNvSpPr txBox=\"1\"/><p:nvPr/></p:nvSpPr>\
         <p:spPr><a:xfrm><a:off x=\"457200\" y=\"457200\"/><a:ext cx=\"8229600\" cy=\"5943600\"/></a:xfrm>\
         <a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></p:spPr>\
         <p:txBody><a:bodyPr wrap=\"square\"><a:normAutofit/></a:bodyPr><a:lstStyle/>{paras}</p:txBody>\
         </p:sp></p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>"
    )
}

/// A PowerPoint presentation: one slide per entry of `slides`, each slide one text box with
/// one paragraph per line (the first line as the slide's heading). `title` is the core title
/// property. A minimal but complete package: master, layout and theme included.
pub fn pptx(title: &str, slides: &[Vec<String>]) -> Vec<u8> {
    let mut content_types = format!(
        "{XML_DECL}<Types xmlns=\"{CONTENT_TYPES_NS}\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/ppt/presentation.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml\"/>\
         <Override PartName=\"/ppt/slideMasters/slideMaster1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml\"/>\
         <Override PartName=\"/ppt/slideLayouts/slideLayout1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml\"/>\
         <Override PartName=\"/ppt/theme/theme1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.theme+xml\"/>\
         <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>"
    );
    for n in 1..=slides.len() {
        let _ = write!(
            content_types,
            "<Override PartName=\"/ppt/slides/slide{n}.xml\" \
             ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.slide+xml\"/>"
        );
    }
    content_types.push_str("</Types>");

    // Presentation relationships: rId1 master, rId2 theme, rId3.. the slides.
    let mut pres_targets = vec![
        ("slideMaster", "slideMasters/slideMaster1.xml".to_string()),
        ("theme", "theme/theme1.xml".to_string()),
    ];
    let mut slide_ids = String::new();
    for n in 1..=slides.len() {
        pres_targets.push(("slide", format!("slides/slide{n}.xml")));
        let _ = write!(
            slide_ids,
            "<p:sldId id=\"{}\" r:id=\"rId{}\"/>",
            255 + n,
            n + 2
        );
    }
    let slide_id_list = if slide_ids.is_empty() {
        String::new()
    } else {
        format!("<p:sldIdLst>{slide_ids}</p:sldIdLst>")
    };
    let presentation = format!(
        "{XML_DECL}<p:presentation xmlns:a=\"{DRAWING_NS}\" xmlns:r=\"{DOC_RELS_NS}\" xmlns:p=\"{PRESENTATION_NS}\">\
         <p:sldMasterIdLst><p:sldMasterId id=\"2147483648\" r:id=\"rId1\"/></p:sldMasterIdLst>\
         {slide_id_list}<p:sldSz cx=\"9144000\" cy=\"6858000\" type=\"screen4x3\"/>\
         <p:notesSz cx=\"6858000\" cy=\"9144000\"/></p:presentation>"
    );
    let master = format!(
        "{XML_DECL}<p:sldMaster xmlns:a=\"{DRAWING_NS}\" xmlns:r=\"{DOC_RELS_NS}\" xmlns:p=\"{PRESENTATION_NS}\">\
         <p:cSld>{EMPTY_SHAPE_TREE}</p:cSld>\
         <p:clrMap bg1=\"lt1\" tx1=\"dk1\" bg2=\"lt2\" tx2=\"dk2\" accent1=\"accent1\" accent2=\"accent2\" \
         accent3=\"accent3\" accent4=\"accent4\" accent5=\"accent5\" accent6=\"accent6\" hlink=\"hlink\" \
         folHlink=\"folHlink\"/>\
         <p:sldLayoutIdLst><p:sldLayoutId id=\"2147483649\" r:id=\"rId1\"/></p:sldLayoutIdLst>\
         </p:sldMaster>"
    );
    let layout = format!(
        "{XML_DECL}<p:sldLayout xmlns:a=\"{DRAWING_NS}\" xmlns:r=\"{DOC_RELS_NS}\" xmlns:p=\"{PRESENTATION_NS}\" \
         type=\"blank\" preserve=\"1\"><p:cSld name=\"Blank\">{EMPTY_SHAPE_TREE}</p:cSld>\
         <p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"
    );

    let mut parts: Vec<(String, Vec<u8>)> = vec![
        ("[Content_Types].xml".into(), content_types.into_bytes()),
        (
            "_rels/.rels".into(),
            package_rels("ppt/presentation.xml").into_bytes(),
        ),
        ("ppt/presentation.xml".into(), presentation.into_bytes()),
        (
            "ppt/_rels/presentation.xml.rels".into(),
            rels(&pres_targets).into_bytes(),
        ),
        (
            "ppt/slideMasters/slideMaster1.xml".into(),
            master.into_bytes(),
        ),
        (
            "ppt/slideMasters/_rels/slideMaster1.xml.rels".into(),
            rels(&[
                ("slideLayout", "../slideLayouts/slideLayout1.xml".into()),
                ("theme", "../theme/theme1.xml".into()),
            ])
            .into_bytes(),
        ),
        (
            "ppt/slideLayouts/slideLayout1.xml".into(),
            layout.into_bytes(),
        ),
        (
            "ppt/slideLayouts/_rels/slideLayout1.xml.rels".into(),
            rels(&[("slideMaster", "../slideMasters/slideMaster1.xml".into())]).into_bytes(),
        ),
        (
            "ppt/theme/theme1.xml".into(),
            format!("{XML_DECL}{THEME}").into_bytes(),
        ),
    ];
    for (i, lines) in slides.iter().enumerate() {
        let n = i + 1;
        parts.push((
            format!("ppt/slides/slide{n}.xml"),
            slide_xml(lines).into_bytes(),
        ));
        parts.push((
            format!("ppt/slides/_rels/slide{n}.xml.rels"),
            rels(&[("slideLayout", "../slideLayouts/slideLayout1.xml".into())]).into_bytes(),
        ));
    }
    parts.push((
        "docProps/core.xml".into(),
        core_properties(title).into_bytes(),
    ));
    package(&parts)
}

/// A worksheet name Excel accepts: forbidden characters replaced, at most 31 UTF-16 units,
/// no leading or trailing apostrophe, never blank.
fn sheet_name(name: &str) -> String {
    let mut out = String::new();
    let mut units = 0;
    for c in name.chars() {
        let c = if matches!(c, '*' | '?' | ':' | '[' | ']' | '\\' | '/') {
            '_'
        } else {
            c
        };
        if units + c.len_utf16() > 31 {
            break;
        }
        units += c.len_utf16();
        out.push(c);
    }
    let trimmed = out.trim_matches('\'').trim();
    if trimmed.is_empty() {
        "Sheet1".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Excel's cell limit is 32,767 characters.
const MAX_CELL_CHARS: usize = 32_767;
const MAX_ROWS: usize = 1_048_576;
const MAX_COLS: usize = 16_384;

/// An Excel workbook with one sheet named after `sheet` (made valid for Excel) holding
/// `rows` as text cells. Rows and columns beyond Excel's limits are left out.
pub fn xlsx(sheet: &str, rows: &[Vec<String>]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    if let Ok(when) = ExcelDateTime::from_ymd(2024, 1, 1) {
        let props = DocProperties::new()
            .set_title(sheet)
            .set_author("xcert")
            .set_creation_datetime(&when);
        workbook.set_properties(&props);
    }
    let worksheet = workbook.add_worksheet();
    // The name is made valid above; should Excel's rules change, the default name stays.
    let _ = worksheet.set_name(sheet_name(sheet));
    for (r, row) in rows.iter().take(MAX_ROWS).enumerate() {
        for (c, cell) in row.iter().take(MAX_COLS).enumerate() {
            let text: String = if cell.chars().count() > MAX_CELL_CHARS {
                cell.chars().take(MAX_CELL_CHARS).collect()
            } else {
                cell.clone()
            };
            // Row and column are within Excel's limits and the text is short enough,
            // the two reasons this can fail.
            let _ = worksheet.write_string(r as u32, c as u16, text);
        }
    }
    workbook
        .save_to_buffer()
        .expect("an in-memory workbook of valid cells saves")
}

/// Page geometry in points: A4, 2 cm margins, 12 pt type on 18 pt lines.
const PAGE_WIDTH: f64 = 595.0;
const PAGE_HEIGHT: f64 = 842.0;
const MARGIN: f64 = 56.0;
const FONT_SIZE: f64 = 12.0;
const LEADING: f64 = 18.0;

/// Advance width in thousandths of the font size: ASCII is half width, the rest full.
fn glyph_width(c: char) -> u32 {
    if (' '..='~').contains(&c) { 500 } else { 1000 }
}

/// The code a character is shown with: its BMP code point. Characters outside the BMP and
/// control characters cannot be shown by a two-byte Identity font and become '?'.
fn pdf_code(c: char) -> u16 {
    match u16::try_from(c as u32) {
        Ok(code) if !c.is_control() && !(0xD800..=0xDFFF).contains(&code) => code,
        _ => u16::from(b'?'),
    }
}

/// Lines broken to the page width, as lists of codes. An empty input line stays an empty
/// line.
fn wrap(lines: &[String]) -> Vec<Vec<u16>> {
    let max = ((PAGE_WIDTH - 2.0 * MARGIN) / FONT_SIZE * 1000.0) as u32;
    let mut out = Vec::new();
    for line in lines {
        for piece in line.split('\n') {
            let mut current = Vec::new();
            let mut width = 0;
            for c in piece.chars() {
                let c = if c == '\t' { ' ' } else { c };
                let w = glyph_width(c);
                if width + w > max && !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                    width = 0;
                }
                current.push(pdf_code(c));
                width += w;
            }
            out.push(current);
        }
    }
    out
}

/// The ToUnicode CMap: each code maps to itself as UTF-16BE (PDF 32000-1 §9.10.3), in
/// blocks of at most 100 entries as the CMap format requires.
fn to_unicode_cmap(codes: &std::collections::BTreeSet<u16>) -> String {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let codes: Vec<u16> = codes.iter().copied().collect();
    for block in codes.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", block.len());
        for code in block {
            let _ = writeln!(out, "<{code:04X}> <{code:04X}>");
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

/// A PDF 1.4 document showing `lines` in a Type0 font with Identity-H encoding whose CIDs
/// are the characters' Unicode code points, wrapped to the page width and flowing over as
/// many A4 pages as needed. With `to_unicode` the font carries a ToUnicode CMap and text
/// extracts as written; without it, extractors cannot map the codes back to characters
/// (how many real scanned-then-converted PDFs behave). The font is not embedded: the file
/// is for text extraction, not for viewing.
pub fn pdf(lines: &[String], to_unicode: bool) -> Vec<u8> {
    let wrapped = wrap(lines);
    let per_page = ((PAGE_HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    let pages: Vec<&[Vec<u16>]> = if wrapped.is_empty() {
        vec![&[]]
    } else {
        wrapped.chunks(per_page).collect()
    };

    // Object numbers: 1 catalog, 2 page tree, 3 Type0 font, 4 CID font, 5 descriptor,
    // 6 ToUnicode (always numbered, written only when wanted), then page/content pairs.
    let first_page = 7;
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", first_page + 2 * i))
        .collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    let to_unicode_ref = if to_unicode { " /ToUnicode 6 0 R" } else { "" };
    objects.push(
        format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /XcertSong /Encoding /Identity-H \
             /DescendantFonts [4 0 R]{to_unicode_ref} >>"
        )
        .into_bytes(),
    );
    let ascii_widths = vec!["500"; 95].join(" ");
    objects.push(
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /XcertSong \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor 5 0 R /DW 1000 /W [32 [{ascii_widths}]] /CIDToGIDMap /Identity >>"
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /FontDescriptor /FontName /XcertSong /Flags 4 /FontBBox [0 -200 1000 900] \
          /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>"
            .to_vec(),
    );
    let used: std::collections::BTreeSet<u16> = wrapped.iter().flatten().copied().collect();
    let cmap = to_unicode_cmap(&used);
    let mut stream = format!("<< /Length {} >>\nstream\n", cmap.len()).into_bytes();
    stream.extend_from_slice(cmap.as_bytes());
    stream.extend_from_slice(b"\nendstream");
    objects.push(stream);

    for (i, page_lines) in pages.iter().enumerate() {
        let content_id = first_page + 2 * i + 1;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
            )
            .into_bytes(),
        );
        let mut content = format!(
            "BT\n/F1 {FONT_SIZE} Tf\n{LEADING} TL\n{MARGIN} {} Td\n",
            PAGE_HEIGHT - MARGIN - FONT_SIZE
        );
        for (j, line) in page_lines.iter().enumerate() {
            if j > 0 {
                content.push_str("T*\n");
            }
            if !line.is_empty() {
                content.push('<');
                for code in line {
                    let _ = write!(content, "{code:04X}");
                }
                content.push_str("> Tj\n");
            }
        }
        content.push_str("ET\n");
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"endstream");
        objects.push(stream);
    }

    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets: Vec<Option<usize>> = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        let id = i + 1;
        if id == 6 && !to_unicode {
            offsets.push(None);
            continue;
        }
        offsets.push(Some(out.len()));
        out.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_at = out.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1);
    for offset in &offsets {
        match offset {
            Some(at) => {
                let _ = write!(xref, "{at:010} 00000 n\r\n");
            }
            // An unused object number is a free entry.
            None => xref.push_str("0000000000 00001 f\r\n"),
        }
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(xref.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn part(zip: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut s = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn same_input_same_bytes() {
        let paras = vec!["第一段".to_string(), "第二段 & <二>".to_string()];
        assert_eq!(docx("标题", &paras), docx("标题", &paras));
        let slides = vec![paras.clone()];
        assert_eq!(pptx("标题", &slides), pptx("标题", &slides));
        let rows = vec![paras.clone()];
        assert_eq!(xlsx("表", &rows), xlsx("表", &rows));
        assert_eq!(pdf(&paras, true), pdf(&paras, true));
    }

    #[test]
    fn docx_escapes_markup_and_keeps_the_title() {
        let d = docx("培训 <方案>", &["A & B".to_string(), "x\ty\nz".to_string()]);
        let doc = part(&d, "word/document.xml");
        assert!(doc.contains("培训 &lt;方案&gt;"));
        assert!(doc.contains("A &amp; B"));
        assert!(doc.contains(">x</w:t><w:tab/><w:t xml:space=\"preserve\">y</w:t><w:br/>"));
        let core = part(&d, "docProps/core.xml");
        assert!(core.contains("<dc:title>培训 &lt;方案&gt;</dc:title>"));
    }

    #[test]
    fn sheet_names_are_made_valid() {
        assert_eq!(sheet_name("a/b:c"), "a_b_c");
        assert_eq!(sheet_name(""), "Sheet1");
        assert_eq!(sheet_name("'x'"), "x");
        let long = "考".repeat(40);
        assert_eq!(sheet_name(&long).chars().count(), 31);
        assert!(rust_xlsxwriter::utility::check_sheet_name(&sheet_name("[x]*?")).is_ok());
    }

    #[test]
    fn pdf_xref_offsets_point_at_their_objects() {
        let lines: Vec<String> = (0..200).map(|i| format!("第{i}行 line {i}")).collect();
        for to_unicode in [true, false] {
            let p = pdf(&lines, to_unicode);
            let text = String::from_utf8_lossy(&p);
            let startxref: usize = text
                .rsplit("startxref\n")
                .next()
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(p[startxref..].starts_with(b"xref\n"));
            // The binary comment on line 2 makes `text` offsets differ from byte offsets.
            let table = std::str::from_utf8(&p[startxref..]).unwrap();
            let mut entries = table.lines().skip(2);
            entries.next(); // object 0
            let mut id = 1;
            for line in entries.take_while(|l| !l.starts_with("trailer")) {
                let (offset, rest) = line.split_once(' ').unwrap();
                if rest.ends_with('n') {
                    let at: usize = offset.parse().unwrap();
                    assert!(p[at..].starts_with(format!("{id} 0 obj").as_bytes()));
                } else {
                    assert_eq!(id, 6, "only the ToUnicode object may be free");
                    assert!(!to_unicode);
                }
                id += 1;
            }
            // (842 − 2·56) / 18 = 40.5: 40 lines a page, so 200 lines take 5 pages,
            // 6 fixed objects + 2 per page.
            assert_eq!(id - 1, 6 + 2 * 5);
            assert!(text.contains("/Count 5"));
        }
    }

    #[test]
    fn long_lines_wrap_at_the_text_width() {
        // 483 pt of text width at 12 pt: 40 full-width characters fit, the 41st wraps.
        let line = "字".repeat(41);
        let w = wrap(&[line]);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].len(), 40);
        assert_eq!(w[1].len(), 1);
        // Half-width ASCII: 80 fit.
        let w = wrap(&["a".repeat(81)]);
        assert_eq!(w[0].len(), 80);
    }
}
