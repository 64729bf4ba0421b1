//! Formats end to end: type and health detection, text extraction, and archives opened in
//! place (hostile ones refused). Golden values come from the fixtures other tools wrote
//! (tests/fixtures/make_fixtures.py: python-docx, python-pptx, openpyxl, xlwt, reportlab,
//! py7zr, msoffcrypto-tool), from the specifications' magic numbers, and from inputs the
//! tests write themselves.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::time::{Duration, Instant};

use xcert_ingest::archive::{Leaf, Limits, Outcome, Refusal, decode_name, open};
use xcert_ingest::detect::{HEAD_LEN, inspect};
use xcert_ingest::extract::extract;
use xcert_ingest::rawzip::{RawEntry, write_zip, zeros_zip};
use xcert_ingest::{Flag, Kind, docgen};

/// Counts the bytes each thread has allocated, so a test can tell how much memory a call
/// took at its peak (tests run in parallel threads; per-thread counts keep them apart).
struct CountingAllocator;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn account(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result with the most memory it held at once on this thread.
fn peak_memory<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, (peak - start).max(0) as usize)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn flags_of(flags: &[xcert_ingest::FlagNote]) -> Vec<Flag> {
    flags.iter().map(|f| f.flag).collect()
}

fn no_space(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

// Sentences written by make_fixtures.py.
const DOCX_TITLE: &str = "工业机器人应用编程职业技能等级标准";
const DOCX_SENTENCE: &str =
    "本标准规定了工业机器人应用编程职业技能等级对应的工作领域、工作任务及职业技能要求。";
const TEXT: &str =
    "培训指导方案\n第一章 总则\n第一条 为规范职业技能等级证书培训工作，制定本方案。\n";

// ---- detection --------------------------------------------------------------------------

#[test]
fn fixtures_from_other_tools_are_detected_by_content() {
    let cases = [
        ("sample.docx", Kind::Docx),
        ("sample.pptx", Kind::Pptx),
        ("sample.xlsx", Kind::Xlsx),
        ("sample.xls", Kind::Xls),
        ("sample.pdf", Kind::Pdf),
        ("utf8.txt", Kind::Text),
        ("utf8_bom.txt", Kind::Text),
        ("gbk.txt", Kind::Text),
        ("utf16le.txt", Kind::Text),
        ("chinese.7z", Kind::SevenZ),
    ];
    for (name, kind) in cases {
        let data = fixture(name);
        // The name carries no extension: content alone decides.
        let i = inspect("材料/无扩展名", &data, true);
        assert_eq!(i.kind, kind, "{name}");
        assert!(i.flags.is_empty(), "{name}: {:?}", i.flags);
        // With its own extension there is no mismatch either.
        let i = inspect(&format!("材料/{name}"), &data, true);
        assert_eq!((i.kind, i.flags.len()), (kind, 0), "{name}");
    }
}

#[test]
fn docgen_output_is_detected_and_healthy() {
    let paras: Vec<String> = (0..3).map(|i| format!("第{i}段")).collect();
    let cases = [
        (docgen::docx("标题", &paras), Kind::Docx),
        (
            docgen::pptx("标题", std::slice::from_ref(&paras)),
            Kind::Pptx,
        ),
        (docgen::xlsx("表", std::slice::from_ref(&paras)), Kind::Xlsx),
        (docgen::pdf(&paras, true), Kind::Pdf),
        (docgen::pdf(&paras, false), Kind::Pdf),
    ];
    for (data, kind) in cases {
        let i = inspect("x", &data, true);
        assert_eq!((i.kind, i.flags.len()), (kind, 0), "{:?}", i.flags);
    }
}

#[test]
fn heads_of_large_files_tell_the_kind() {
    // Paragraphs of varied text so the packages stay larger than a head once deflated.
    let paras: Vec<String> = (0..20_000u32)
        .map(|i| format!("第{i}段 {:x}", i.wrapping_mul(2_654_435_761)))
        .collect();
    let rows: Vec<Vec<String>> = paras.chunks(4).map(<[String]>::to_vec).collect();
    let cases = [
        (docgen::docx("标题", &paras), Kind::Docx),
        (docgen::pptx("标题", &rows), Kind::Pptx),
        (docgen::xlsx("表", &rows), Kind::Xlsx),
        (fixture("sample.xlsx"), Kind::Xlsx),
        (docgen::pdf(&paras, true), Kind::Pdf),
    ];
    for (data, kind) in cases {
        let head = &data[..data.len().min(HEAD_LEN)];
        let complete = head.len() == data.len();
        assert_eq!(inspect("x", head, complete).kind, kind);
    }
    // openpyxl writes [Content_Types].xml last and the workbook after the worksheets: a
    // 3000-byte head holds only docProps and the theme and one sheet.
    let xlsx = fixture("sample.xlsx");
    assert_eq!(inspect("x", &xlsx[..3000], false).kind, Kind::Xlsx);
    // A head of text may end inside a character.
    let gbk = encoding_rs::GBK.encode(&TEXT.repeat(3000)).0.into_owned();
    assert_eq!(inspect("x", &gbk[..HEAD_LEN - 1], false).kind, Kind::Text);
}

#[test]
fn a_users_zip_with_a_folder_named_word_is_a_zip() {
    let zip = write_zip(&[
        RawEntry::file("word/笔记.txt", "笔记".as_bytes()),
        RawEntry::file("ppt/课件说明.txt", "说明".as_bytes()),
    ]);
    assert_eq!(inspect("x.zip", &zip, true).kind, Kind::Zip);
    assert_eq!(inspect("x.zip", &zip, false).kind, Kind::Zip);
}

#[test]
fn extension_mismatch_names_both() {
    let docx = fixture("sample.docx");
    let i = inspect("申报/方案.pdf", &docx, true);
    assert_eq!(i.kind, Kind::Docx);
    assert_eq!(flags_of(&i.flags), vec![Flag::ExtensionMismatch]);
    assert_eq!(i.flags[0].detail, "extension .pdf, content docx");
    let i = inspect("方案.DOC", &docx, true);
    assert_eq!(i.flags[0].detail, "extension .doc, content docx");
    let pdf = fixture("sample.pdf");
    let i = inspect("报告.docx", &pdf, true);
    assert_eq!(i.flags[0].detail, "extension .docx, content pdf");
    // Text under text extensions, and unknown extensions, are no mismatch.
    for name in ["a.txt", "a.csv", "a.md", "a.unknownext", "no_extension"] {
        assert!(
            inspect(name, &fixture("gbk.txt"), true).flags.is_empty(),
            "{name}"
        );
    }
    assert!(inspect("x.bak", &docx, true).flags.is_empty());
}

#[test]
fn zero_bytes_are_empty() {
    let i = inspect("空.docx", &[], true);
    assert_eq!(i.kind, Kind::Empty);
    assert_eq!(flags_of(&i.flags), vec![Flag::Empty]);
}

#[test]
fn truncated_pdf_and_docx() {
    let lines: Vec<String> = (0..300).map(|i| format!("第{i}行")).collect();
    let pdf = docgen::pdf(&lines, true);
    let i = inspect("a.pdf", &pdf[..pdf.len() / 2], true);
    assert_eq!(i.kind, Kind::Pdf);
    assert_eq!(flags_of(&i.flags), vec![Flag::Truncated]);
    assert!(i.flags[0].detail.contains("%%EOF"));
    // Only the last line missing: still truncated.
    let i = inspect("a.pdf", &pdf[..pdf.len() - 6], true);
    assert_eq!(flags_of(&i.flags), vec![Flag::Truncated]);

    for data in [fixture("sample.docx"), docgen::docx("标题", &lines)] {
        let cut = &data[..data.len() * 2 / 3];
        let i = inspect("a.docx", cut, true);
        assert_eq!(i.kind, Kind::Docx);
        assert_eq!(flags_of(&i.flags), vec![Flag::Truncated]);
        // As a head of a larger file the same bytes are fine.
        assert!(inspect("a.docx", cut, false).flags.is_empty());
    }
}

#[test]
fn corrupt_documents() {
    // An OOXML package without its main part.
    let ct = r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;
    let zip = write_zip(&[
        RawEntry::file("[Content_Types].xml", ct.as_bytes()),
        RawEntry::file("_rels/.rels", b"<Relationships/>"),
        RawEntry::file("word/styles.xml", b"<w:styles/>"),
    ]);
    let i = inspect("a.docx", &zip, true);
    assert_eq!(i.kind, Kind::Docx);
    assert_eq!(flags_of(&i.flags), vec![Flag::Corrupt]);
    assert!(
        i.flags[0].detail.contains("word/document.xml"),
        "{}",
        i.flags[0].detail
    );

    // The main part's data damaged: the CRC check fails.
    let mut docx = docgen::docx("标题", &["正文".to_string()]);
    let at = find(&docx, b"word/document.xml").unwrap() + 17 + 20;
    docx[at] ^= 0xFF;
    let i = inspect("a.docx", &docx, true);
    assert_eq!(flags_of(&i.flags), vec![Flag::Corrupt], "{:?}", i.flags);

    // The central directory damaged while the end record is intact.
    let mut docx = docgen::docx("标题", &["正文".to_string()]);
    let cd = find(&docx, b"PK\x01\x02").unwrap();
    docx[cd..cd + 4].copy_from_slice(b"XXXX");
    let i = inspect("a.docx", &docx, true);
    assert_eq!(
        (i.kind, flags_of(&i.flags)),
        (Kind::Docx, vec![Flag::Corrupt])
    );

    // A PDF whose objects are garbage but whose tail looks right.
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend((0..3000u32).map(|i| (i * 131 % 256) as u8));
    pdf.extend_from_slice(b"\nstartxref\n999999\n%%EOF\n");
    let i = inspect("a.pdf", &pdf, true);
    assert_eq!(
        (i.kind, flags_of(&i.flags)),
        (Kind::Pdf, vec![Flag::Corrupt])
    );
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn encrypted_pdf_and_office_documents() {
    let i = inspect("加密.pdf", &fixture("encrypted.pdf"), true);
    assert_eq!(
        (i.kind, flags_of(&i.flags)),
        (Kind::Pdf, vec![Flag::Encrypted])
    );

    // msoffcrypto-tool's password-protected docx: an OLE2 file with an EncryptedPackage.
    let enc = fixture("encrypted.docx");
    let i = inspect("加密.docx", &enc, true);
    assert_eq!(
        (i.kind, flags_of(&i.flags)),
        (Kind::Docx, vec![Flag::Encrypted])
    );
    let i = inspect("加密.xlsx", &enc, true);
    assert_eq!(
        i.kind,
        Kind::Xlsx,
        "the extension stands in for the unreadable kind"
    );
    let i = inspect("加密", &enc, true);
    assert_eq!(
        (i.kind, flags_of(&i.flags)),
        (Kind::Unknown, vec![Flag::Encrypted])
    );
    // From a head too.
    let i = inspect("加密.docx", &enc[..HEAD_LEN.min(enc.len() - 1)], false);
    assert_eq!(
        (i.kind, flags_of(&i.flags)),
        (Kind::Docx, vec![Flag::Encrypted])
    );

    // A zip entry with the encryption bit.
    let zip = write_zip(&[
        RawEntry::file("公开.txt", b"open"),
        RawEntry {
            encrypted_flag: true,
            ..RawEntry::file("机密.txt", b"xxxx")
        },
    ]);
    let i = inspect("a.zip", &zip, true);
    assert_eq!(
        (i.kind, flags_of(&i.flags)),
        (Kind::Zip, vec![Flag::Encrypted])
    );
    assert!(i.flags[0].detail.contains("1 of 2"));
}

/// A compound file with the given streams, written by the `cfb` crate.
fn compound(streams: &[(&str, &[u8])]) -> Vec<u8> {
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    for (name, data) in streams {
        file.create_stream(name).unwrap().write_all(data).unwrap();
    }
    file.flush().unwrap();
    file.into_inner().into_inner()
}

#[test]
fn legacy_office_kinds_by_stream_names() {
    // MS-DOC FibBase: wIdent 0xA5EC; the flags word at 0x0A has fEncrypted as bit 8.
    let mut fib = vec![0u8; 512];
    fib[..2].copy_from_slice(&0xA5ECu16.to_le_bytes());
    let doc = compound(&[("WordDocument", &fib), ("1Table", &[0u8; 64])]);
    let i = inspect("a.doc", &doc, true);
    assert_eq!((i.kind, i.flags.len()), (Kind::Doc, 0));
    fib[0x0B] |= 0x01;
    let doc = compound(&[("WordDocument", &fib), ("1Table", &[0u8; 64])]);
    let i = inspect("a.doc", &doc, true);
    assert_eq!(
        (i.kind, flags_of(&i.flags)),
        (Kind::Doc, vec![Flag::Encrypted])
    );

    let ppt = compound(&[
        ("PowerPoint Document", &[0u8; 600]),
        ("Current User", &[0u8; 40]),
    ]);
    assert_eq!(inspect("a.ppt", &ppt, true).kind, Kind::Ppt);
    let ppt = compound(&[
        ("PowerPoint Document", &[0u8; 600]),
        ("EncryptedSummary", &[1u8; 40]),
    ]);
    assert_eq!(
        flags_of(&inspect("a.ppt", &ppt, true).flags),
        vec![Flag::Encrypted]
    );

    // MS-XLS: BOF (0x0809), then FILEPASS (0x002F) in the globals marks encryption.
    let mut globals = vec![0x09, 0x08, 0x04, 0x00, 0, 6, 5, 0];
    globals.extend_from_slice(&[0x2F, 0x00, 0x02, 0x00, 0, 0]);
    globals.extend_from_slice(&[0x0A, 0x00, 0x00, 0x00]);
    let xls = compound(&[("Workbook", &globals)]);
    let i = inspect("a.xls", &xls, true);
    assert_eq!(
        (i.kind, flags_of(&i.flags)),
        (Kind::Xls, vec![Flag::Encrypted])
    );
    // xlwt's workbook is not encrypted.
    assert!(
        inspect("a.xls", &fixture("sample.xls"), true)
            .flags
            .is_empty()
    );

    // A broken compound file: the magic without a valid header.
    let mut broken = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    broken.extend_from_slice(&[0xAB; 1000]);
    let i = inspect("a.doc", &broken, true);
    assert_eq!(
        flags_of(&i.flags),
        vec![Flag::Corrupt, Flag::ExtensionMismatch]
    );
}

#[test]
fn media_and_other_archives_by_magic_numbers() {
    // PNG: 8-byte signature then the IHDR chunk (RFC 2083).
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    png.extend_from_slice(&[
        0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE,
    ]);
    // JPEG: SOI then an APP0 JFIF segment.
    let jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
    // MP4: an ftyp box with major brand isom (ISO/IEC 14496-12).
    let mp4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2".to_vec();
    // MP3 with an ID3v2 tag.
    let mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x0aTIT2\x00\x00\x00\x01\x00\x00\x00".to_vec();
    // RAR 5 signature.
    let rar = b"Rar!\x1A\x07\x01\x00\x33\x92\xB5\xE5\x0A\x01\x05\x06\x00\x05\x01\x01".to_vec();
    for (data, kind) in [
        (png, Kind::Image),
        (jpeg, Kind::Image),
        (mp4, Kind::Video),
        (mp3, Kind::Audio),
        (rar, Kind::Rar),
    ] {
        assert_eq!(inspect("x", &data, true).kind, kind);
    }
    let binary: Vec<u8> = (0..2048u32).map(|i| (i * 7 % 256) as u8).collect();
    assert_eq!(inspect("x", &binary, true).kind, Kind::Unknown);
    let i = inspect("x.pdf", &binary, true);
    assert_eq!(i.flags[0].detail, "extension .pdf, content unknown");
}

// ---- extraction -------------------------------------------------------------------------

#[test]
fn chinese_text_from_each_fixture_kind() {
    let e = extract(Kind::Docx, &fixture("sample.docx"));
    assert!(e.flags.is_empty());
    assert!(e.text.starts_with(DOCX_TITLE), "{}", e.text);
    assert!(e.text.contains(DOCX_SENTENCE));
    assert!(
        e.text
            .contains("考核项目\t分值\n理论知识\t30\n实操技能\t70")
    );

    let e = extract(Kind::Pptx, &fixture("sample.pptx"));
    assert_eq!(
        e.text,
        "考核方案\n第一部分：考核内容与考核方式\n考核站点建设标准\n\
         每个考核站点应配备不少于二十个工位。\n备注：工位含计算机与实训设备。"
    );

    let e = extract(Kind::Xlsx, &fixture("sample.xlsx"));
    assert_eq!(e.text, "收费项目\t金额\n考核费\t300\n培训费\t1200");
    let e = extract(Kind::Xls, &fixture("sample.xls"));
    assert_eq!(
        e.text,
        "成本项目\t说明\n场地费\t考核成本核算方案中的场地租用费用"
    );

    // reportlab's STSong-Light uses the predefined UniGB-UCS2-H CMap.
    let e = extract(Kind::Pdf, &fixture("sample.pdf"));
    assert!(e.flags.is_empty(), "{:?}", e.flags);
    assert_eq!(
        e.extractor, "lopdf",
        "the primary extractor has no UniGB-UCS2-H support"
    );
    let t = no_space(&e.text);
    assert!(t.contains("必要性与可行性报告"), "{}", e.text);
    assert!(t.contains("一、建设职业技能等级证书制度的必要性"));
    assert!(t.contains("Feasibilityofthe1+Xcertificatepilot."));
}

#[test]
fn text_files_in_every_encoding() {
    for name in ["utf8.txt", "utf8_bom.txt", "gbk.txt", "utf16le.txt"] {
        let e = extract(Kind::Text, &fixture(name));
        assert_eq!(e.text, TEXT, "{name}");
        assert!(e.flags.is_empty());
    }
    assert_eq!(
        extract(Kind::Text, &fixture("gbk.txt")).extractor,
        "text-gb18030"
    );
}

#[test]
fn docgen_text_comes_back_exactly() {
    let paras = vec![
        "一、总则：为规范 1+X 证书培训，制定本方案。".to_string(),
        "二、A & B <c>".to_string(),
    ];
    let e = extract(Kind::Docx, &docgen::docx("培训指导方案", &paras));
    assert_eq!(e.text, format!("培训指导方案\n{}\n{}", paras[0], paras[1]));

    let slides = vec![
        vec!["考核方案".to_string(), "理论考试".to_string()],
        vec!["实操考核".to_string()],
    ];
    let e = extract(Kind::Pptx, &docgen::pptx("题", &slides));
    assert_eq!(e.text, "考核方案\n理论考试\n实操考核");

    let rows = vec![
        vec!["项目".to_string(), "金额".to_string()],
        vec!["考核费".to_string(), "300".to_string()],
    ];
    let e = extract(Kind::Xlsx, &docgen::xlsx("收费", &rows));
    assert_eq!(e.text, "项目\t金额\n考核费\t300");

    let lines: Vec<String> = (0..100)
        .map(|i| format!("第{i}行：考核站点建设标准 line {i}"))
        .collect();
    let e = extract(Kind::Pdf, &docgen::pdf(&lines, true));
    assert!(e.flags.is_empty(), "{:?}", e.flags);
    assert_eq!(e.extractor, "pdf-extract");
    assert_eq!(no_space(&e.text), no_space(&lines.concat()));
}

#[test]
fn pptx_slides_follow_the_presentation_order() {
    let slides = vec![vec!["第一张".to_string()], vec!["第二张".to_string()]];
    let pptx = docgen::pptx("题", &slides);
    // Swap the two slides in p:sldIdLst, as PowerPoint does when slides are reordered.
    let mut archive = zip::ZipArchive::new(Cursor::new(&pptx)).unwrap();
    let mut parts = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        let name = f.name().unwrap().to_string();
        if name == "ppt/presentation.xml" {
            let xml = String::from_utf8(data).unwrap();
            let swapped = xml
                .replace("r:id=\"rId3\"", "r:id=\"TMP\"")
                .replace("r:id=\"rId4\"", "r:id=\"rId3\"")
                .replace("r:id=\"TMP\"", "r:id=\"rId4\"");
            assert_ne!(xml, swapped);
            data = swapped.into_bytes();
        }
        parts.push((name, data));
    }
    let entries: Vec<RawEntry> = parts.iter().map(|(n, d)| RawEntry::file(n, d)).collect();
    let e = extract(Kind::Pptx, &write_zip(&entries));
    assert_eq!(e.text, "第二张\n第一张");
}

#[test]
fn pdf_without_to_unicode_is_flagged_poor() {
    let lines: Vec<String> = (0..50)
        .map(|i| format!("第{i}行：必要性与可行性报告"))
        .collect();
    let e = extract(Kind::Pdf, &docgen::pdf(&lines, false));
    assert_eq!(flags_of(&e.flags), vec![Flag::PoorText]);
    assert!(e.flags[0].detail.contains('%'), "{}", e.flags[0].detail);
    assert!(!e.text.contains("必要性"));
}

#[test]
fn a_pdf_with_pages_and_no_text_is_poor() {
    let e = extract(Kind::Pdf, &docgen::pdf(&[], true));
    assert_eq!(e.text, "");
    assert_eq!(flags_of(&e.flags), vec![Flag::PoorText]);
    assert_eq!(
        e.flags[0].detail,
        "no extractable text on 1 page (scanned images?)"
    );
}

#[test]
fn text_is_capped_at_two_megabytes() {
    let big = "培训指导方案。".repeat(200_000);
    assert!(big.len() > 4 << 20);
    let e = extract(Kind::Text, big.as_bytes());
    assert!(e.text.len() <= 2 << 20 && e.text.len() > (2 << 20) - 4);
    assert!(big.starts_with(&e.text));
    let paras: Vec<String> = (0..60_000)
        .map(|i| format!("第{i}段：考核大纲的内容要求。"))
        .collect();
    assert!(paras.iter().map(String::len).sum::<usize>() > 2 << 20);
    let e = extract(Kind::Docx, &docgen::docx("大", &paras));
    assert!(e.text.len() <= 2 << 20 && e.text.len() > (2 << 20) - 100);
}

#[test]
fn failures_are_flags() {
    let e = extract(Kind::Pdf, &fixture("encrypted.pdf"));
    assert_eq!(flags_of(&e.flags), vec![Flag::ExtractFailed]);
    assert!(e.flags[0].detail.contains("password"));
    let e = extract(Kind::Docx, &fixture("sample.pptx"));
    assert_eq!(flags_of(&e.flags), vec![Flag::ExtractFailed]);
    assert!(e.flags[0].detail.contains("word/document.xml"));
    // Empty text is not a failure.
    let e = extract(Kind::Docx, &docgen::docx("", &[]));
    assert_eq!((e.text.as_str(), e.flags.len()), ("", 0));
}

// ---- archives ---------------------------------------------------------------------------

#[test]
fn the_memory_meter_sees_allocations() {
    let (v, peak) = peak_memory(|| vec![1u8; 10 << 20]);
    assert_eq!(v.len(), 10 << 20);
    assert!((10 << 20..11 << 20).contains(&peak), "{peak}");
    let ((), peak) = peak_memory(|| drop(vec![1u8; 3 << 20]));
    assert!(peak >= 3 << 20);
}

/// Opens `data` as `kind`, collecting the leaves.
fn open_all(kind: Kind, data: &[u8], limits: &Limits) -> (Result<Outcome, Refusal>, Vec<Leaf>) {
    let mut leaves = Vec::new();
    let result = open(kind, Cursor::new(data), limits, &mut |leaf| {
        leaves.push(leaf)
    });
    (result, leaves)
}

fn paths(leaves: &[Leaf]) -> Vec<&str> {
    leaves.iter().map(|l| l.path.as_str()).collect()
}

fn stored<'a>(name: &'a str, data: &'a [u8]) -> RawEntry<'a> {
    RawEntry {
        deflate: false,
        ..RawEntry::file(name, data)
    }
}

#[test]
fn zip_slip_and_absolute_paths_refuse_the_whole_archive() {
    type MakeRefusal = fn(String) -> Refusal;
    let cases: [(&str, MakeRefusal); 6] = [
        ("../../evil.txt", Refusal::PathTraversal),
        ("a/../../x", Refusal::PathTraversal),
        ("资料\\..\\..\\x.txt", Refusal::PathTraversal),
        ("/etc/x", Refusal::AbsolutePath),
        ("C:\\x", Refusal::AbsolutePath),
        ("\\Windows\\evil.dll", Refusal::AbsolutePath),
    ];
    for (name, refusal) in cases {
        // A harmless entry comes first: the refusal must come before it is delivered.
        let zip = write_zip(&[
            RawEntry::file("ok.txt", b"fine"),
            RawEntry::file(name, b"x"),
        ]);
        let (result, leaves) = open_all(Kind::Zip, &zip, &Limits::default());
        assert_eq!(result, Err(refusal(name.to_string())), "{name}");
        assert!(leaves.is_empty(), "{name}");
    }
    // py7zr would not write such a name; the fixture was patched after it (see the script).
    let (result, leaves) = open_all(Kind::SevenZ, &fixture("slip.7z"), &Limits::default());
    assert_eq!(result, Err(Refusal::PathTraversal("../../evil.txt".into())));
    assert!(leaves.is_empty());
}

#[test]
fn symlink_entries_are_refused() {
    let zip = write_zip(&[
        RawEntry {
            unix_mode: Some(0o100644),
            ..RawEntry::file("资料/a.txt", b"a")
        },
        RawEntry {
            unix_mode: Some(0o120777),
            ..RawEntry::file("资料/link", b"/etc/passwd")
        },
    ]);
    let (result, leaves) = open_all(Kind::Zip, &zip, &Limits::default());
    assert_eq!(result, Err(Refusal::Symlink("资料/link".into())));
    assert!(leaves.is_empty());
    // A regular file with a Unix mode is fine.
    let zip = write_zip(&[RawEntry {
        unix_mode: Some(0o100644),
        ..RawEntry::file("a.txt", b"a")
    }]);
    assert!(open_all(Kind::Zip, &zip, &Limits::default()).0.is_ok());
    // py7zr stored a real symlink.
    let (result, _) = open_all(Kind::SevenZ, &fixture("symlink.7z"), &Limits::default());
    assert_eq!(result, Err(Refusal::Symlink("资料/链接.txt".into())));
}

/// The compressed size the `zip` crate reads for the first entry.
fn compressed_size(zip: &[u8]) -> u64 {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    archive.by_index_raw(0).unwrap().compressed_size()
}

#[test]
fn two_gib_of_zeros_is_refused_before_it_is_unpacked() {
    let bomb = zeros_zip("zeros.bin", 2 << 30);
    assert!(
        bomb.len() < 3 << 20,
        "the bomb itself is small: {}",
        bomb.len()
    );
    let t = Instant::now();
    let ((result, leaves), peak) = peak_memory(|| open_all(Kind::Zip, &bomb, &Limits::default()));
    assert_eq!(
        result,
        Err(Refusal::EntryTooLarge {
            name: "zeros.bin".into(),
            size: 2 << 30
        })
    );
    assert!(leaves.is_empty());
    assert!(peak < 16 << 20, "peak {peak} bytes");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // With room for one large entry, the ratio gives it away, still before unpacking.
    let roomy = Limits {
        max_entry_size: 4 << 30,
        ..Limits::default()
    };
    let ((result, _), peak) = peak_memory(|| open_all(Kind::Zip, &bomb, &roomy));
    let ratio = (2u64 << 30) / compressed_size(&bomb);
    assert!(ratio > 1000);
    assert_eq!(
        result,
        Err(Refusal::RatioTooHigh {
            name: "zeros.bin".into(),
            ratio
        })
    );
    assert!(peak < 16 << 20, "peak {peak} bytes");
}

/// Rewrites the uncompressed size of the only entry, in its local and central headers.
fn lie_about_size(zip: &mut [u8], size: u32) {
    zip[22..26].copy_from_slice(&size.to_le_bytes());
    let cd = zip.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    zip[cd + 24..cd + 28].copy_from_slice(&size.to_le_bytes());
}

#[test]
fn a_bomb_that_lies_about_its_size_is_caught_on_the_actual_bytes() {
    let mut bomb = zeros_zip("zeros.bin", 2 << 30);
    lie_about_size(&mut bomb, 1000);
    let compressed = compressed_size(&bomb);
    let ((result, leaves), peak) = peak_memory(|| open_all(Kind::Zip, &bomb, &Limits::default()));
    // The declared 1000 bytes pass the directory scan; the data then runs past 200:1 of
    // its 2 MB compressed size, and reading stops there.
    match result {
        Err(Refusal::RatioTooHigh { name, ratio }) => {
            assert_eq!(name, "zeros.bin");
            assert!(ratio > 200 && ratio < 210, "{ratio}");
        }
        other => panic!("{other:?}"),
    }
    assert!(compressed > 2_000_000, "{compressed}");
    assert!(leaves.is_empty());
    assert!(
        peak < 16 << 20,
        "nothing is kept while counting: peak {peak} bytes"
    );

    // A header that understates a harmless entry is only corrupt.
    let mut small = write_zip(&[RawEntry::file("说明.txt", "说明".repeat(100).as_bytes())]);
    lie_about_size(&mut small, 10);
    let (result, leaves) = open_all(Kind::Zip, &small, &Limits::default());
    assert!(result.is_ok());
    assert_eq!(leaves.len(), 1);
    assert_eq!(flags_of(&leaves[0].flags), vec![Flag::Corrupt]);
    assert_eq!(leaves[0].size, 600);
}

#[test]
fn compression_ratio_above_the_floor_is_refused() {
    let bomb = zeros_zip("培训视频.mp4", 64 << 20);
    let ratio = (64u64 << 20) / compressed_size(&bomb);
    let (result, _) = open_all(Kind::Zip, &bomb, &Limits::default());
    assert_eq!(
        result,
        Err(Refusal::RatioTooHigh {
            name: "培训视频.mp4".into(),
            ratio
        })
    );
    // Below the floor, zeros are just a file.
    let small = zeros_zip("zeros.bin", 512 << 10);
    let (result, leaves) = open_all(Kind::Zip, &small, &Limits::default());
    assert_eq!(result.unwrap().leaves, 1);
    assert_eq!(leaves[0].data.len(), 512 << 10);
    assert!(leaves[0].data.iter().all(|&b| b == 0));
}

#[test]
fn a_hundred_thousand_entries_are_refused_quickly() {
    let names: Vec<String> = (0..100_000).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<RawEntry> = names.iter().map(|n| stored(n, b"")).collect();
    let zip = write_zip(&entries);
    let t = Instant::now();
    let ((result, leaves), peak) = peak_memory(|| open_all(Kind::Zip, &zip, &Limits::default()));
    assert_eq!(result, Err(Refusal::TooManyEntries(100_000)));
    assert!(leaves.is_empty());
    // Refused from the end record, before the directory is parsed.
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    assert!(peak < 1 << 20, "peak {peak} bytes");
}

#[test]
fn total_size_is_bounded_across_entries() {
    let noise: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let zip = write_zip(&[
        RawEntry::file("a.bin", &noise),
        RawEntry::file("b.bin", &noise),
        RawEntry::file("c.bin", &noise),
    ]);
    let limits = Limits {
        max_total_size: 120_000,
        ..Limits::default()
    };
    let (result, leaves) = open_all(Kind::Zip, &zip, &limits);
    assert_eq!(result, Err(Refusal::TotalTooLarge(150_000)));
    assert!(leaves.is_empty());
}

#[test]
fn a_nested_bomb_is_skipped_and_its_siblings_delivered() {
    let bomb = zeros_zip("zeros.bin", 2 << 30);
    let docx = docgen::docx("培训方案", &["正文".to_string()]);
    let outer = write_zip(&[
        RawEntry::file("说明.txt", "说明".as_bytes()),
        stored("资料/inner.zip", &bomb),
        RawEntry::file("方案.docx", &docx),
    ]);
    let ((result, leaves), peak) = peak_memory(|| open_all(Kind::Zip, &outer, &Limits::default()));
    let outcome = result.unwrap();
    // The bomb is kept as a file (not opened), flagged with the reason.
    assert_eq!(
        paths(&leaves),
        vec!["说明.txt", "资料/inner.zip", "方案.docx"]
    );
    assert_eq!(leaves[1].data, bomb);
    assert!(!leaves[1].opened);
    assert_eq!(flags_of(&leaves[1].flags), vec![Flag::HostileArchive]);
    assert_eq!(
        leaves[2].data, docx,
        "a docx is a document, not an archive to open"
    );
    assert_eq!(outcome.leaves, 3);
    let refusal = Refusal::EntryTooLarge {
        name: "zeros.bin".into(),
        size: 2 << 30,
    };
    assert_eq!(
        leaves[1].flags[0].detail,
        format!("{refusal} / {}", refusal.zh())
    );
    assert_eq!(
        outcome.nested_refused,
        vec![("资料/inner.zip".to_string(), refusal)]
    );
    assert!(peak < 32 << 20, "peak {peak} bytes");
}

/// An archive of `levels` zips, one inside the next, with deep.txt in the innermost.
fn nested_zips(levels: usize) -> Vec<u8> {
    let mut data = write_zip(&[RawEntry::file("deep.txt", b"deep")]);
    for level in (2..=levels).rev() {
        data = write_zip(&[
            RawEntry::file(&format!("level{level}.txt"), b"x"),
            RawEntry::file(&format!("l{level}.zip"), &data),
        ]);
    }
    data
}

#[test]
fn nesting_deeper_than_the_limit_is_kept_as_a_file() {
    // Outer (level 1) > l2.zip > l3.zip > l4.zip > deep.txt.
    let zip = nested_zips(4);
    let (result, leaves) = open_all(Kind::Zip, &zip, &Limits::default());
    let outcome = result.unwrap();
    // Opened archives follow their entries as containers.
    assert_eq!(
        paths(&leaves),
        vec![
            "level2.txt",
            "l2.zip/level3.txt",
            "l2.zip/l3.zip/level4.txt",
            "l2.zip/l3.zip/l4.zip",
            "l2.zip/l3.zip",
            "l2.zip",
        ]
    );
    let opened: Vec<bool> = leaves.iter().map(|l| l.opened).collect();
    assert_eq!(opened, vec![false, false, false, false, true, true]);
    assert_eq!(outcome.leaves, 4, "containers are not counted");
    assert_eq!(flags_of(&leaves[3].flags), vec![Flag::TooDeep]);
    assert_eq!(inspect("x", &leaves[3].data, true).kind, Kind::Zip);
    assert_eq!(leaves[5].data, zip_entry(&zip, "l2.zip"));
    assert_eq!(flags_of(&outcome.flags), vec![Flag::TooDeep]);
    assert!(outcome.flags[0].detail.starts_with("l2.zip/l3.zip/l4.zip"));

    let deeper = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    let (result, leaves) = open_all(Kind::Zip, &zip, &deeper);
    assert!(result.unwrap().flags.is_empty());
    let deep = leaves
        .iter()
        .find(|l| l.path.ends_with("deep.txt"))
        .unwrap();
    assert_eq!(deep.path, "l2.zip/l3.zip/l4.zip/deep.txt");
    assert_eq!(deep.data, b"deep");
}

/// One entry's bytes as the `zip` crate reads them.
fn zip_entry(zip: &[u8], name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    let mut out = Vec::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn encrypted_entries_are_flagged_and_left_unread() {
    let zip = write_zip(&[
        RawEntry::file("公开.txt", "公开".as_bytes()),
        RawEntry {
            encrypted_flag: true,
            ..RawEntry::file("机密.docx", b"ciphertext")
        },
    ]);
    let (result, leaves) = open_all(Kind::Zip, &zip, &Limits::default());
    assert_eq!(result.unwrap().leaves, 2);
    assert_eq!(leaves[0].data, "公开".as_bytes());
    assert_eq!(leaves[1].path, "机密.docx");
    assert!(leaves[1].data.is_empty());
    assert_eq!(leaves[1].size, 10);
    assert_eq!(flags_of(&leaves[1].flags), vec![Flag::Encrypted]);

    // py7zr with a password: the content is AES-encrypted, the names are not.
    let (result, leaves) = open_all(
        Kind::SevenZ,
        &fixture("encrypted_data.7z"),
        &Limits::default(),
    );
    assert!(result.is_ok());
    assert_eq!(paths(&leaves), vec!["机密.txt"]);
    assert_eq!(flags_of(&leaves[0].flags), vec![Flag::Encrypted]);
    assert!(leaves[0].data.is_empty());
    assert_eq!(leaves[0].size, "机密内容".len() as u64);
    // With the names encrypted too, nothing can be listed.
    let (result, leaves) = open_all(
        Kind::SevenZ,
        &fixture("encrypted_names.7z"),
        &Limits::default(),
    );
    let outcome = result.unwrap();
    assert!(leaves.is_empty());
    assert_eq!(flags_of(&outcome.flags), vec![Flag::Encrypted]);
}

#[test]
fn gbk_names_without_the_utf8_flag_and_utf8_names_with_it() {
    let names = ["培训方案/考核大纲.docx", "学习.docx", "资料/说明.txt"];
    let encoded: Vec<Vec<u8>> = names
        .iter()
        .map(|n| encoding_rs::GBK.encode(n).0.into_owned())
        .collect();
    let entries: Vec<RawEntry> = encoded
        .iter()
        .map(|raw| RawEntry {
            name: raw,
            utf8_flag: false,
            ..RawEntry::file("", b"x")
        })
        .collect();
    let (result, leaves) = open_all(Kind::Zip, &write_zip(&entries), &Limits::default());
    assert!(result.is_ok());
    assert_eq!(paths(&leaves), names);

    let entries: Vec<RawEntry> = names.iter().map(|n| RawEntry::file(n, b"x")).collect();
    let (_, leaves) = open_all(Kind::Zip, &write_zip(&entries), &Limits::default());
    assert_eq!(paths(&leaves), names);
    // The zip crate alone would read the GBK bytes as CP437.
    assert_ne!(
        decode_name(&encoded[0], false),
        String::from_utf8_lossy(&encoded[0])
    );
}

#[test]
fn seven_zip_with_chinese_names() {
    let (result, leaves) = open_all(Kind::SevenZ, &fixture("chinese.7z"), &Limits::default());
    assert_eq!(result.unwrap().leaves, 2);
    let by_path: BTreeMap<&str, &Leaf> = leaves.iter().map(|l| (l.path.as_str(), l)).collect();
    assert_eq!(
        by_path["培训方案/考核大纲.docx"].data,
        fixture("sample.docx")
    );
    assert_eq!(by_path["资料/说明.txt"].data, TEXT.as_bytes());
    assert_eq!(by_path["资料/说明.txt"].size, TEXT.len() as u64);

    // The same 7z inside a zip.
    let outer = write_zip(&[stored("上报/内层.7z", &fixture("chinese.7z"))]);
    let (result, leaves) = open_all(Kind::Zip, &outer, &Limits::default());
    assert_eq!(result.unwrap().leaves, 2);
    let mut p = paths(&leaves);
    p.sort();
    assert_eq!(
        p,
        vec![
            "上报/内层.7z",
            "上报/内层.7z/培训方案/考核大纲.docx",
            "上报/内层.7z/资料/说明.txt"
        ]
    );
    let container = leaves.iter().find(|l| l.opened).unwrap();
    assert_eq!(container.data, fixture("chinese.7z"));
}

#[test]
fn inner_rar_and_damaged_inner_zip_stay_files() {
    let rar = b"Rar!\x1A\x07\x01\x00\x33\x92\xB5\xE5\x0A\x01\x05\x06\x00\x05\x01\x01".to_vec();
    let mut broken = b"PK\x03\x04".to_vec();
    broken.extend_from_slice(&[7u8; 200]);
    let zip = write_zip(&[
        RawEntry::file("资料/", b""),
        RawEntry::file("资料/旧.rar", &rar),
        RawEntry::file("资料/坏.zip", &broken),
    ]);
    let (result, leaves) = open_all(Kind::Zip, &zip, &Limits::default());
    let outcome = result.unwrap();
    assert_eq!(
        paths(&leaves),
        vec!["资料/旧.rar", "资料/坏.zip"],
        "directories are skipped"
    );
    assert_eq!(flags_of(&leaves[0].flags), vec![Flag::UnsupportedArchive]);
    assert_eq!(leaves[0].data, rar);
    assert_eq!(flags_of(&leaves[1].flags), vec![Flag::Corrupt]);
    assert!(outcome.nested_refused.is_empty());
    assert_eq!(flags_of(&outcome.flags), vec![Flag::UnsupportedArchive]);

    // A RAR at the top is not opened either.
    let (result, leaves) = open_all(Kind::Rar, &rar, &Limits::default());
    assert_eq!(
        flags_of(&result.unwrap().flags),
        vec![Flag::UnsupportedArchive]
    );
    assert!(leaves.is_empty());
}

#[test]
fn damaged_archives_and_entries() {
    // Cut short: no end record.
    let zip = write_zip(&[
        RawEntry::file("a.txt", b"aaaa"),
        RawEntry::file("b.txt", b"bbbb"),
    ]);
    let (result, _) = open_all(Kind::Zip, &zip[..zip.len() - 30], &Limits::default());
    assert!(matches!(result, Err(Refusal::Corrupt(_))), "{result:?}");
    // One entry's stored data damaged: its CRC fails, the others are fine.
    let mut zip = write_zip(&[stored("a.txt", b"aaaa"), stored("b.txt", b"bbbb")]);
    let at = find(&zip, b"bbbb").unwrap();
    zip[at] = b'X';
    let (result, leaves) = open_all(Kind::Zip, &zip, &Limits::default());
    assert!(result.is_ok());
    assert_eq!(leaves[0].data, b"aaaa");
    assert_eq!(flags_of(&leaves[1].flags), vec![Flag::Corrupt]);
    assert!(leaves[1].data.is_empty());
}
