//! The bundled fonts, a minimal shaper (one glyph per char: enough for CJK and plain Latin),
//! font fallback from WenQuanYi Micro Hei to HanaMinA for CJK Extension A, measuring and
//! line wrapping.

use std::sync::OnceLock;

use krilla::geom::Point;
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

/// WenQuanYi Micro Hei, subset (see `fonts/README.md`): Latin, punctuation, all its CJK.
static MAIN_TTF: &[u8] = include_bytes!("../fonts/WenQuanYiMicroHei-subset.ttf");
/// HanaMinA, CJK Extension A only: the fallback for characters Micro Hei lacks.
static EXT_TTF: &[u8] = include_bytes!("../fonts/HanaMinA-ExtA-subset.ttf");

pub(crate) struct Face {
    pub(crate) font: Font,
    font_ref: FontRef<'static>,
    metrics: GlyphMetrics<'static>,
    upem: f32,
}

impl Face {
    fn load(data: &'static [u8], what: &str) -> Self {
        // The bytes are compiled in and checked by the tests: failing here is a build defect.
        let font = Font::new(data.into(), 0).unwrap_or_else(|| panic!("bundled font {what}"));
        let font_ref = FontRef::new(data).unwrap_or_else(|_| panic!("bundled font {what}"));
        let metrics = font_ref.glyph_metrics(Size::unscaled(), LocationRef::default());
        let upem = font.units_per_em();
        Face {
            font,
            font_ref,
            metrics,
            upem,
        }
    }

    fn glyph(&self, ch: char) -> Option<skrifa::GlyphId> {
        self.font_ref.charmap().map(ch).filter(|g| g.to_u32() != 0)
    }

    /// Advance of a glyph as a fraction of the em.
    fn advance(&self, gid: skrifa::GlyphId) -> f32 {
        self.metrics.advance_width(gid).unwrap_or(self.upem) / self.upem
    }
}

pub(crate) struct Fonts {
    main: Face,
    ext: Face,
}

pub(crate) fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts {
        main: Face::load(MAIN_TTF, "WenQuanYiMicroHei-subset.ttf"),
        ext: Face::load(EXT_TTF, "HanaMinA-ExtA-subset.ttf"),
    })
}

/// Characters that need no glyph (line breaks, tabs and other controls are drawn as spaces).
fn needs_no_glyph(ch: char) -> bool {
    ch.is_control() || ch == '\u{200B}' || ch == '\u{FEFF}'
}

/// Which face draws `ch` and with which glyph; `None` when neither font has it.
fn lookup(fonts: &Fonts, ch: char) -> Option<(bool, skrifa::GlyphId)> {
    if let Some(g) = fonts.main.glyph(ch) {
        return Some((false, g));
    }
    fonts.ext.glyph(ch).map(|g| (true, g))
}

/// See [`crate::covers`].
pub(crate) fn uncovered(text: &str) -> Vec<char> {
    let fonts = fonts();
    let mut missing: Vec<char> = Vec::new();
    for ch in text.chars() {
        if ch == ' ' || needs_no_glyph(ch) || missing.contains(&ch) {
            continue;
        }
        if lookup(fonts, ch).is_none() {
            missing.push(ch);
        }
    }
    missing
}

/// One glyph to place: face (false = main, true = Extension A fallback), glyph, advance in em.
struct Placed {
    ext: bool,
    gid: skrifa::GlyphId,
    advance: f32,
    range: std::ops::Range<usize>,
}

fn place(fonts: &Fonts, text: &str) -> Vec<Placed> {
    let mut out = Vec::with_capacity(text.len());
    for (i, ch) in text.char_indices() {
        let range = i..i + ch.len_utf8();
        let ch = if needs_no_glyph(ch) { ' ' } else { ch };
        // A character neither font has is drawn as Micro Hei's .notdef box (and still
        // extracts as itself, the text range maps it back).
        let (ext, gid) = lookup(fonts, ch).unwrap_or((false, skrifa::GlyphId::NOTDEF));
        let face = if ext { &fonts.ext } else { &fonts.main };
        out.push(Placed {
            ext,
            gid,
            advance: face.advance(gid),
            range,
        });
    }
    out
}

/// Width of `text` in points at `size`, with `spacing` points added after every character.
pub(crate) fn measure(text: &str, size: f32, spacing: f32) -> f32 {
    place(fonts(), text)
        .iter()
        .map(|p| p.advance * size + spacing)
        .sum::<f32>()
        - if text.is_empty() { 0.0 } else { spacing }
}

