//! Items into a QTI 3.0 content package (zip): one `qti-assessment-item` file per item
//! under `items/`, media at their package paths, and `imsmanifest.xml` with one
//! `imsqti_item_xmlv3p0` resource per item.
//!
//! Scoring uses the standard response processing templates where they fit (match_correct
//! for a 1-point all-or-nothing key, map_response for a single mapped response) and
//! written-out rules otherwise. xcert's bank data travels where a QTI consumer ignores it
//! safely: standard LOM in each resource's metadata (identifier, keywords and a competency
//! classification with the requirement codes, difficulty, typical learning time, author),
//! plus one `item` element in the namespace [`XCERT_QTI_NS`] inside that LOM (the LOM
//! binding admits foreign elements) with what LOM cannot say: kind, scoring rule, level,
//! exact difficulty, enemy group, testlet, identifier mappings, the blanks' marks and a
//! practical task's observation scale. Practical tasks have no QTI interaction: they are
//! written as extended-text items with the scale shown in a scorer rubric block.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

use crate::interchange::MediaFile;
use crate::interchange::xml::{esc, html_to_xhtml};
use crate::item::{Interaction, Item, ItemKind, ObservationScale, Scoring};
use crate::markup;

/// The namespace of xcert's extension metadata in exported manifests.
pub const XCERT_QTI_NS: &str = "urn:xcert:qti-extension:1";

const NS: &str = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0";
const CP_NS: &str = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1";
const LOM_NS: &str = "http://ltsc.ieee.org/xsd/LOM";
const MATCH_CORRECT: &str =
    "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml";
const MAP_RESPONSE: &str = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml";

/// Write a QTI 3.0 package of `items` with the `media` files they use (by the paths the
/// stems reference). The result is a zip archive; it is empty only if the zip writer
/// itself fails, which writing to memory does not do.
pub fn export_qti3(items: &[Item], media: &[MediaFile]) -> Vec<u8> {
    build(items, media).unwrap_or_default()
}

/// Escape an attribute value, keeping line breaks and tabs as character references so
/// attribute-value normalization does not turn them into spaces.
fn attr(s: &str) -> String {
    esc(s)
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// A valid NCName (QTI identifier) close to `s`.
fn ncname(s: &str) -> String {
    let ok_start = |c: char| c.is_alphabetic() || c == '_';
    let ok = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-' | '_');
    let mut out: String = s.chars().map(|c| if ok(c) { c } else { '_' }).collect();
    if !out.chars().next().is_some_and(ok_start) {
        out.insert(0, '_');
    }
    out
}

/// Unique NCNames for a list of ids, with the (qti, xcert) pairs that differ.
fn id_map(ids: &[&str], used: &mut Vec<String>, pairs: &mut Vec<(String, String)>) -> Vec<String> {
    ids.iter()
        .map(|id| {
            let base = ncname(id);
            let mut q = base.clone();
            let mut n = 2;
            while used.contains(&q) {
                q = format!("{base}_{n}");
                n += 1;
            }
            used.push(q.clone());
            if q != *id {
                pairs.push((q.clone(), id.to_string()));
            }
            q
        })
        .collect()
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Rich text as XHTML inside a wrapper the importer removes again.
fn text_block(html: &str, src: &dyn Fn(&str) -> String) -> String {
    format!(
        "<div class=\"xcert-text\">{}</div>",
        html_to_xhtml(html, src)
    )
}

fn inline(html: &str, src: &dyn Fn(&str) -> String) -> String {
    html_to_xhtml(html, src)
}

/// Replace runs of three or more underscores (outside tags) with text-entry
/// interactions, in order; returns the XHTML, the marks used and how many were placed.
fn place_blanks(xhtml: &str, rids: &[String]) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(xhtml.len() + 64);
    let mut marks = Vec::new();
    let chars: Vec<char> = xhtml.chars().collect();
    let mut i = 0;
    let mut in_tag = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '<' {
            in_tag = true;
        } else if c == '>' {
            in_tag = false;
        }
        if !in_tag && (c == '_' || c == '＿') && marks.len() < rids.len() {
            let mut j = i;
            while j < chars.len() && chars[j] == c {
                j += 1;
            }
            if j - i >= 3 && c == '_' {
                out.push_str(&format!(
                    "<qti-text-entry-interaction response-identifier=\"{}\"/>",
                    rids[marks.len()]
                ));
                marks.push(j - i);
                i = j;
                continue;
            }
            for ch in &chars[i..j] {
                out.push(*ch);
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, marks)
}

fn scale_table(scale: &ObservationScale) -> String {
    let mut t = String::from(
        "<table><thead><tr><th>评分项 Criterion</th><th>分值 Points</th><th>关键项 Critical</th></tr></thead><tbody>",
    );
    for c in &scale.criteria {
        t.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.text),
            num(c.points),
            if c.critical { "是 yes" } else { "" }
        ));
    }
    t.push_str("</tbody></table>");
    t
}

