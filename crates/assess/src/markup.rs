//! Rich text in items: a small, safe subset of HTML. Imported stems (QTI XHTML, Moodle
//! HTML) are cleaned on the way in and again when rendered, so a question bank cannot
//! carry script into a candidate's page. Images may only point at files that came with
//! the item (relative paths), which the web layer maps to stored media.

use std::collections::HashSet;

const TAGS: &[&str] = &[
    "p",
    "br",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "sub",
    "sup",
    "span",
    "div",
    "img",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "ul",
    "ol",
    "li",
    "pre",
    "code",
    "blockquote",
    "hr",
    "h3",
    "h4",
    "h5",
    "h6",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
    "s",
    "small",
];

fn builder<'a>() -> ammonia::Builder<'a> {
    let mut b = ammonia::Builder::empty();
    b.add_tags(TAGS.iter().copied())
        .add_tag_attributes("img", ["src", "alt", "width", "height"])
        .add_tag_attributes("td", ["colspan", "rowspan"])
        .add_tag_attributes("th", ["colspan", "rowspan"])
        .add_tag_attributes("ol", ["start"])
        // No absolute URLs at all: media travel with the item.
        .url_schemes(HashSet::new())
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(None);
    b
}

/// Clean rich text to the allowed subset.
pub fn sanitize(html: &str) -> String {
    builder().clean(html).to_string()
}

/// Clean rich text and map each relative image path through `media` (to a served URL);
/// paths it does not know are dropped.
pub fn sanitize_with_media<F>(html: &str, media: F) -> String
where
    F: Fn(&str) -> Option<String> + Send + Sync + 'static,
{
    struct Map<F>(F);
    impl<F: Fn(&str) -> Option<String> + Send + Sync + 'static>
        ammonia::UrlRelativeEvaluate<'static> for Map<F>
    {
        fn evaluate<'u>(&self, url: &'u str) -> Option<std::borrow::Cow<'u, str>> {
            (self.0)(url).map(std::borrow::Cow::Owned)
        }
    }
    let mut b = builder();
    b.url_relative(ammonia::UrlRelative::Custom(Box::new(Map(media))));
    b.clean(html).to_string()
}

/// Plain text into rich text: escaped, line breaks kept.
pub fn from_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.trim_end().split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        for c in line.trim_end_matches('\r').chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                _ => out.push(c),
            }
        }
    }
    out
}

/// The text of rich text: tags removed (block ends become line breaks), entities decoded.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode(&rest[..lt]));
        let Some(gt) = rest[lt..].find('>') else {
            out.push_str(&decode(&rest[lt..]));
            rest = "";
            break;
        };
        let tag = rest[lt + 1..lt + gt]
            .trim_start_matches('/')
            .to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if matches!(
            name.as_str(),
            "br" | "p" | "div" | "li" | "tr" | "h3" | "h4" | "h5" | "h6"
        ) && !out.ends_with('\n')
            && !out.is_empty()
        {
            out.push('\n');
        }
        rest = &rest[lt + gt + 1..];
    }
    out.push_str(&decode(rest));
    out.trim().to_string()
}

/// Relative image paths a piece of rich text refers to, in order.
pub fn image_paths(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<img") {
        let start = at + i;
        let end = lower[start..]
            .find('>')
            .map(|e| start + e)
            .unwrap_or(lower.len());
        let tag = &html[start..end];
        let tl = &lower[start..end];
        if let Some(s) = tl.find("src=") {
            let v = &tag[s + 4..];
            let (q, v) = match v.chars().next() {
                Some(q @ ('"' | '\'')) => (Some(q), &v[1..]),
                _ => (None, v),
            };
            let val: String = match q {
                Some(q) => v.split(q).next().unwrap_or("").to_string(),
                None => v
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            };
            let val = decode(&val);
            if !val.is_empty() && !val.contains(':') && !out.contains(&val) {
                out.push(val);
            }
        }
        at = end;
    }
    out
}

fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail[..tail.len().min(12)].find(';') else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let ent = &tail[1..semi];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_and_absolute_urls_are_removed() {
        let dirty = r#"<p onclick="x()">电压<script>alert(1)</script><img src="http://evil/x.png"><img src="images/a.png" alt="图"><a href="javascript:x">链接</a></p>"#;
        let clean = sanitize(dirty);
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("evil"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(clean.contains(r#"src="images/a.png""#), "{clean}");
        assert!(clean.contains("电压") && clean.contains("链接"));
    }

    #[test]
    fn media_paths_are_mapped_or_dropped() {
        let html = r#"<p><img src="images/a.png"><img src="other.png"></p>"#;
        let out = sanitize_with_media(html, |p: &str| {
            (p == "images/a.png").then(|| "/media/abc".to_string())
        });
        assert!(out.contains(r#"src="/media/abc""#), "{out}");
        assert!(!out.contains("other.png"), "{out}");
    }

    #[test]
    fn plain_text_round_trip() {
        let rich = from_plain("I < 5 A & U > 220 V\n第二行");
        assert_eq!(rich, "I &lt; 5 A &amp; U &gt; 220 V<br>第二行");
        assert_eq!(plain_text(&rich), "I < 5 A & U > 220 V\n第二行");
        assert_eq!(plain_text("<p>甲</p><p>乙&#x4E19;</p>"), "甲\n乙丙");
        assert_eq!(
            image_paths(r#"<img alt="x" src="a/b.png"><IMG SRC='c.jpg'>"#),
            vec!["a/b.png", "c.jpg"]
        );
    }
}