/// Draws one line of text with its left end of the baseline at (`x`, `y`); returns the width.
pub(crate) fn draw_line(
    surface: &mut Surface<'_>,
    x: f32,
    y: f32,
    text: &str,
    size: f32,
    spacing: f32,
) -> f32 {
    let fonts = fonts();
    let placed = place(fonts, text);
    let mut cur = x;
    let mut start = 0;
    while start < placed.len() {
        let ext = placed[start].ext;
        let end = placed[start..]
            .iter()
            .position(|p| p.ext != ext)
            .map_or(placed.len(), |n| start + n);
        let run = &placed[start..end];
        let text_start = run[0].range.start;
        let text_end = run[run.len() - 1].range.end;
        let glyphs: Vec<KrillaGlyph> = run
            .iter()
            .map(|p| {
                KrillaGlyph::new(
                    GlyphId::new(p.gid.to_u32()),
                    p.advance + spacing / size,
                    0.0,
                    0.0,
                    0.0,
                    p.range.start - text_start..p.range.end - text_start,
                    None,
                )
            })
            .collect();
        let face = if ext { &fonts.ext } else { &fonts.main };
        surface.draw_glyphs(
            Point::from_xy(cur, y),
            &glyphs,
            face.font.clone(),
            &text[text_start..text_end],
            size,
            false,
        );
        cur += run.iter().map(|p| p.advance * size + spacing).sum::<f32>();
        start = end;
    }
    cur - x - if placed.is_empty() { 0.0 } else { spacing }
}

/// Greedy line breaking into lines no wider than `max_width`: a break may come after any
/// CJK character or at a space; a Latin word longer than a line is cut.
pub(crate) fn wrap(text: &str, size: f32, max_width: f32) -> Vec<String> {
    let fonts = fonts();
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0.0;
    for ch in text.chars() {
        let ch = if needs_no_glyph(ch) { ' ' } else { ch };
        let w = lookup(fonts, ch)
            .map(|(ext, g)| if ext { &fonts.ext } else { &fonts.main }.advance(g))
            .unwrap_or(1.0)
            * size;
        if width + w > max_width && !line.trim().is_empty() {
            if ch == ' ' {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                width = 0.0;
                continue;
            }
            let word_break =
                ch.is_ascii_graphic() && line.chars().last().is_some_and(|c| c.is_ascii_graphic());
            let tail = match line.rfind(' ') {
                Some(pos) if word_break => {
                    let tail = line[pos + 1..].to_string();
                    line.truncate(pos);
                    tail
                }
                _ => String::new(),
            };
            lines.push(std::mem::take(&mut line).trim_end().to_string());
            width = measure(&tail, size, 0.0);
            line = tail;
        }
        if line.is_empty() && ch == ' ' {
            continue;
        }
        line.push(ch);
        width += w;
    }
    let last = line.trim_end();
    if !last.is_empty() || lines.is_empty() {
        lines.push(last.to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_and_coverage() {
        let f = fonts();
        assert!(matches!(lookup(f, '张'), Some((false, _))));
        assert!(
            matches!(lookup(f, '䶮'), Some((true, _))),
            "Ext A from HanaMinA"
        );
        assert!(lookup(f, '𠈌').is_none(), "Ext B is not bundled");
        assert_eq!(uncovered("张三 䶮 𠈌𠈌 A\n"), vec!['𠈌']);
    }

    #[test]
    fn wrapping_respects_width_and_words() {
        let lines = wrap(
            "Electric Power Demand Response Integrated Services",
            10.0,
            100.0,
        );
        assert!(lines.len() > 1, "{lines:?}");
        for l in &lines {
            assert!(measure(l, 10.0, 0.0) <= 100.0 + 0.01, "{l:?}");
            assert!(!l.starts_with(' ') && !l.ends_with(' '));
        }
        assert_eq!(
            lines.join(" "),
            "Electric Power Demand Response Integrated Services"
        );
        let zh = wrap("电力需求响应综合服务电力需求响应综合服务", 10.0, 50.0);
        assert_eq!(zh.concat(), "电力需求响应综合服务电力需求响应综合服务");
        assert!(zh.len() >= 4, "{zh:?}");
    }
}
