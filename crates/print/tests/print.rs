//! End-to-end checks on the rendered PDFs: the text extracts (pdf-extract), the QR code decodes
//! (page rasterized with hayro, decoded with rqrr), and the zip holds one valid PDF per number.
//!
//! Set `XCERT_PRINT_DUMP=dir` to also write the PDFs and page PNGs there for a look.

use std::io::{Cursor, Read};
use std::sync::Arc;

use chrono::NaiveDate;
use xcert_print::{CertificatePrint, PrintError, covers, render_pdf, render_zip};

fn cert(number: &str, holder: &str) -> CertificatePrint {
    CertificatePrint {
        number: number.to_string(),
        holder_name: holder.to_string(),
        id_masked: "1101**********002X".to_string(),
        certificate_name: "电力需求响应综合服务".to_string(),
        certificate_name_en: Some("Power Demand Response Integrated Services".to_string()),
        level_name: "中级".to_string(),
        level_name_en: Some("Intermediate".to_string()),
        teo_name: "国网能源研究院有限公司".to_string(),
        college_name: Some("北京电力职业技术学院".to_string()),
        issued_on: NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(),
        verify_url: format!("https://verify.xcert.example/c/{number}?k=Qm9vdHN0cmFw"),
        status_note: None,
    }
}

/// 刘䶮: 䶮 (U+4DAE) is CJK Extension A, drawn from the HanaMinA fallback; 龑 (U+9F91) is a
/// rare Unified Ideograph in Micro Hei itself.
const RARE: &str = "刘䶮龑";

fn dump(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("XCERT_PRINT_DUMP") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

/// Text of each page, with the whitespace pdf-extract puts between positioned runs removed.
fn page_texts(pdf: &[u8]) -> Vec<String> {
    pdf_extract::extract_text_from_mem_by_pages(pdf)
        .expect("pdf-extract reads the PDF")
        .into_iter()
        .map(|t| t.chars().filter(|c| !c.is_whitespace()).collect())
        .collect()
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Rasterizes every page (≈ 216 dpi) and decodes the QR codes found on each.
fn page_qr_codes(pdf: &[u8], dump_as: &str) -> Vec<Vec<String>> {
    use hayro::hayro_interpret::InterpreterSettings;
    use hayro::hayro_syntax::Pdf;
    use hayro::{PixmapSettings, RenderCache, RenderSettings};

    let doc = Pdf::new(Arc::new(pdf.to_vec())).expect("hayro parses the PDF");
    let cache = RenderCache::new();
    let settings = InterpreterSettings::default();
    let render_settings = RenderSettings::default();
    let pixmap_settings = PixmapSettings {
        x_scale: 3.0,
        y_scale: 3.0,
        ..PixmapSettings::default()
    };
    let mut out = Vec::new();
    for (i, page) in doc.pages().iter().enumerate() {
        let pixmap = hayro::render(page, &cache, &settings, &render_settings, &pixmap_settings);
        let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
        let px = pixmap.data();
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            let p = px[y * w + x];
            // Premultiplied over a white background.
            let a = p.a as u32;
            let lum = (p.r as u32 * 299 + p.g as u32 * 587 + p.b as u32 * 114) / 1000;
            (lum + (255 - a)).min(255) as u8
        });
        let codes = img
            .detect_grids()
            .iter()
            .filter_map(|g| g.decode().ok().map(|(_, s)| s))
            .collect();
        out.push(codes);
        if std::env::var("XCERT_PRINT_DUMP").is_ok() {
            dump(
                &format!("{dump_as}-{}.png", i + 1),
                &pixmap.into_png().unwrap(),
            );
        }
    }
    out
}

#[test]
fn text_extracts_for_common_and_rare_names() {
    assert!(covers("张三丰").is_empty());
    assert!(covers(RARE).is_empty(), "{:?}", covers(RARE));
    // Extension B is not bundled: 𠈌 (U+2020C) must be reported, once, in order.
    assert_eq!(covers("王𠈌𠈌 䶮 A"), vec!['𠈌']);

    let certs = [
        cert("202630000000123X", "张三丰"),
        cert("2026300000001240", RARE),
    ];
    let pdf = render_pdf(&certs).unwrap();
    dump("two.pdf", &pdf);
    assert!(pdf.starts_with(b"%PDF"));
    let pages = page_texts(&pdf);
    assert_eq!(pages.len(), 2, "one page per certificate");
    for (page, c) in pages.iter().zip(&certs) {
        for needle in [
            c.holder_name.as_str(),
            &c.number,
            &c.certificate_name,
            &c.level_name,
            "Intermediate",
            "职业技能等级证书",
            "1101**********002X",
            "2026年3月5日",
            "国网能源研究院有限公司",
            "北京电力职业技术学院",
        ] {
            assert!(
                page.contains(&squash(needle)),
                "{needle:?} not in page text {page:?}"
            );
        }
    }
    assert!(!pages[0].contains(RARE) && !pages[1].contains("张三丰"));
}

#[test]
fn qr_code_decodes_to_verify_url() {
    let mut revoked = cert("2026300000009999", "张三丰");
    revoked.status_note = Some("已撤销 Revoked".to_string());
    let certs = [cert("202630000000123X", RARE), revoked];
    let pdf = render_pdf(&certs).unwrap();
    let codes = page_qr_codes(&pdf, "qr");
    assert_eq!(codes.len(), 2);
    for (found, c) in codes.iter().zip(&certs) {
        assert_eq!(found, &vec![c.verify_url.clone()], "page of {}", c.number);
    }
    // The status note is printed (banner and watermark), as text.
    let pages = page_texts(&pdf);
    assert!(pages[1].contains("已撤销Revoked"), "{:?}", pages[1]);
    assert!(!pages[0].contains("已撤销"));
}

