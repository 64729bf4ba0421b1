//! The certificate page: A4 portrait, coordinates in points from the top left (krilla's).

use chrono::Datelike;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Rect, Transform};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::{Document, metadata::Metadata};
use qrcode::{Color, EcLevel, QrCode};

use crate::font::{draw_line, measure, wrap};
use crate::{CertificatePrint, PrintError};

type Rgb = (u8, u8, u8);

fn color((r, g, b): Rgb) -> rgb::Color {
    rgb::Color::new(r, g, b)
}

const PT_PER_MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * PT_PER_MM;
const PAGE_H: f32 = 297.0 * PT_PER_MM;

fn mm(v: f32) -> f32 {
    v * PT_PER_MM
}

const INK: Rgb = (25, 25, 25);
const GREY: Rgb = (95, 95, 95);
const ACCENT: Rgb = (150, 22, 30);
const GOLD: Rgb = (176, 141, 60);
const WHITE: Rgb = (255, 255, 255);

/// Module size bounds for the QR code: the symbol (without quiet zone) is at least 28 mm.
const QR_MIN_MM: f32 = 28.0;
const QR_QUIET_MODULES: f32 = 4.0;

/// Renders `certs` (not empty) as one PDF, one page each.
pub(crate) fn document(certs: &[CertificatePrint]) -> Result<Vec<u8>, PrintError> {
    // Encode every QR code first: a bad URL fails before any page is made.
    let qrs = certs.iter().map(qr).collect::<Result<Vec<_>, _>>()?;
    let mut doc = Document::new();
    let title = if certs.len() == 1 {
        format!("职业技能等级证书 {}", certs[0].number)
    } else {
        format!("职业技能等级证书（{} 份）", certs.len())
    };
    doc.set_metadata(Metadata::new().title(title).creator("xcert".to_string()));
    for (cert, code) in certs.iter().zip(&qrs) {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4 is a valid size");
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        draw_page(&mut surface, cert, code);
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PrintError::Pdf(e.to_string()))
}

fn qr(c: &CertificatePrint) -> Result<QrCode, PrintError> {
    if c.verify_url.trim().is_empty() {
        return Err(PrintError::EmptyVerifyUrl {
            number: c.number.clone(),
        });
    }
    QrCode::with_error_correction_level(c.verify_url.as_bytes(), EcLevel::M).map_err(|e| {
        PrintError::QrCode {
            number: c.number.clone(),
            reason: e.to_string(),
        }
    })
}

fn fill(surface: &mut Surface<'_>, rgb: Rgb) {
    surface.set_stroke(None);
    surface.set_fill(Some(Fill {
        paint: color(rgb).into(),
        ..Fill::default()
    }));
}

fn stroke_rect(surface: &mut Surface<'_>, rect: Rect, rgb: Rgb, width: f32) {
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: color(rgb).into(),
        width,
        ..Stroke::default()
    }));
    let mut pb = PathBuilder::new();
    pb.push_rect(rect);
    if let Some(path) = pb.finish() {
        surface.draw_path(&path);
    }
    surface.set_stroke(None);
}

fn fill_rect(surface: &mut Surface<'_>, rect: Rect, rgb: Rgb) {
    fill(surface, rgb);
    let mut pb = PathBuilder::new();
    pb.push_rect(rect);
    if let Some(path) = pb.finish() {
        surface.draw_path(&path);
    }
}

fn rect(x: f32, y: f32, w: f32, h: f32) -> Rect {
    Rect::from_xywh(x, y, w, h).expect("positive size")
}

/// One centred line, shrunk (down to `min_size`) to fit `max_w`, then wrapped; returns the
/// baseline of the last line.
fn centered(
    s: &mut Surface<'_>,
    text: &str,
    y: f32,
    size: f32,
    min_size: f32,
    spacing: f32,
    max_w: f32,
) -> f32 {
    let mut size = size;
    let mut spacing = spacing;
    while size > min_size && measure(text, size, spacing) > max_w {
        size -= 0.5;
        spacing *= 0.8;
    }
    let lines = if measure(text, size, spacing) > max_w {
        wrap(text, size, max_w)
    } else {
        vec![text.to_string()]
    };
    let mut baseline = y;
    for (i, line) in lines.iter().enumerate() {
        baseline = y + i as f32 * size * 1.3;
        let w = measure(line, size, spacing);
        draw_line(s, (PAGE_W - w) / 2.0, baseline, line, size, spacing);
    }
    baseline
}

