//! Charts drawn as SVG on the server: horizontal bars, which keep long Chinese labels
//! readable and need no script. Text is escaped; sizes are computed, never guessed.

/// One bar: its label, its value, and the value as shown.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub shown: String,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Display width of a label in "ASCII columns" (CJK counts two).
fn columns(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

/// A horizontal bar chart with a title; `id` names the element for tests and links.
pub fn bars(id: &str, title: &str, bars: &[Bar]) -> String {
    let row_h = 24.0;
    let label_w = bars
        .iter()
        .map(|b| columns(&b.label))
        .max()
        .unwrap_or(4)
        .clamp(4, 36) as f64
        * 7.5
        + 12.0;
    let plot_w = 420.0;
    // Room after the longest bar for the longest value text ("161（入围 50）").
    let value_w = bars
        .iter()
        .map(|b| columns(&b.shown) as f64 * 7.0 + 12.0)
        .fold(90.0f64, f64::max);
    let top = 30.0;
    let width = label_w + plot_w + value_w;
    let height = top + row_h * bars.len().max(1) as f64 + 10.0;
    let max = bars.iter().map(|b| b.value).fold(0.0f64, f64::max);
    let mut svg = format!(
        r#"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="100%" role="img" aria-label="{t}"><title>{t}</title><text x="0" y="18" font-size="14" font-weight="600">{t}</text>"#,
        t = esc(title)
    );
    if bars.is_empty() {
        svg.push_str(&format!(
            r##"<text x="0" y="{:.0}" font-size="12" fill="#667">—</text>"##,
            top + 16.0
        ));
    }
    for (i, b) in bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = if max > 0.0 {
            (b.value / max * plot_w).max(if b.value > 0.0 { 1.0 } else { 0.0 })
        } else {
            0.0
        };
        svg.push_str(&format!(
            r##"<g class="bar"><text x="{lx:.1}" y="{ty:.1}" font-size="12" text-anchor="end">{label}</text><rect x="{x:.1}" y="{ry:.1}" width="{w:.1}" height="{h:.1}" fill="#0b5cad" data-value="{v}"><title>{label}: {shown}</title></rect><text x="{vx:.1}" y="{ty:.1}" font-size="12" fill="#334">{shown}</text></g>"##,
            lx = label_w - 8.0,
            ty = y + 16.0,
            label = esc(&b.label),
            x = label_w,
            ry = y + 4.0,
            w = w,
            h = row_h - 8.0,
            v = b.value,
            vx = label_w + w + 6.0,
            shown = esc(&b.shown),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// One point of a scatter plot.
pub struct Point {
    pub label: String,
    pub x: f64,
    pub y: f64,
    /// Drawn in the warning colour (a flagged item).
    pub flagged: bool,
}

/// A nice tick step for a span: 1, 2 or 5 times a power of ten, about five ticks.
fn tick_step(span: f64) -> f64 {
    let raw = (span / 5.0).max(1e-9);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

/// A scatter plot with axes, ticks and labelled points; the ranges are fixed by the
/// caller (so charts of different sessions compare) and points outside are clamped to
/// the edge.
pub fn scatter(
    id: &str,
    title: &str,
    (x_label, x_min, x_max): (&str, f64, f64),
    (y_label, y_min, y_max): (&str, f64, f64),
    points: &[Point],
) -> String {
    let (w, h, left, top, right, bottom) = (560.0, 360.0, 56.0, 34.0, 16.0, 44.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let sx = |x: f64| left + (x.clamp(x_min, x_max) - x_min) / (x_max - x_min) * pw;
    let sy = |y: f64| top + ph - (y.clamp(y_min, y_max) - y_min) / (y_max - y_min) * ph;
    let mut svg = format!(
        r##"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{t}"><title>{t}</title><text x="0" y="18" font-size="14" font-weight="600">{t}</text><rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#b9c4cf"/>"##,
        t = esc(title)
    );
    let step = tick_step(x_max - x_min);
    let mut x = (x_min / step).ceil() * step;
    while x <= x_max + 1e-9 {
        svg.push_str(&format!(
            r##"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="#eef1f4"/><text x="{0:.1}" y="{3:.1}" font-size="11" text-anchor="middle" fill="#556">{4}</text>"##,
            sx(x), top, top + ph, top + ph + 14.0, trim(x)
        ));
        x += step;
    }
    let step = tick_step(y_max - y_min);
    let mut y = (y_min / step).ceil() * step;
    while y <= y_max + 1e-9 {
        svg.push_str(&format!(
            r##"<line x1="{1:.1}" y1="{0:.1}" x2="{2:.1}" y2="{0:.1}" stroke="#eef1f4"/><text x="{3:.1}" y="{4:.1}" font-size="11" text-anchor="end" fill="#556">{5}</text>"##,
            sy(y), left, left + pw, left - 4.0, sy(y) + 4.0, trim(y)
        ));
        y += step;
    }
    svg.push_str(&format!(
        r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text><text x="12" y="{:.1}" font-size="12" text-anchor="middle" transform="rotate(-90 12 {:.1})">{}</text>"##,
        left + pw / 2.0,
        h - 6.0,
        esc(x_label),
        top + ph / 2.0,
        top + ph / 2.0,
        esc(y_label)
    ));
    for p in points {
        svg.push_str(&format!(
            r##"<g class="point"><circle cx="{:.1}" cy="{:.1}" r="4" fill="{}" data-x="{}" data-y="{}"><title>{}: {}, {}</title></circle><text x="{:.1}" y="{:.1}" font-size="10" fill="#445">{}</text></g>"##,
            sx(p.x),
            sy(p.y),
            if p.flagged { "#b3261e" } else { "#0b5cad" },
            p.x,
            p.y,
            esc(&p.label),
            trim(p.x),
            trim(p.y),
            sx(p.x) + 5.0,
            sy(p.y) - 5.0,
            esc(&p.label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// The item map (Wright map): candidates' abilities as a histogram on the left of a
/// vertical θ scale, the items' difficulties b as labelled marks on the right.
pub fn item_map(
    id: &str,
    title: &str,
    bins: &[(f64, f64, usize)],
    items: &[(String, f64)],
) -> String {
    let (lo, hi) = (-4.0f64, 4.0f64);
    let (w, h, top, bottom) = (560.0, 400.0, 34.0, 20.0);
    let mid = 280.0;
    let ph = h - top - bottom;
    let sy = |t: f64| top + ph - (t.clamp(lo, hi) - lo) / (hi - lo) * ph;
    let max = bins.iter().map(|b| b.2).max().unwrap_or(0).max(1) as f64;
    let mut svg = format!(
        r##"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{t}"><title>{t}</title><text x="0" y="18" font-size="14" font-weight="600">{t}</text><line x1="{mid}" y1="{top}" x2="{mid}" y2="{:.1}" stroke="#667"/>"##,
        top + ph,
        t = esc(title)
    );
    let mut t = lo;
    while t <= hi + 1e-9 {
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#556">{}</text>"##,
            mid,
            sy(t) + 4.0,
            trim(t)
        ));
        t += 1.0;
    }
    for (from, to, n) in bins {
        let y1 = sy(*to);
        let y2 = sy(*from);
        let bw = *n as f64 / max * (mid - 40.0);
        svg.push_str(&format!(
            r##"<rect class="theta" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#9fb8d4" data-count="{n}"><title>θ {}…{}: {n}</title></rect>"##,
            mid - 16.0 - bw,
            y1 + 1.0,
            bw,
            (y2 - y1 - 2.0).max(1.0),
            trim(*from),
            trim(*to)
        ));
    }
    // Items sorted by b; labels that would overlap move right.
    let mut sorted: Vec<&(String, f64)> = items.iter().collect();
    sorted.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal));
    let mut last_y = f64::INFINITY;
    let mut x = mid + 20.0;
    for (label, b) in sorted {
        let y = sy(*b);
        if (last_y - y).abs() < 12.0 {
            x += 60.0;
            if x > w - 60.0 {
                x = mid + 20.0;
            }
        } else {
            x = mid + 20.0;
        }
        last_y = y;
        svg.push_str(&format!(
            r##"<g class="item"><line x1="{mid}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#b3261e"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#b3261e" data-b="{b}">{}</text></g>"##,
            x - 4.0,
            x,
            y + 4.0,
            esc(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_places_points_on_the_axes_and_clamps() {
        let svg = scatter(
            "s",
            "区分度 × 难度",
            ("p", 0.0, 1.0),
            ("r", -0.2, 0.8),
            &[
                Point {
                    label: "Q1".into(),
                    x: 0.5,
                    y: 0.3,
                    flagged: false,
                },
                Point {
                    label: "Q<2>".into(),
                    x: 2.0,
                    y: -1.0,
                    flagged: true,
                },
            ],
        );
        // x = 0.5 is the middle of the 488-wide plot from 56: 300; y = 0.3 halfway up 282 from 34: 175.
        assert!(svg.contains(r#"cx="300.0" cy="175.0""#), "{svg}");
        // Clamped to the right and bottom edges, escaped, flagged in red.
        assert!(
            svg.contains(r##"cx="544.0" cy="316.0" r="4" fill="#b3261e""##),
            "{svg}"
        );
        assert!(svg.contains("Q&lt;2&gt;"));
        assert_eq!(tick_step(1.0), 0.2);
        assert_eq!(tick_step(8.0), 2.0);
    }

    #[test]
    fn item_map_draws_bins_and_items() {
        let svg = item_map(
            "m",
            "图",
            &[(-1.0, -0.5, 10), (-0.5, 0.0, 20)],
            &[("Q1".into(), -3.6)],
        );
        assert_eq!(svg.matches("class=\"theta\"").count(), 2);
        assert!(svg.contains("data-b=\"-3.6\""));
        // The fullest bin spans the left half (mid 280 − 16 − 40 margin = 240 wide).
        assert!(svg.contains(r#"width="240.0""#), "{svg}");
    }

    #[test]
    fn bar_lengths_are_proportional_and_labels_escaped() {
        let svg = bars(
            "c",
            "容量 <GB>",
            &[
                Bar {
                    label: "教材".into(),
                    value: 2.0,
                    shown: "2.00 GB".into(),
                },
                Bar {
                    label: "A&B".into(),
                    value: 1.0,
                    shown: "1.00 GB".into(),
                },
            ],
        );
        assert!(svg.contains("容量 &lt;GB&gt;"));
        assert!(svg.contains("A&amp;B"));
        // The largest bar spans the plot (420), the half-sized one half of it.
        assert!(svg.contains(r#"width="420.0""#));
        assert!(svg.contains(r#"width="210.0""#));
    }
}
