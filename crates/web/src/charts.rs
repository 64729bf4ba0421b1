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
    let value_w = 90.0;
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

#[cfg(test)]
mod tests {
    use super::*;

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