struct ItemFile {
    href: String,
    xml: String,
    images: Vec<String>,
    lom: String,
}

fn set_score(value: &str) -> String {
    format!(
        "<qti-set-outcome-value identifier=\"SCORE\"><qti-base-value base-type=\"float\">{value}</qti-base-value></qti-set-outcome-value>"
    )
}

fn if_else(cond: &str, points: f64) -> String {
    format!(
        "<qti-response-processing><qti-response-condition><qti-response-if>{cond}{}</qti-response-if><qti-response-else>{}</qti-response-else></qti-response-condition></qti-response-processing>",
        set_score(&num(points)),
        set_score("0")
    )
}

fn match_correct_rp(points: f64) -> String {
    if points == 1.0 {
        format!("<qti-response-processing template=\"{MATCH_CORRECT}\"/>")
    } else {
        if_else(
            "<qti-match><qti-variable identifier=\"RESPONSE\"/><qti-correct identifier=\"RESPONSE\"/></qti-match>",
            points,
        )
    }
}

fn item_file(item: &Item, index: usize, qti_id: &str, href: &str) -> ItemFile {
    let c = &item.content;
    let m = &item.meta;
    let mut images: Vec<String> = Vec::new();
    let src = |p: &str| format!("../{p}");
    let mut ids: Vec<(String, String)> = Vec::new();
    let mut decls = String::new();
    let mut rp = String::new();
    let mut interaction = String::new();
    let mut blank_xml_stem: Option<String> = None;
    let mut marks: Vec<usize> = Vec::new();
    let mut rubric = String::new();
    let points = c.points;
    let choice_xml = |tag: &str,
                      qids: &[String],
                      choices: &[crate::item::Choice],
                      extra: &dyn Fn(usize) -> String| {
        let mut s = String::new();
        for (k, ch) in choices.iter().enumerate() {
            s.push_str(&format!(
                "<{tag} identifier=\"{}\"{}{}>{}</{tag}>",
                qids[k],
                if ch.fixed { " fixed=\"true\"" } else { "" },
                extra(k),
                inline(&ch.text, &src)
            ));
        }
        s
    };
    match &c.interaction {
        Interaction::Choice {
            choices,
            correct,
            shuffle,
        } => {
            let mut used = Vec::new();
            let raw: Vec<&str> = choices.iter().map(|x| x.id.as_str()).collect();
            let qids = id_map(&raw, &mut used, &mut ids);
            let q = |id: &str| {
                raw.iter()
                    .position(|r| *r == id)
                    .map(|k| qids[k].clone())
                    .unwrap_or_else(|| ncname(id))
            };
            let multiple = c.kind == ItemKind::MultipleChoice;
            let mut d = format!(
                "<qti-response-declaration identifier=\"RESPONSE\" cardinality=\"{}\" base-type=\"identifier\"><qti-correct-response>",
                if multiple { "multiple" } else { "single" }
            );
            for k in correct {
                d.push_str(&format!("<qti-value>{}</qti-value>", q(k)));
            }
            d.push_str("</qti-correct-response>");
            if multiple && c.scoring == Scoring::Partial && !correct.is_empty() {
                // xcert's rule (any wrong option scores 0, else a share of the points)
                // as a mapping: right options share the points, a wrong one costs all.
                let share = points / correct.len() as f64;
                d.push_str(&format!(
                    "<qti-mapping lower-bound=\"0\" upper-bound=\"{}\" default-value=\"0\">",
                    num(points)
                ));
                for (k, ch) in choices.iter().enumerate() {
                    let v = if correct.contains(&ch.id) {
                        share
                    } else {
                        -points
                    };
                    d.push_str(&format!(
                        "<qti-map-entry map-key=\"{}\" mapped-value=\"{}\"/>",
                        qids[k],
                        num(v)
                    ));
                }
                d.push_str("</qti-mapping>");
                rp = format!("<qti-response-processing template=\"{MAP_RESPONSE}\"/>");
            } else {
                rp = match_correct_rp(points);
            }
            d.push_str("</qti-response-declaration>");
            decls = d;
            interaction = format!(
                "<qti-choice-interaction response-identifier=\"RESPONSE\" shuffle=\"{shuffle}\" max-choices=\"{}\">{}</qti-choice-interaction>",
                if multiple { 0 } else { 1 },
                choice_xml("qti-simple-choice", &qids, choices, &|_| String::new())
            );
        }
        Interaction::Order {
            choices,
            correct,
            shuffle,
        } => {
            let mut used = Vec::new();
            let raw: Vec<&str> = choices.iter().map(|x| x.id.as_str()).collect();
            let qids = id_map(&raw, &mut used, &mut ids);
            let q = |id: &str| {
                raw.iter()
                    .position(|r| *r == id)
                    .map(|k| qids[k].clone())
                    .unwrap_or_else(|| ncname(id))
            };
            let mut d = String::from(
                "<qti-response-declaration identifier=\"RESPONSE\" cardinality=\"ordered\" base-type=\"identifier\"><qti-correct-response>",
            );
            for k in correct {
                d.push_str(&format!("<qti-value>{}</qti-value>", q(k)));
            }
            d.push_str("</qti-correct-response></qti-response-declaration>");
            decls = d;
            rp = if c.scoring == Scoring::Partial && !correct.is_empty() {
                // Points × positions right / positions, one rule per position.
                let share = num(points / correct.len() as f64);
                let mut r = format!("<qti-response-processing>{}", set_score("0"));
                for (pos, k) in correct.iter().enumerate() {
                    r.push_str(&format!(
                        "<qti-response-condition><qti-response-if><qti-match><qti-index n=\"{}\"><qti-variable identifier=\"RESPONSE\"/></qti-index><qti-base-value base-type=\"identifier\">{}</qti-base-value></qti-match><qti-set-outcome-value identifier=\"SCORE\"><qti-sum><qti-variable identifier=\"SCORE\"/><qti-base-value base-type=\"float\">{share}</qti-base-value></qti-sum></qti-set-outcome-value></qti-response-if></qti-response-condition>",
                        pos + 1,
                        q(k)
                    ));
                }
                r.push_str("</qti-response-processing>");
                r
            } else {
                match_correct_rp(points)
            };
            interaction = format!(
                "<qti-order-interaction response-identifier=\"RESPONSE\" shuffle=\"{shuffle}\">{}</qti-order-interaction>",
                choice_xml("qti-simple-choice", &qids, choices, &|_| String::new())
            );
        }
        Interaction::Match {
            sources,
            targets,
            correct,
            shuffle,
        } => {
            let mut used = Vec::new();
            let rs: Vec<&str> = sources.iter().map(|x| x.id.as_str()).collect();
            let rt: Vec<&str> = targets.iter().map(|x| x.id.as_str()).collect();
            let qs = id_map(&rs, &mut used, &mut ids);
            let qt = id_map(&rt, &mut used, &mut ids);
            let qsrc = |id: &str| {
                rs.iter()
                    .position(|r| *r == id)
                    .map(|k| qs[k].clone())
                    .unwrap_or_else(|| ncname(id))
            };
            let qtgt = |id: &str| {
                rt.iter()
                    .position(|r| *r == id)
                    .map(|k| qt[k].clone())
                    .unwrap_or_else(|| ncname(id))
            };
            let mut d = String::from(
                "<qti-response-declaration identifier=\"RESPONSE\" cardinality=\"multiple\" base-type=\"directedPair\"><qti-correct-response>",
            );
            for (a, b) in correct {
                d.push_str(&format!("<qti-value>{} {}</qti-value>", qsrc(a), qtgt(b)));
            }
            d.push_str("</qti-correct-response>");
            if c.scoring == Scoring::Partial && !correct.is_empty() {
                let share = points / correct.len() as f64;
                d.push_str(&format!(
                    "<qti-mapping lower-bound=\"0\" upper-bound=\"{}\" default-value=\"0\">",
                    num(points)
                ));
                for (a, b) in correct {
                    d.push_str(&format!(
                        "<qti-map-entry map-key=\"{} {}\" mapped-value=\"{}\"/>",
                        qsrc(a),
                        qtgt(b),
                        num(share)
                    ));
                }
                d.push_str("</qti-mapping>");
                rp = format!("<qti-response-processing template=\"{MAP_RESPONSE}\"/>");
            } else {
                rp = match_correct_rp(points);
            }
            d.push_str("</qti-response-declaration>");
            decls = d;
            let once = sources
                .iter()
                .all(|s| correct.iter().filter(|(a, _)| *a == s.id).count() <= 1);
            let src_max = if once { "1" } else { "0" };
            interaction = format!(
                "<qti-match-interaction response-identifier=\"RESPONSE\" shuffle=\"{shuffle}\" max-associations=\"{}\"><qti-simple-match-set>{}</qti-simple-match-set><qti-simple-match-set>{}</qti-simple-match-set></qti-match-interaction>",
                correct.len(),
                choice_xml("qti-simple-associable-choice", &qs, sources, &|_| format!(
                    " match-max=\"{src_max}\""
                )),
                choice_xml("qti-simple-associable-choice", &qt, targets, &|_| {
                    " match-max=\"0\"".to_string()
                })
            );
        }
        Interaction::TextEntry { blanks } => {
            let rids: Vec<String> = if blanks.len() == 1 {
                vec!["RESPONSE".into()]
            } else {
                (1..=blanks.len())
                    .map(|k| format!("RESPONSE_{k}"))
                    .collect()
            };
            for (b, r) in blanks.iter().zip(&rids) {
                if b.id != *r {
                    ids.push((r.clone(), b.id.clone()));
                }
            }
            let n = blanks.len().max(1) as f64;
            let each = if blanks.len() == 1 {
                points
            } else if c.scoring == Scoring::Partial {
                points / n
            } else {
                1.0
            };
            for (b, r) in blanks.iter().zip(&rids) {
                let mut d = format!(
                    "<qti-response-declaration identifier=\"{r}\" cardinality=\"single\" base-type=\"string\">"
                );
                if let Some(first) = b.accepted.first() {
                    d.push_str(&format!(
                        "<qti-correct-response><qti-value>{}</qti-value></qti-correct-response>",
                        esc(first)
                    ));
                }
                d.push_str(&format!(
                    "<qti-mapping lower-bound=\"0\" upper-bound=\"{}\" default-value=\"0\">",
                    num(each)
                ));
                for a in &b.accepted {
                    d.push_str(&format!(
                        "<qti-map-entry map-key=\"{}\" mapped-value=\"{}\" case-sensitive=\"{}\"/>",
                        attr(a),
                        num(each),
                        b.case_sensitive
                    ));
                }
                d.push_str("</qti-mapping></qti-response-declaration>");
                decls.push_str(&d);
            }
            rp = if blanks.len() == 1 {
                format!("<qti-response-processing template=\"{MAP_RESPONSE}\"/>")
            } else if c.scoring == Scoring::Partial {
                let mut s = String::from(
                    "<qti-response-processing><qti-set-outcome-value identifier=\"SCORE\"><qti-sum>",
                );
                for r in &rids {
                    s.push_str(&format!("<qti-map-response identifier=\"{r}\"/>"));
                }
                s.push_str("</qti-sum></qti-set-outcome-value></qti-response-processing>");
                s
            } else {
                let mut cond = String::from("<qti-and>");
                for r in &rids {
                    cond.push_str(&format!(
                        "<qti-gte><qti-map-response identifier=\"{r}\"/><qti-base-value base-type=\"float\">1</qti-base-value></qti-gte>"
                    ));
                }
                cond.push_str("</qti-and>");
                if_else(&cond, points)
            };
            let (stem_x, placed) = place_blanks(&inline(&c.stem, &src), &rids);
            marks = placed.clone();
            let mut s = format!("<div class=\"xcert-text\">{stem_x}</div>");
            if placed.len() < rids.len() {
                s.push_str("<div class=\"xcert-blanks\">");
                for r in &rids[placed.len()..] {
                    s.push_str(&format!(
                        "<p><qti-text-entry-interaction response-identifier=\"{r}\"/></p>"
                    ));
                }
                s.push_str("</div>");
            }
            blank_xml_stem = Some(s);
        }
        Interaction::ExtendedText {
            expected_length,
            guide,
        } => {
            decls = "<qti-response-declaration identifier=\"RESPONSE\" cardinality=\"single\" base-type=\"string\"/>".into();
            interaction = format!(
                "<qti-extended-text-interaction response-identifier=\"RESPONSE\"{}/>",
                expected_length
                    .map(|l| format!(" expected-length=\"{l}\""))
                    .unwrap_or_default()
            );
            if let Some(g) = guide {
                rubric.push_str(&format!(
                    "<qti-rubric-block use=\"scoring\" view=\"scorer\"><qti-content-body>{}</qti-content-body></qti-rubric-block>",
                    text_block(g, &src)
                ));
            }
        }
        Interaction::Practical { scale } => {
            decls = "<qti-response-declaration identifier=\"RESPONSE\" cardinality=\"single\" base-type=\"string\"/>".into();
            interaction =
                "<qti-extended-text-interaction response-identifier=\"RESPONSE\"/>".into();
            rubric.push_str(&format!(
                "<qti-rubric-block use=\"scoring\" view=\"scorer\"><qti-content-body>{}</qti-content-body></qti-rubric-block>",
                scale_table(scale)
            ));
        }
    }
    if let Some(e) = &c.explanation {
        rubric.push_str(&format!(
            "<qti-rubric-block use=\"ext:xcert-explanation\" view=\"tutor\"><qti-content-body>{}</qti-content-body></qti-rubric-block>",
            text_block(e, &src)
        ));
    }
    let stem_xml = blank_xml_stem.unwrap_or_else(|| text_block(&c.stem, &src));
    let mut html_parts: Vec<&str> = vec![&c.stem];
    if let Some(e) = &c.explanation {
        html_parts.push(e);
    }
    match &c.interaction {
        Interaction::Choice { choices, .. } | Interaction::Order { choices, .. } => {
            html_parts.extend(choices.iter().map(|x| x.text.as_str()))
        }
        Interaction::Match {
            sources, targets, ..
        } => html_parts.extend(sources.iter().chain(targets).map(|x| x.text.as_str())),
        Interaction::ExtendedText { guide: Some(g), .. } => html_parts.push(g),
        _ => {}
    }
    for h in html_parts {
        for p in markup::image_paths(h) {
            if !images.contains(&p) {
                images.push(p);
            }
        }
    }
    let title = {
        let t: String = markup::plain_text(&c.stem)
            .replace('\n', " ")
            .chars()
            .take(60)
            .collect();
        if t.trim().is_empty() {
            m.ident.clone()
        } else {
            t
        }
    };
    let outcomes = format!(
        "<qti-outcome-declaration identifier=\"SCORE\" cardinality=\"single\" base-type=\"float\" normal-maximum=\"{p}\"><qti-default-value><qti-value>0</qti-value></qti-default-value></qti-outcome-declaration><qti-outcome-declaration identifier=\"MAXSCORE\" cardinality=\"single\" base-type=\"float\"><qti-default-value><qti-value>{p}</qti-value></qti-default-value></qti-outcome-declaration>",
        p = num(points)
    );
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<qti-assessment-item xmlns=\"{NS}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"{NS} https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd\" identifier=\"{qti_id}\" title=\"{}\" adaptive=\"false\" time-dependent=\"false\" xml:lang=\"zh-CN\" tool-name=\"xcert\">\n{decls}\n{outcomes}\n<qti-item-body>{rubric}{stem_xml}{interaction}</qti-item-body>\n{rp}\n</qti-assessment-item>\n",
        attr(&title)
    );
    // The resource's LOM, with xcert's extension inside.
    let mut lom = String::from("<imsmd:lom><imsmd:general>");
    lom.push_str(&format!(
        "<imsmd:identifier><imsmd:catalog>xcert</imsmd:catalog><imsmd:entry>{}</imsmd:entry></imsmd:identifier>",
        esc(&m.ident)
    ));
    lom.push_str(&format!(
        "<imsmd:title><imsmd:string language=\"zh-CN\">{}</imsmd:string></imsmd:title>",
        esc(&title)
    ));
    for r in &m.requirements {
        lom.push_str(&format!(
            "<imsmd:keyword><imsmd:string>{}</imsmd:string></imsmd:keyword>",
            esc(r)
        ));
    }
    lom.push_str("</imsmd:general>");
    if let Some(a) = &m.author {
        lom.push_str(&format!(
            "<imsmd:lifeCycle><imsmd:contribute><imsmd:role><imsmd:source>LOMv1.0</imsmd:source><imsmd:value>author</imsmd:value></imsmd:role><imsmd:entity>{}</imsmd:entity></imsmd:contribute></imsmd:lifeCycle>",
            esc(&format!(
                "BEGIN:VCARD\nVERSION:3.0\nFN:{}\nEND:VCARD",
                a.replace('\n', " ")
            ))
        ));
    }
    lom.push_str("<imsmd:technical><imsmd:format>text/x-imsqti-item-xml</imsmd:format>");
    for p in &images {
        if let Some(mt) = crate::interchange::image_mime(p) {
            lom.push_str(&format!("<imsmd:format>{mt}</imsmd:format>"));
        }
    }
    lom.push_str("</imsmd:technical>");
    if m.difficulty.is_some() || m.time_seconds.is_some() {
        lom.push_str("<imsmd:educational>");
        if let Some(d) = m.difficulty {
            let v = match d.round() as i64 {
                i64::MIN..=1 => "very easy",
                2 => "easy",
                3 => "medium",
                4 => "difficult",
                _ => "very difficult",
            };
            lom.push_str(&format!(
                "<imsmd:difficulty><imsmd:source>LOMv1.0</imsmd:source><imsmd:value>{v}</imsmd:value></imsmd:difficulty>"
            ));
        }
        if let Some(t) = m.time_seconds {
            lom.push_str(&format!(
                "<imsmd:typicalLearningTime><imsmd:duration>PT{t}S</imsmd:duration></imsmd:typicalLearningTime>"
            ));
        }
        lom.push_str("</imsmd:educational>");
    }
    if !m.requirements.is_empty() {
        lom.push_str("<imsmd:classification><imsmd:purpose><imsmd:source>LOMv1.0</imsmd:source><imsmd:value>competency</imsmd:value></imsmd:purpose><imsmd:taxonPath><imsmd:source><imsmd:string language=\"zh-CN\">职业技能要求 skill requirements</imsmd:string></imsmd:source>");
        for r in &m.requirements {
            lom.push_str(&format!(
                "<imsmd:taxon><imsmd:id>{}</imsmd:id></imsmd:taxon>",
                esc(r)
            ));
        }
        lom.push_str("</imsmd:taxonPath></imsmd:classification>");
    }
    let mut ext = format!(
        "<xc:item xmlns:xc=\"{XCERT_QTI_NS}\" ident=\"{}\" kind=\"{}\" scoring=\"{}\"",
        attr(&m.ident),
        c.kind.as_str(),
        match c.scoring {
            Scoring::Partial => "partial",
            Scoring::AllOrNothing => "all_or_nothing",
        }
    );
    if let Some(l) = m.level {
        ext.push_str(&format!(" level=\"{}\"", l.as_str()));
    }
    if let Some(d) = m.difficulty {
        ext.push_str(&format!(" difficulty=\"{d}\""));
    }
    for (k, v) in [
        ("enemy-group", &m.enemy_group),
        ("testlet", &m.testlet),
        ("author", &m.author),
    ] {
        if let Some(v) = v {
            ext.push_str(&format!(" {k}=\"{}\"", attr(v)));
        }
    }
    if let Some(t) = m.time_seconds {
        ext.push_str(&format!(" time-seconds=\"{t}\""));
    }
    if !marks.is_empty() {
        let ms: Vec<String> = marks.iter().map(|n| n.to_string()).collect();
        ext.push_str(&format!(" marks=\"{}\"", ms.join(",")));
    }
    ext.push('>');
    for r in &m.requirements {
        ext.push_str(&format!("<xc:requirement code=\"{}\"/>", attr(r)));
    }
    for (q, x) in &ids {
        ext.push_str(&format!(
            "<xc:id qti=\"{}\" xcert=\"{}\"/>",
            attr(q),
            attr(x)
        ));
    }
    if let Interaction::Practical { scale } = &c.interaction {
        ext.push_str("<xc:scale>");
        for cr in &scale.criteria {
            ext.push_str(&format!(
                "<xc:criterion id=\"{}\" text=\"{}\" points=\"{}\" critical=\"{}\">",
                attr(&cr.id),
                attr(&cr.text),
                cr.points,
                cr.critical
            ));
            for d in &cr.descriptors {
                ext.push_str(&format!(
                    "<xc:descriptor points=\"{}\" text=\"{}\"/>",
                    d.points,
                    attr(&d.text)
                ));
            }
            ext.push_str("</xc:criterion>");
        }
        ext.push_str("</xc:scale>");
    }
    ext.push_str("</xc:item>");
    lom.push_str(&ext);
    lom.push_str("</imsmd:lom>");
    let _ = index;
    ItemFile {
        href: href.to_string(),
        xml,
        images,
        lom,
    }
}