#[test]
fn zip_has_one_valid_pdf_per_number() {
    let certs: Vec<_> = ["202630000000001X", "2026300000000020", "2026300000000030"]
        .iter()
        .zip(["张三丰", RARE, "欧阳娜娜"])
        .map(|(n, h)| cert(n, h))
        .collect();
    let mut buf = Cursor::new(Vec::new());
    render_zip(&certs, &mut buf).unwrap();
    let bytes = buf.into_inner();
    dump("three.zip", &bytes);
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    assert_eq!(zip.len(), 3);
    for (i, c) in certs.iter().enumerate() {
        let mut f = zip.by_index(i).unwrap();
        assert_eq!(f.name().unwrap(), format!("{}.pdf", c.number));
        let mut pdf = Vec::new();
        f.read_to_end(&mut pdf).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{} is a PDF", f.name().unwrap());
        let pages = page_texts(&pdf);
        assert_eq!(pages.len(), 1);
        assert!(pages[0].contains(&c.number) && pages[0].contains(&c.holder_name));
    }
}

#[test]
fn zip_in_parallel_keeps_order_and_names() {
    let certs: Vec<_> = (0..40)
        .map(|i| cert(&format!("20263000000{i:05}"), "张三丰"))
        .collect();
    let mut buf = Cursor::new(Vec::new());
    render_zip(&certs, &mut buf).unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(buf.into_inner())).unwrap();
    assert_eq!(zip.len(), 40);
    for (i, c) in certs.iter().enumerate() {
        let mut f = zip.by_index(i).unwrap();
        assert_eq!(f.name().unwrap(), format!("{}.pdf", c.number));
        let mut pdf = Vec::new();
        f.read_to_end(&mut pdf).unwrap();
        assert!(page_texts(&pdf)[0].contains(&c.number));
    }
}

#[test]
fn long_values_wrap_and_still_extract() {
    let mut c = cert("202630000000777X", "阿卜杜热合曼·买买提依明·艾力");
    c.certificate_name = "工业互联网设备数据采集与边缘计算应用开发及系统集成运维综合服务".into();
    c.certificate_name_en = Some(
        "Industrial Internet Equipment Data Acquisition, Edge Computing Application Development and System Integration".into(),
    );
    c.teo_name = "某某某某某某某某某某某某某某某某某某某某某某职业技能培训评价有限责任公司".into();
    c.college_name = None;
    c.verify_url = format!(
        "https://verify.xcert.example/c/{}?{}",
        c.number,
        "x".repeat(150)
    );
    let pdf = render_pdf(std::slice::from_ref(&c)).unwrap();
    dump("long.pdf", &pdf);
    let page = &page_texts(&pdf)[0];
    for needle in [&c.holder_name, &c.certificate_name, &c.teo_name] {
        assert!(page.contains(&squash(needle)), "{needle:?} in {page:?}");
    }
    assert!(
        !page.contains("培训院校"),
        "no college row without a college"
    );
    assert_eq!(
        page_qr_codes(&pdf, "long"),
        vec![vec![c.verify_url.clone()]]
    );
}

#[test]
fn errors_say_what_is_wrong() {
    assert!(matches!(render_pdf(&[]), Err(PrintError::NoCertificates)));

    let mut bad = cert("2026300000000010", "张三");
    bad.verify_url = "x".repeat(5000);
    let err = render_pdf(&[bad]).unwrap_err();
    assert!(matches!(err, PrintError::QrCode { .. }), "{err}");
    assert!(err.to_string().contains("2026300000000010"));

    let mut empty_url = cert("2026300000000011", "张三");
    empty_url.verify_url = " ".into();
    assert!(matches!(
        render_pdf(&[empty_url]),
        Err(PrintError::EmptyVerifyUrl { .. })
    ));

    let twice = [
        cert("2026300000000012", "张三"),
        cert("2026300000000012", "李四"),
    ];
    let err = render_zip(&twice, Cursor::new(Vec::new())).unwrap_err();
    assert!(matches!(err, PrintError::DuplicateNumber { .. }), "{err}");

    for number in ["", "../etc/passwd", "a/b", "a\\b"] {
        let err = render_zip(&[cert(number, "张三")], Cursor::new(Vec::new())).unwrap_err();
        assert!(
            matches!(err, PrintError::InvalidNumber { .. }),
            "{number:?}: {err}"
        );
    }

    // An empty batch is an empty (valid) zip.
    let mut buf = Cursor::new(Vec::new());
    render_zip(&[], &mut buf).unwrap();
    assert_eq!(zip::ZipArchive::new(buf).unwrap().len(), 0);
}

#[test]
fn uncovered_characters_still_render_and_extract() {
    // Callers are meant to warn first; printing anyway gives a .notdef box, not an error.
    let pdf = render_pdf(&[cert("2026300000000013", "王𠈌")]).unwrap();
    let page = &page_texts(&pdf)[0];
    eprintln!("extracted: {page}");
    assert!(page.contains("王") && page.contains("2026300000000013"));
}