/// A wrapped paragraph at `x`; returns the baseline of its last line.
fn paragraph(s: &mut Surface<'_>, text: &str, x: f32, y: f32, size: f32, max_w: f32) -> f32 {
    let mut baseline = y;
    for (i, line) in wrap(text, size, max_w).iter().enumerate() {
        baseline = y + i as f32 * size * 1.3;
        draw_line(s, x, baseline, line, size, 0.0);
    }
    baseline
}

fn draw_page(s: &mut Surface<'_>, c: &CertificatePrint, code: &QrCode) {
    // Border: a gold outer frame and a thin red inner line.
    stroke_rect(
        s,
        rect(mm(10.0), mm(10.0), PAGE_W - mm(20.0), PAGE_H - mm(20.0)),
        GOLD,
        3.0,
    );
    stroke_rect(
        s,
        rect(mm(13.5), mm(13.5), PAGE_W - mm(27.0), PAGE_H - mm(27.0)),
        ACCENT,
        0.8,
    );

    let content_w = PAGE_W - mm(50.0);
    if let Some(note) = c.status_note.as_deref().filter(|n| !n.trim().is_empty()) {
        banner(s, note);
    }

    // Title.
    fill(s, ACCENT);
    centered(s, "职业技能等级证书", mm(50.0), 32.0, 32.0, 6.0, content_w);
    fill(s, GREY);
    centered(
        s,
        "Vocational Skill Level Certificate",
        mm(60.0),
        13.0,
        13.0,
        1.0,
        content_w,
    );
    fill_rect(s, rect(mm(55.0), mm(66.0), PAGE_W - mm(110.0), 0.8), GOLD);

    // Holder.
    fill(s, GREY);
    centered(s, "持证人  Holder", mm(80.0), 10.0, 10.0, 0.0, content_w);
    fill(s, INK);
    let y = centered(s, &c.holder_name, mm(95.0), 30.0, 16.0, 6.0, content_w);
    fill(s, GREY);
    let id_line = format!("身份证件号码  ID No.  {}", c.id_masked);
    let y = centered(s, &id_line, y + mm(9.0), 10.5, 8.0, 0.0, content_w);
    fill(s, INK);
    let y = centered(
        s,
        "经考核合格，准予颁发此证书。",
        y + mm(11.0),
        12.0,
        12.0,
        1.0,
        content_w,
    );
    fill(s, GREY);
    let y = centered(
        s,
        "has passed the assessment and is hereby awarded this certificate.",
        y + mm(6.0),
        9.0,
        7.0,
        0.0,
        content_w,
    );

    // Fields: label (zh over en) on the left, value (zh over en) on the right.
    let label_x = mm(32.0);
    let value_x = mm(72.0);
    let value_w = PAGE_W - value_x - mm(28.0);
    let date_zh = format!(
        "{}年{}月{}日",
        c.issued_on.year(),
        c.issued_on.month(),
        c.issued_on.day()
    );
    let date_en = c.issued_on.format("%-d %B %Y").to_string();
    let mut rows: Vec<(&str, &str, String, Option<String>)> = vec![
        (
            "证书名称",
            "Certificate",
            c.certificate_name.clone(),
            c.certificate_name_en.clone(),
        ),
        (
            "等级",
            "Level",
            c.level_name.clone(),
            c.level_name_en.clone(),
        ),
        ("发证机构", "Issued by", c.teo_name.clone(), None),
    ];
    if let Some(college) = c.college_name.as_deref().filter(|s| !s.trim().is_empty()) {
        rows.push(("培训院校", "Training college", college.to_string(), None));
    }
    rows.push(("发证日期", "Date of issue", date_zh, Some(date_en)));
    rows.push(("证书编号", "Certificate No.", c.number.clone(), None));

    let mut y = y + mm(16.0);
    for (label_zh, label_en, value, value_en) in rows {
        fill(s, INK);
        draw_line(s, label_x, y, label_zh, 12.0, 2.0);
        fill(s, GREY);
        draw_line(s, label_x, y + 11.0, label_en, 7.5, 0.0);
        fill(s, INK);
        let mut last = paragraph(s, &value, value_x, y, 13.0, value_w);
        if let Some(en) = value_en.as_deref().filter(|s| !s.trim().is_empty()) {
            fill(s, GREY);
            last = paragraph(s, en, value_x, last + 12.5, 9.0, value_w);
        } else {
            last = last.max(y + 11.0);
        }
        y = last + mm(9.0);
    }

    // QR code, bottom right, with its quiet zone kept clear; caption and URL under it.
    let modules = code.width() as f32;
    let module = (mm(QR_MIN_MM) / modules).max(mm(0.6));
    let symbol = module * modules;
    let quiet = module * QR_QUIET_MODULES;
    let qr_right = PAGE_W - mm(24.0);
    let qr_x = qr_right - symbol;
    let qr_y = PAGE_H - mm(34.0) - symbol;
    fill_rect(
        s,
        rect(
            qr_x - quiet,
            qr_y - quiet,
            symbol + 2.0 * quiet,
            symbol + 2.0 * quiet,
        ),
        WHITE,
    );
    draw_qr(s, code, qr_x, qr_y, module);
    fill(s, INK);
    let cap = "扫码验证 / Scan to verify";
    let cap_w = measure(cap, 8.5, 0.0);
    draw_line(
        s,
        qr_x + (symbol - cap_w) / 2.0,
        qr_y + symbol + mm(5.0),
        cap,
        8.5,
        0.0,
    );
    fill(s, GREY);
    let url_w = PAGE_W - mm(48.0);
    let mut url_y = PAGE_H - mm(22.0);
    for line in wrap(&c.verify_url, 7.0, url_w) {
        let w = measure(&line, 7.0, 0.0);
        draw_line(s, PAGE_W - mm(24.0) - w, url_y, &line, 7.0, 0.0);
        url_y += 8.5;
    }

    // Issuer line, bottom left, level with the QR code.
    fill(s, INK);
    let seal_y = qr_y + symbol - mm(12.0);
    let issuer_w = qr_x - quiet - mm(32.0) - mm(6.0);
    // At most two lines here, so a long name never runs into the URL below.
    let mut issuer_size = 11.0;
    while issuer_size > 7.0 && wrap(&c.teo_name, issuer_size, issuer_w).len() > 2 {
        issuer_size -= 0.5;
    }
    let last = paragraph(s, &c.teo_name, mm(32.0), seal_y, issuer_size, issuer_w);
    fill(s, GREY);
    draw_line(
        s,
        mm(32.0),
        last + mm(6.0),
        &format!("发证日期  {}", c.issued_on.format("%Y-%m-%d")),
        9.0,
        0.0,
    );

    if let Some(note) = c.status_note.as_deref().filter(|n| !n.trim().is_empty()) {
        watermark(s, note);
    }
}