fn build(items: &[Item], media: &[MediaFile]) -> zip::result::ZipResult<Vec<u8>> {
    let mut used_files: Vec<String> = Vec::new();
    let mut used_ids: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ident = &item.meta.ident;
        let safe = !ident.is_empty()
            && ident
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        let stem = if safe {
            ident.clone()
        } else {
            format!("item-{:04}", i + 1)
        };
        let mut name = format!("items/{stem}.xml");
        let mut n = 2;
        while used_files.contains(&name.to_ascii_lowercase()) {
            name = format!("items/{stem}-{n}.xml");
            n += 1;
        }
        used_files.push(name.to_ascii_lowercase());
        let base = ncname(ident);
        let mut qid = base.clone();
        let mut n = 2;
        while used_ids.contains(&qid) {
            qid = format!("{base}_{n}");
            n += 1;
        }
        used_ids.push(qid.clone());
        files.push(item_file(item, i, &qid, &name));
    }
    let mut manifest = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest xmlns=\"{CP_NS}\" xmlns:imsmd=\"{LOM_NS}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" identifier=\"MANIFEST-xcert\" xsi:schemaLocation=\"{CP_NS} https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd {LOM_NS} https://purl.imsglobal.org/spec/md/v1p3/schema/xsd/imsmd_loose_v1p3p2.xsd\">\n<metadata><schema>QTI Package</schema><schemaversion>3.0.0</schemaversion></metadata>\n<organizations/>\n<resources>\n"
    );
    for (i, f) in files.iter().enumerate() {
        manifest.push_str(&format!(
            "<resource identifier=\"RES-{:04}\" type=\"imsqti_item_xmlv3p0\" href=\"{}\"><metadata>{}</metadata><file href=\"{}\"/>",
            i + 1,
            attr(&f.href),
            f.lom,
            attr(&f.href)
        ));
        for img in &f.images {
            if media.iter().any(|m| m.path == *img) {
                manifest.push_str(&format!("<file href=\"{}\"/>", attr(img)));
            }
        }
        if !media.is_empty() {
            manifest.push_str("<dependency identifierref=\"MEDIA\"/>");
        }
        manifest.push_str("</resource>\n");
    }
    if !media.is_empty() {
        manifest.push_str("<resource identifier=\"MEDIA\" type=\"webcontent\">");
        for m in media {
            manifest.push_str(&format!("<file href=\"{}\"/>", attr(&m.path)));
        }
        manifest.push_str("</resource>\n");
    }
    manifest.push_str("</resources>\n</manifest>\n");

    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zw.start_file("imsmanifest.xml", opts)?;
    zw.write_all(manifest.as_bytes())?;
    for f in &files {
        zw.start_file(f.href.as_str(), opts)?;
        zw.write_all(f.xml.as_bytes())?;
    }
    let mut written: Vec<&str> = Vec::new();
    for m in media {
        if written.contains(&m.path.as_str()) || used_files.contains(&m.path.to_ascii_lowercase()) {
            continue;
        }
        written.push(&m.path);
        zw.start_file(m.path.as_str(), opts)?;
        zw.write_all(&m.bytes)?;
    }
    Ok(zw.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_become_ncnames() {
        assert_eq!(ncname("A"), "A");
        assert_eq!(ncname("1"), "_1");
        assert_eq!(ncname("电工-001"), "电工-001");
        assert_eq!(ncname("a b:c"), "a_b_c");
    }

    #[test]
    fn underscores_become_blanks() {
        let (x, marks) = place_blanks(
            "电流的单位是____，电压<b>______</b>",
            &["R1".into(), "R2".into()],
        );
        assert_eq!(marks, vec![4, 6]);
        assert!(x.contains("<qti-text-entry-interaction response-identifier=\"R1\"/>，电压<b><qti-text-entry-interaction response-identifier=\"R2\"/></b>"), "{x}");
    }
}