/// Dark modules as filled rectangles, one per horizontal run.
fn draw_qr(s: &mut Surface<'_>, code: &QrCode, x: f32, y: f32, module: f32) {
    let n = code.width();
    let colors = code.to_colors();
    let mut pb = PathBuilder::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] == Color::Dark {
                let start = col;
                while col < n && colors[row * n + col] == Color::Dark {
                    col += 1;
                }
                pb.push_rect(rect(
                    x + start as f32 * module,
                    y + row as f32 * module,
                    (col - start) as f32 * module,
                    module,
                ));
            } else {
                col += 1;
            }
        }
    }
    fill(s, (0, 0, 0));
    if let Some(path) = pb.finish() {
        s.draw_path(&path);
    }
}

/// A red band across the top, inside the border: the status in white.
fn banner(s: &mut Surface<'_>, note: &str) {
    fill_rect(
        s,
        rect(mm(13.5), mm(18.0), PAGE_W - mm(27.0), mm(10.0)),
        ACCENT,
    );
    fill(s, WHITE);
    centered(s, note, mm(25.2), 13.0, 8.0, 2.0, PAGE_W - mm(40.0));
}

/// The status across the middle of the page, big, diagonal and translucent.
fn watermark(s: &mut Surface<'_>, note: &str) {
    let size = 64.0;
    let mut size_fit = size;
    let max_w = PAGE_H * 0.8;
    while size_fit > 20.0 && measure(note, size_fit, 4.0) > max_w {
        size_fit -= 2.0;
    }
    let w = measure(note, size_fit, 4.0);
    let (cx, cy) = (PAGE_W / 2.0, PAGE_H / 2.0);
    s.push_transform(&Transform::from_rotate_at(-35.0, cx, cy));
    s.push_opacity(NormalizedF32::new(0.22).expect("in 0..1"));
    fill(s, ACCENT);
    draw_line(s, cx - w / 2.0, cy + size_fit * 0.35, note, size_fit, 4.0);
    s.pop();
    s.pop();
}
