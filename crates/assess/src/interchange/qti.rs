//! 1EdTech QTI content packages, versions 2.1, 2.2 and 3.0, into items.
//!
//! The manifest (`imsmanifest.xml`) is walked for item resources (`imsqti_item_xmlv2p1`,
//! `…v2p2`, `imsqti_item_xmlv3p0` and the APIP variants); a package without one is
//! scanned for item files, with a warning. QTI 3 spells elements `qti-choice-interaction`
//! and attributes `response-identifier`; QTI 2.x spells them `choiceInteraction` and
//! `responseIdentifier`. Both are read through one canonical kebab-case spelling, while
//! problems quote the element path as it is written in the file.
//!
//! Supported: choice (single, multiple, true/false), text entry (one or more blanks),
//! extended text, match (two simple match sets, directed pairs) and order interactions,
//! plus xcert's own extension (see [`super::XCERT_QTI_NS`]) that carries the bank's
//! metadata and practical tasks. Everything else is reported by element.

use std::path::Path;

use crate::interchange::package::{DirPackage, PackageFiles, ZipPackage};
use crate::interchange::xml::{self, Element, Node, Visit, children_html, esc};
use crate::interchange::{
    ImportReport, MAX_ITEMS, MediaFile, PathRefusal, Problem, dir_of, field_words, image_mime,
    join_base, media_refs, resolve_path,
};
use crate::item::{
    Blank, Choice, Criterion, Descriptor, Interaction, Item, ItemContent, ItemKind, ItemMeta,
    ObservationScale, Scoring, is_outline_code,
};
use crate::markup;
use xcert_domain::framework::Level;

use super::XCERT_QTI_NS;

/// Import a zipped content package. `name` is how problems name the upload.
pub fn import_qti_zip(name: &str, bytes: &[u8]) -> ImportReport {
    match ZipPackage::open(name, bytes) {
        Ok(p) => import_qti(&p),
        Err(problem) => ImportReport {
            problems: vec![*problem],
            ..Default::default()
        },
    }
}

/// Import an unpacked content package from a directory.
pub fn import_qti_dir(dir: &Path) -> ImportReport {
    match DirPackage::open(dir) {
        Ok(p) => import_qti(&p),
        Err(problem) => ImportReport {
            problems: vec![*problem],
            ..Default::default()
        },
    }
}

/// Import the items of a content package.
pub fn import_qti(files: &dyn PackageFiles) -> ImportReport {
    let mut report = ImportReport {
        problems: files.problems(),
        ..Default::default()
    };
    let paths = files.paths();
    let manifest = paths
        .iter()
        .filter(|p| {
            p.rsplit('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("imsmanifest.xml"))
        })
        .min_by_key(|p| (p.matches('/').count(), p.len()))
        .cloned();
    let mut done: Vec<String> = Vec::new();
    match manifest {
        Some(m) => {
            if !walk_manifest(files, &m, &mut report, &mut done) {
                scan(files, &paths, &mut report, &mut done);
            }
        }
        None => {
            report.problems.push(Problem::warning(
                "",
                "",
                "no_manifest",
                "the package has no imsmanifest.xml; item files were found by scanning, without package metadata",
                "包中没有 imsmanifest.xml，已扫描查找题目文件（没有包元数据）",
            ));
            scan(files, &paths, &mut report, &mut done);
        }
    }
    if report.items.is_empty() && !report.problems.iter().any(|p| p.is_error()) {
        report.problems.push(Problem::warning(
            "",
            "",
            "no_items",
            "the package holds no assessment items",
            "包中没有题目",
        ));
    }
    report
}

fn scan(
    files: &dyn PackageFiles,
    paths: &[String],
    report: &mut ImportReport,
    done: &mut Vec<String>,
) {
    for p in paths {
        if !p.to_ascii_lowercase().ends_with(".xml") || done.contains(p) {
            continue;
        }
        if p.rsplit('/')
            .next()
            .is_some_and(|n| n.eq_ignore_ascii_case("imsmanifest.xml"))
        {
            continue;
        }
        let Ok(bytes) = files.read(p) else { continue };
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
        if !(head.contains("assessmentItem") || head.contains("qti-assessment-item")) {
            continue;
        }
        done.push(p.clone());
        read_item(files, p, bytes, &ResourceMeta::default(), report);
        if report.items.len() >= MAX_ITEMS {
            break;
        }
    }
}

/// Metadata a manifest gives for one item resource.
#[derive(Default, Debug)]
struct ResourceMeta {
    ident: Option<String>,
    requirements: Vec<String>,
    difficulty: Option<f64>,
    time_seconds: Option<u32>,
    author: Option<String>,
    ext: Option<Element>,
}

/// Returns false when the manifest could not be read (the caller scans instead).
fn walk_manifest(
    files: &dyn PackageFiles,
    manifest: &str,
    report: &mut ImportReport,
    done: &mut Vec<String>,
) -> bool {
    let root = match files
        .read(manifest)
        .map_err(|e| (e.en(manifest), e.zh(manifest), String::new()))
        .and_then(|b| xml::decode(&b).map_err(|e| (e.en.clone(), e.zh.clone(), e.location())))
        .and_then(|t| xml::parse(&t).map_err(|e| (e.en.clone(), e.zh.clone(), e.location())))
    {
        Ok(r) => r,
        Err((en, zh, loc)) => {
            report.problems.push(Problem::error(
                manifest,
                loc,
                "bad_manifest",
                format!("{en}; item files were found by scanning instead"),
                format!("{zh}；已改为扫描查找题目文件"),
            ));
            return false;
        }
    };
    if root.name != "manifest" {
        report.problems.push(Problem::error(
            manifest,
            root.at(),
            "bad_manifest",
            format!(
                "the root element is <{}>, not <manifest>; item files were found by scanning instead",
                root.name
            ),
            format!("根元素是 <{}> 而不是 <manifest>；已改为扫描查找题目文件", root.name),
        ));
        return false;
    }
    let refuse = |report: &mut ImportReport, e: &Element, r: PathRefusal, v: &str| {
        report.problems.push(Problem::error(
            manifest,
            e.at(),
            "refused_path",
            r.en(v),
            r.zh(v),
        ));
    };
    let mdir = dir_of(manifest);
    let base = match join_base(&mdir, root.attr("xml:base")) {
        Ok(b) => b,
        Err(r) => {
            refuse(report, &root, r, root.attr("xml:base").unwrap_or(""));
            return true;
        }
    };
    let mut found_items = 0;
    for resources in root.children_named(&["resources"]) {
        let rbase = match join_base(&base, resources.attr("xml:base")) {
            Ok(b) => b,
            Err(r) => {
                refuse(
                    report,
                    resources,
                    r,
                    resources.attr("xml:base").unwrap_or(""),
                );
                continue;
            }
        };
        for res in resources.children_named(&["resource"]) {
            let ty = res.attr("type").unwrap_or("").to_ascii_lowercase();
            if !(ty.starts_with("imsqti_item_xml") || ty.starts_with("imsqti_apipitem_xml")) {
                continue;
            }
            found_items += 1;
            if report.items.len() >= MAX_ITEMS {
                report.problems.push(Problem::error(
                    manifest,
                    res.at(),
                    "too_many_items",
                    format!("more than {MAX_ITEMS} items; the rest are left out"),
                    format!("题目超过 {MAX_ITEMS} 道，其余未导入"),
                ));
                return true;
            }
            let rid = res.attr("identifier").unwrap_or("").to_string();
            let resbase = match join_base(&rbase, res.attr("xml:base")) {
                Ok(b) => b,
                Err(r) => {
                    refuse(report, res, r, res.attr("xml:base").unwrap_or(""));
                    continue;
                }
            };
            let href = res.attr("href").map(str::to_string).or_else(|| {
                res.children_named(&["file"])
                    .filter_map(|f| f.attr("href"))
                    .find(|h| h.to_ascii_lowercase().ends_with(".xml"))
                    .map(str::to_string)
            });
            let Some(href) = href else {
                report.problems.push(Problem::error(
                    manifest,
                    res.at(),
                    "missing_href",
                    format!("the item resource \"{rid}\" names no file (no href)"),
                    format!("题目资源“{rid}”没有指明文件（缺少 href）"),
                ));
                continue;
            };
            let path = match resolve_path(&resbase, &href) {
                Ok(p) => p,
                Err(r) => {
                    refuse(report, res, r, &href);
                    continue;
                }
            };
            if done.contains(&path) {
                continue;
            }
            let bytes = match files.read(&path) {
                Ok(b) => b,
                Err(e) => {
                    report.problems.push(Problem::error(
                        manifest,
                        res.at(),
                        "missing_file",
                        format!("the item resource \"{rid}\": {}", e.en(&path)),
                        format!("题目资源“{rid}”：{}", e.zh(&path)),
                    ));
                    continue;
                }
            };
            done.push(path.clone());
            let meta = res
                .child(&["metadata"])
                .map(resource_meta)
                .unwrap_or_default();
            read_item(files, &path, bytes, &meta, report);
        }
    }
    if found_items == 0 {
        report.problems.push(Problem::warning(
            manifest,
            root.at(),
            "no_item_resources",
            "the manifest lists no item resources (type imsqti_item_xmlv2p1, v2p2 or v3p0)",
            "清单中没有题目资源（类型 imsqti_item_xmlv2p1、v2p2 或 v3p0）",
        ));
    }
    true
}

fn parse_duration(s: &str) -> Option<u32> {
    // ISO 8601 durations as LOM writes them: PT1H2M30S, PT90S, P1D.
    let s = s.trim().strip_prefix('P')?;
    let (days, time) = match s.split_once('T') {
        Some((d, t)) => (d, t),
        None => (s, ""),
    };
    let mut total = 0f64;
    let mut num = String::new();
    for c in days.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
        } else {
            let v: f64 = num.parse().ok()?;
            total += v * match c {
                'D' => 86400.0,
                'W' => 604800.0,
                _ => return None,
            };
            num.clear();
        }
    }
    for c in time.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
        } else {
            let v: f64 = num.parse().ok()?;
            total += v * match c {
                'H' => 3600.0,
                'M' => 60.0,
                'S' => 1.0,
                _ => return None,
            };
            num.clear();
        }
    }
    (total.is_finite() && total >= 0.0 && total < u32::MAX as f64).then(|| total.round() as u32)
}

fn resource_meta(md: &Element) -> ResourceMeta {
    let mut m = ResourceMeta::default();
    let Some(lom) = md.child(&["lom"]) else {
        return m;
    };
    let path_text = |e: &Element, names: &[&str]| -> Option<String> {
        let mut cur = e;
        for n in names {
            cur = cur.child(&[n])?;
        }
        let t = cur.text().trim().to_string();
        (!t.is_empty()).then_some(t)
    };
    if let Some(g) = lom.child(&["general"]) {
        m.ident = g
            .children_named(&["identifier"])
            .find_map(|i| path_text(i, &["entry"]).or_else(|| path_text(i, &[])));
        for k in g.children_named(&["keyword"]) {
            for part in k.text().split([',', ';', '，', '；', '\n']) {
                let p = part.trim();
                if is_outline_code(p) && !m.requirements.iter().any(|r| r == p) {
                    m.requirements.push(p.to_string());
                }
            }
        }
    }
    if let Some(ed) = lom.child(&["educational"]) {
        m.difficulty = path_text(ed, &["difficulty", "value"]).and_then(|v| {
            match v.to_ascii_lowercase().as_str() {
                "very easy" => Some(1.0),
                "easy" => Some(2.0),
                "medium" => Some(3.0),
                "difficult" => Some(4.0),
                "very difficult" => Some(5.0),
                _ => None,
            }
        });
        m.time_seconds = ed.child(&["typicalLearningTime"]).and_then(|t| {
            t.child(&["duration"])
                .map(|d| d.text())
                .or_else(|| Some(t.text()))
                .and_then(|d| parse_duration(&d))
        });
    }
    if let Some(lc) = lom.child(&["lifeCycle"]) {
        for c in lc.children_named(&["contribute"]) {
            let role = path_text(c, &["role", "value"]).unwrap_or_default();
            if !role.eq_ignore_ascii_case("author") {
                continue;
            }
            if let Some(ent) = path_text(c, &["entity"]) {
                let fname = ent
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("FN:"))
                    .map(|s| s.trim().to_string())
                    .unwrap_or(ent);
                m.author = Some(fname);
                break;
            }
        }
    }
    for cl in lom.children_named(&["classification"]) {
        for tp in cl.children_named(&["taxonPath"]) {
            for tx in tp.children_named(&["taxon"]) {
                if let Some(id) = path_text(tx, &["id"])
                    && is_outline_code(&id)
                    && !m.requirements.contains(&id)
                {
                    m.requirements.push(id);
                }
            }
        }
    }
    m.ext = lom
        .elements()
        .find(|e| e.ns == XCERT_QTI_NS && e.name == "item")
        .cloned();
    m
}

/// camelCase or `qti-` kebab-case to the canonical kebab-case without the prefix.
fn canonical(name: &str) -> String {
    let n = name.strip_prefix("qti-").unwrap_or(name);
    let mut out = String::with_capacity(n.len() + 4);
    for (i, c) in n.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_qti_ns(ns: &str) -> bool {
    ns.contains("imsqti") || ns.is_empty()
}

/// Rename QTI elements and attributes to the canonical spelling, in place.
fn canonicalize(e: &mut Element) {
    if is_qti_ns(&e.ns) {
        e.name = canonical(&e.name);
        for (k, _) in e.attrs.iter_mut() {
            if !k.contains(':') && k != "xmlns" {
                *k = canonical(k);
            }
        }
    }
    for c in e.children.iter_mut() {
        if let Node::Element(c) = c {
            canonicalize(c);
        }
    }
}

/// QTI version from the root's namespace, for messages.
fn version(root: &Element) -> &'static str {
    if root.ns.contains("v3p0") {
        "3.0"
    } else if root.ns.contains("v2p2") {
        "2.2"
    } else if root.ns.contains("v2p1") {
        "2.1"
    } else if root.ns.contains("v2p0") {
        "2.0"
    } else {
        "unknown"
    }
}

struct Mapping {
    lower: Option<f64>,
    upper: Option<f64>,
    /// (key, mapped value, case sensitive)
    entries: Vec<(String, f64, Option<bool>)>,
}

struct Decl<'a> {
    el: &'a Element,
    identifier: String,
    cardinality: String,
    base_type: String,
    correct: Vec<String>,
    mapping: Option<Mapping>,
}

fn num(s: Option<&str>) -> Option<f64> {
    s.and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn decls(root: &Element) -> Vec<Decl<'_>> {
    root.children_named(&["response-declaration"])
        .map(|d| {
            let correct = d
                .child(&["correct-response"])
                .map(|c| {
                    c.children_named(&["value"])
                        .map(|v| v.text().trim().to_string())
                        .collect()
                })
                .unwrap_or_default();
            let mapping = d.child(&["mapping"]).map(|m| Mapping {
                lower: num(m.attr("lower-bound")),
                upper: num(m.attr("upper-bound")),
                entries: m
                    .children_named(&["map-entry"])
                    .filter_map(|e| {
                        Some((
                            e.attr("map-key")?.trim().to_string(),
                            num(e.attr("mapped-value"))?,
                            e.attr("case-sensitive").map(|v| v.trim() == "true"),
                        ))
                    })
                    .collect(),
            });
            Decl {
                el: d,
                identifier: d.attr("identifier").unwrap_or("").to_string(),
                cardinality: d.attr("cardinality").unwrap_or("single").to_string(),
                base_type: d.attr("base-type").unwrap_or("").to_string(),
                correct,
                mapping,
            }
        })
        .collect()
}

const SUPPORTED: &[&str] = &[
    "choice-interaction",
    "text-entry-interaction",
    "extended-text-interaction",
    "match-interaction",
    "order-interaction",
];

fn is_interaction(name: &str) -> bool {
    name.ends_with("-interaction") || name == "custom-interaction"
}

/// The xcert extension element, read.
#[derive(Default)]
struct Ext {
    ident: Option<String>,
    kind: Option<ItemKind>,
    scoring: Option<Scoring>,
    level: Option<Level>,
    difficulty: Option<f64>,
    enemy_group: Option<String>,
    testlet: Option<String>,
    author: Option<String>,
    time_seconds: Option<u32>,
    requirements: Option<Vec<String>>,
    /// QTI identifier → xcert identifier, where they differ.
    ids: Vec<(String, String)>,
    scale: Option<ObservationScale>,
    marks: Vec<usize>,
}

fn read_ext(e: &Element) -> Ext {
    let s = |n: &str| e.attr(n).map(str::to_string).filter(|v| !v.is_empty());
    let reqs: Vec<String> = e
        .children_named(&["requirement"])
        .filter_map(|r| r.attr("code").map(str::to_string))
        .collect();
    let scale = e.child(&["scale"]).map(|sc| ObservationScale {
        criteria: sc
            .children_named(&["criterion"])
            .map(|c| Criterion {
                id: c.attr("id").unwrap_or("").to_string(),
                text: c.attr("text").unwrap_or("").to_string(),
                points: num(c.attr("points")).unwrap_or(0.0),
                critical: c.attr("critical") == Some("true"),
                descriptors: c
                    .children_named(&["descriptor"])
                    .map(|d| Descriptor {
                        points: num(d.attr("points")).unwrap_or(0.0),
                        text: d.attr("text").unwrap_or("").to_string(),
                    })
                    .collect(),
            })
            .collect(),
    });
    Ext {
        ident: s("ident"),
        kind: s("kind").and_then(|k| ItemKind::parse("kind", &k).ok()),
        scoring: s("scoring").map(|v| {
            if v == "partial" {
                Scoring::Partial
            } else {
                Scoring::AllOrNothing
            }
        }),
        level: s("level").and_then(|l| Level::parse("level", &l).ok()),
        difficulty: num(e.attr("difficulty")),
        enemy_group: s("enemy-group"),
        testlet: s("testlet"),
        author: s("author"),
        time_seconds: e.attr("time-seconds").and_then(|t| t.trim().parse().ok()),
        requirements: e.attr("ident").map(|_| reqs),
        ids: e
            .children_named(&["id"])
            .filter_map(|i| Some((i.attr("qti")?.to_string(), i.attr("xcert")?.to_string())))
            .collect(),
        scale,
        marks: e
            .attr("marks")
            .map(|m| m.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_default(),
    }
}

/// Walks an item body into the stem's HTML, bringing images along.
struct Body<'a> {
    files: &'a dyn PackageFiles,
    file: &'a str,
    dir: String,
    /// The interaction whose prompt replaces it in the stem.
    main: Option<*const Element>,
    /// Underscore counts of the blanks, in order (from xcert's extension), else four.
    marks: Vec<usize>,
    blanks_seen: usize,
    problems: Vec<Problem>,
    media: Vec<MediaFile>,
    warned_math: bool,
    warned_feedback: bool,
    warned_object: bool,
}

impl Body<'_> {
    fn html(&mut self, e: &Element) -> String {
        children_html(e, &mut |c| self.visit(c))
    }

    fn image(&mut self, e: &Element, src: &str) -> Option<String> {
        let path = match resolve_path(&self.dir, src) {
            Ok(p) => p,
            Err(r) => {
                self.problems.push(Problem::error(
                    self.file,
                    e.at(),
                    "refused_path",
                    r.en(src),
                    r.zh(src),
                ));
                return None;
            }
        };
        let Some(mime) = image_mime(&path) else {
            self.problems.push(Problem::warning(
                self.file,
                e.at(),
                "unsupported_media",
                format!("\"{src}\" is not an image type stems can show (png, jpeg, gif, svg, webp, bmp); it is left out"),
                format!("“{src}”不是题干可显示的图片类型（png、jpeg、gif、svg、webp、bmp），已略去"),
            ));
            return None;
        };
        match self.files.read(&path) {
            Ok(bytes) => {
                if !self.media.iter().any(|m| m.path == path) {
                    self.media.push(MediaFile {
                        path: path.clone(),
                        mime: mime.into(),
                        bytes,
                    });
                }
                Some(path)
            }
            Err(err) => {
                self.problems.push(Problem::error(
                    self.file,
                    e.at(),
                    "missing_media",
                    format!("the image {}", err.en(&path)),
                    format!("图片：{}", err.zh(&path)),
                ));
                None
            }
        }
    }

    fn visit(&mut self, e: &Element) -> Visit {
        if self.main.is_some_and(|m| std::ptr::eq(m, e)) {
            return match e.child(&["prompt"]) {
                Some(p) => {
                    let inner = self.html(p);
                    let block = p.elements().any(|c| {
                        matches!(
                            c.name.as_str(),
                            "p" | "div" | "table" | "ul" | "ol" | "blockquote" | "pre"
                        )
                    });
                    Visit::Replace(if block {
                        format!("<div>{inner}</div>")
                    } else {
                        format!("<p>{inner}</p>")
                    })
                }
                None => Visit::Drop,
            };
        }
        match e.name.as_str() {
            "text-entry-interaction" => {
                let n = self
                    .marks
                    .get(self.blanks_seen)
                    .copied()
                    .unwrap_or(4)
                    .clamp(3, 200);
                self.blanks_seen += 1;
                Visit::Replace("_".repeat(n))
            }
            "div" if e.attr("class") == Some("xcert-blanks") => Visit::Drop,
            "div" if e.attr("class") == Some("xcert-text") => Visit::Unwrap,
            "rubric-block" => {
                let view = e.attr("view").unwrap_or("");
                if view.split_whitespace().any(|v| v == "candidate") {
                    Visit::Unwrap
                } else {
                    Visit::Drop
                }
            }
            "content-body" => Visit::Unwrap,
            "feedback-inline" | "feedback-block" | "modal-feedback" => {
                if !self.warned_feedback {
                    self.warned_feedback = true;
                    self.problems.push(Problem::warning(
                        self.file,
                        e.at(),
                        "feedback_dropped",
                        "feedback shown to candidates is not imported",
                        "给考生的反馈内容未导入",
                    ));
                }
                Visit::Drop
            }
            "template-block" | "template-inline" | "printed-variable" | "stylesheet"
            | "catalog-info" => Visit::Drop,
            "math" => {
                if !self.warned_math {
                    self.warned_math = true;
                    self.problems.push(Problem::warning(
                        self.file,
                        e.at(),
                        "math_as_text",
                        "MathML is kept as plain text",
                        "MathML 公式仅保留为纯文本",
                    ));
                }
                Visit::Keep
            }
            "img" => {
                let Some(src) = e.attr("src") else {
                    return Visit::Drop;
                };
                match self.image(e, src) {
                    Some(path) => {
                        let mut h = format!("<img src=\"{}\"", esc(&path));
                        for a in ["alt", "width", "height"] {
                            if let Some(v) = e.attr(a) {
                                h.push_str(&format!(" {a}=\"{}\"", esc(v)));
                            }
                        }
                        h.push('>');
                        Visit::Replace(h)
                    }
                    None => Visit::Drop,
                }
            }
            "object" => {
                let data = e.attr("data").unwrap_or("");
                let ty = e.attr("type").unwrap_or("");
                if ty.starts_with("image/") || image_mime(data).is_some() {
                    match self.image(e, data) {
                        Some(path) => Visit::Replace(format!(
                            "<img src=\"{}\" alt=\"{}\">",
                            esc(&path),
                            esc(e.text().trim())
                        )),
                        None => Visit::Drop,
                    }
                } else {
                    if !self.warned_object {
                        self.warned_object = true;
                        self.problems.push(Problem::warning(
                            self.file,
                            e.at(),
                            "unsupported_media",
                            format!("the embedded object \"{data}\" ({ty}) is not an image and is left out"),
                            format!("嵌入对象“{data}”（{ty}）不是图片，已略去"),
                        ));
                    }
                    Visit::Drop
                }
            }
            _ => Visit::Keep,
        }
    }
}

fn plain_is(text: &str, words: &[&str]) -> bool {
    let t = markup::plain_text(text);
    let t = t.trim().trim_end_matches(['.', '。']);
    words.iter().any(|w| t.eq_ignore_ascii_case(w))
}

pub(crate) const TRUE_WORDS: &[&str] = &["对", "正确", "是", "√", "✓", "true", "t", "yes", "right"];
const FALSE_WORDS: &[&str] = &["错", "错误", "否", "×", "✗", "false", "f", "no", "wrong"];

/// Two choices that read like true/false (对/错, 正确/错误, True/False).
pub(crate) fn looks_true_false(choices: &[Choice]) -> bool {
    choices.len() == 2
        && ((plain_is(&choices[0].text, TRUE_WORDS) && plain_is(&choices[1].text, FALSE_WORDS))
            || (plain_is(&choices[0].text, FALSE_WORDS) && plain_is(&choices[1].text, TRUE_WORDS)))
}

/// Read one item file and add the item (or its problems) to the report.
fn read_item(
    files: &dyn PackageFiles,
    path: &str,
    bytes: Vec<u8>,
    meta: &ResourceMeta,
    report: &mut ImportReport,
) {
    let parsed = xml::decode(&bytes).and_then(|t| xml::parse(&t));
    let mut root = match parsed {
        Ok(r) => r,
        Err(e) => {
            report.problems.push(Problem::error(
                path,
                e.location(),
                "bad_xml",
                e.en.clone(),
                e.zh.clone(),
            ));
            return;
        }
    };
    canonicalize(&mut root);
    if root.name != "assessment-item" {
        report.problems.push(Problem::error(
            path,
            root.at(),
            "not_an_item",
            format!("the root element <{}> is not an assessment item", root.path),
            format!("根元素 <{}> 不是题目（assessmentItem）", root.path),
        ));
        return;
    }
    let ext = meta.ext.as_ref().map(read_ext).unwrap_or_default();
    let qti_id = root.attr("identifier").unwrap_or("").trim().to_string();
    let ident = ext
        .ident
        .clone()
        .or_else(|| meta.ident.clone())
        .unwrap_or_else(|| qti_id.clone());
    let mut problems: Vec<Problem> = Vec::new();
    let err = |problems: &mut Vec<Problem>, e: &Element, code: &str, en: String, zh: String| {
        problems.push(Problem::error(path, e.at(), code, en, zh));
    };
    let ver = version(&root);
    if root.attr("adaptive") == Some("true") {
        err(
            &mut problems,
            &root,
            "unsupported_adaptive",
            "adaptive items (several attempts with changing feedback) are not supported".into(),
            "不支持自适应题目（adaptive，多次作答并随反馈变化）".into(),
        );
    }
    if let Some(t) = root.child(&["template-declaration", "template-processing"]) {
        err(
            &mut problems,
            t,
            "unsupported_template",
            format!(
                "item templates (cloned items with variables, <{}>) are not supported",
                t.path.rsplit('/').next().unwrap_or("")
            ),
            format!(
                "不支持题目模板（带变量的克隆题，<{}>）",
                t.path.rsplit('/').next().unwrap_or("")
            ),
        );
    }
    if let Some(s) = root.child(&["assessment-stimulus-ref"]) {
        problems.push(Problem::warning(
            path,
            s.at(),
            "stimulus_dropped",
            "a shared stimulus is referenced; it is not imported with the item",
            "题目引用了共享材料（stimulus），该材料未随题导入",
        ));
    }
    if root.child(&["modal-feedback"]).is_some() {
        problems.push(Problem::warning(
            path,
            root.at(),
            "feedback_dropped",
            "modal feedback is not imported",
            "模态反馈（modalFeedback）未导入",
        ));
    }
    let Some(body) = root.child(&["item-body"]) else {
        err(
            &mut problems,
            &root,
            "no_item_body",
            "the item has no item body".into(),
            "题目没有题干部分（itemBody）".into(),
        );
        report.finish_failed(problems, &ident);
        return;
    };
    let all = body.descendants();
    let interactions: Vec<&Element> = all
        .iter()
        .copied()
        .filter(|e| is_qti_ns(&e.ns) && is_interaction(&e.name))
        .collect();
    for i in &interactions {
        if !SUPPORTED.contains(&i.name.as_str()) {
            let written = i.path.rsplit('/').next().unwrap_or("");
            err(
                &mut problems,
                i,
                "unsupported_interaction",
                format!(
                    "the interaction <{written}> is not supported (QTI {ver}); xcert reads choice, text entry, extended text, match and order interactions"
                ),
                format!(
                    "不支持的作答方式 <{written}>（QTI {ver}）；xcert 支持选择、填空、简答、匹配和排序"
                ),
            );
        }
    }
    let kinds: Vec<&str> = {
        let mut k: Vec<&str> = interactions.iter().map(|e| e.name.as_str()).collect();
        k.dedup();
        k.sort();
        k.dedup();
        k
    };
    if kinds.len() > 1 && problems.iter().all(|p| p.code != "unsupported_interaction") {
        let second = interactions
            .iter()
            .find(|e| e.name != interactions[0].name)
            .copied()
            .unwrap_or(body);
        err(
            &mut problems,
            second,
            "mixed_interactions",
            format!(
                "the item mixes interactions of different kinds ({}); xcert items have one kind",
                kinds.join(", ")
            ),
            format!(
                "题目混用了多种作答方式（{}），xcert 每题只能有一种",
                kinds.join("、")
            ),
        );
    }
    if interactions.is_empty() {
        err(
            &mut problems,
            body,
            "no_interaction",
            "the item body has no interaction".into(),
            "题目中没有作答控件（interaction）".into(),
        );
    }
    let singles = interactions
        .iter()
        .filter(|e| e.name != "text-entry-interaction")
        .count();
    if singles > 1 && kinds.len() == 1 {
        err(
            &mut problems,
            interactions[1],
            "several_interactions",
            format!(
                "the item has {} <{}> interactions; xcert items have one",
                singles,
                interactions[1].path.rsplit('/').next().unwrap_or("")
            ),
            format!(
                "题目含有 {} 个 <{}> 作答控件，xcert 每题只能有一个",
                singles,
                interactions[1].path.rsplit('/').next().unwrap_or("")
            ),
        );
    }
    if problems.iter().any(Problem::is_error) {
        report.finish_failed(problems, &ident);
        return;
    }
    let decls = decls(&root);
    let rp = root.child(&["response-processing"]);
    let rp_template = rp
        .and_then(|r| r.attr("template"))
        .unwrap_or("")
        .to_string();
    let rp_maps = rp_template.contains("map_response")
        || rp.is_some_and(|r| {
            let d = r.descendants();
            d.iter().any(|e| e.name == "map-response")
                && !d.iter().any(|e| e.name == "response-condition")
        });
    let main = interactions[0];
    let find_decl = |problems: &mut Vec<Problem>, i: &Element| -> Option<&Decl<'_>> {
        let rid = i.attr("response-identifier").unwrap_or("");
        let d = decls.iter().find(|d| d.identifier == rid);
        if d.is_none() {
            problems.push(Problem::error(
                path,
                i.at(),
                "no_response_declaration",
                format!("the interaction's response \"{rid}\" is not declared"),
                format!("作答控件的响应“{rid}”没有声明（responseDeclaration）"),
            ));
        }
        d
    };
    let map_id = |id: &str| -> String {
        ext.ids
            .iter()
            .find(|(q, _)| q == id)
            .map(|(_, x)| x.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let dir = dir_of(path);
    let mut ctx = Body {
        files,
        file: path,
        dir,
        main: (main.name != "text-entry-interaction").then_some(main as *const Element),
        marks: ext.marks.clone(),
        blanks_seen: 0,
        problems: Vec::new(),
        media: Vec::new(),
        warned_math: false,
        warned_feedback: false,
        warned_object: false,
    };
    let choice_list = |ctx: &mut Body, parent: &Element, names: &[&str]| -> Vec<Choice> {
        parent
            .children_named(names)
            .map(|c| Choice {
                id: map_id(c.attr("identifier").unwrap_or("").trim()),
                text: markup::sanitize(ctx.html(c).trim()),
                fixed: c.attr("fixed") == Some("true"),
            })
            .collect()
    };
    let shuffle = main.attr("shuffle") == Some("true");
    let mut kind = ItemKind::ExtendedText;
    let mut scoring = Scoring::AllOrNothing;
    let mut key_el: &Element = main;
    let interaction = match main.name.as_str() {
        "choice-interaction" => {
            let choices = choice_list(&mut ctx, main, &["simple-choice"]);
            let Some(d) = find_decl(&mut problems, main) else {
                report.finish_failed(problems, &ident);
                return;
            };
            key_el = d.el;
            let mut correct: Vec<String> = d.correct.iter().map(|c| map_id(c)).collect();
            if correct.is_empty()
                && let Some(m) = &d.mapping
            {
                correct = m
                    .entries
                    .iter()
                    .filter(|e| e.1 > 0.0)
                    .map(|e| map_id(&e.0))
                    .collect();
            }
            if d.cardinality == "multiple" {
                kind = ItemKind::MultipleChoice;
                if d.mapping.is_some() && rp_maps {
                    scoring = Scoring::Partial;
                }
            } else if d.cardinality == "single" {
                kind = if looks_true_false(&choices) {
                    ItemKind::TrueFalse
                } else {
                    ItemKind::SingleChoice
                };
            } else {
                err(
                    &mut problems,
                    d.el,
                    "unsupported_cardinality",
                    format!(
                        "a choice response with cardinality \"{}\" is not supported",
                        d.cardinality
                    ),
                    format!("不支持基数为“{}”的选择题响应", d.cardinality),
                );
                kind = ItemKind::SingleChoice;
            }
            Interaction::Choice {
                choices,
                correct,
                shuffle,
            }
        }
        "order-interaction" => {
            kind = ItemKind::Ordering;
            let choices = choice_list(&mut ctx, main, &["simple-choice"]);
            let Some(d) = find_decl(&mut problems, main) else {
                report.finish_failed(problems, &ident);
                return;
            };
            key_el = d.el;
            Interaction::Order {
                choices,
                correct: d.correct.iter().map(|c| map_id(c)).collect(),
                shuffle,
            }
        }
        "match-interaction" => {
            kind = ItemKind::Matching;
            let sets: Vec<&Element> = main.children_named(&["simple-match-set"]).collect();
            if sets.len() != 2 {
                err(
                    &mut problems,
                    main,
                    "bad_match_sets",
                    format!(
                        "a match interaction needs two simple match sets, this one has {}",
                        sets.len()
                    ),
                    format!(
                        "匹配题需要两个匹配集合（simpleMatchSet），此处有 {} 个",
                        sets.len()
                    ),
                );
                report.finish_failed(problems, &ident);
                return;
            }
            let sources = choice_list(&mut ctx, sets[0], &["simple-associable-choice"]);
            let targets = choice_list(&mut ctx, sets[1], &["simple-associable-choice"]);
            let Some(d) = find_decl(&mut problems, main) else {
                report.finish_failed(problems, &ident);
                return;
            };
            key_el = d.el;
            let mut values = d.correct.clone();
            if values.is_empty()
                && let Some(m) = &d.mapping
            {
                values = m
                    .entries
                    .iter()
                    .filter(|e| e.1 > 0.0)
                    .map(|e| e.0.clone())
                    .collect();
            }
            if d.mapping.is_some() && rp_maps {
                scoring = Scoring::Partial;
            }
            let mut correct = Vec::new();
            for v in values {
                let mut it = v.split_whitespace();
                match (it.next(), it.next(), it.next()) {
                    (Some(a), Some(b), None) => {
                        let (a, b) = (map_id(a), map_id(b));
                        // An undirected pair may be written target first.
                        if d.base_type == "pair"
                            && !sources.iter().any(|s| s.id == a)
                            && sources.iter().any(|s| s.id == b)
                        {
                            correct.push((b, a));
                        } else {
                            correct.push((a, b));
                        }
                    }
                    _ => err(
                        &mut problems,
                        d.el,
                        "bad_pair",
                        format!("\"{v}\" is not a pair of identifiers"),
                        format!("“{v}”不是一对标识"),
                    ),
                }
            }
            Interaction::Match {
                sources,
                targets,
                correct,
                shuffle,
            }
        }
        "extended-text-interaction" => {
            kind = ItemKind::ExtendedText;
            let guide = body
                .descendants()
                .into_iter()
                .find(|e| {
                    e.name == "rubric-block"
                        && e.attr("view")
                            .is_some_and(|v| v.split_whitespace().any(|x| x == "scorer"))
                })
                .map(|r| markup::sanitize(ctx.html(r).trim()))
                .filter(|g| !g.is_empty());
            match (ext.kind, &ext.scale) {
                (Some(ItemKind::PracticalTask), Some(scale)) => {
                    kind = ItemKind::PracticalTask;
                    Interaction::Practical {
                        scale: scale.clone(),
                    }
                }
                _ => Interaction::ExtendedText {
                    expected_length: main
                        .attr("expected-length")
                        .and_then(|v| v.trim().parse().ok()),
                    guide,
                },
            }
        }
        "text-entry-interaction" => {
            kind = ItemKind::TextEntry;
            let mut blanks = Vec::new();
            let mut any_map = false;
            for i in &interactions {
                let Some(d) = find_decl(&mut problems, i) else {
                    continue;
                };
                if key_el.name != "response-declaration" {
                    key_el = d.el;
                }
                let mut accepted: Vec<String> = d.correct.clone();
                let mut case_sensitive = true;
                if let Some(m) = &d.mapping {
                    any_map = true;
                    let max = m.entries.iter().map(|e| e.1).fold(0.0, f64::max);
                    let mut cs: Vec<bool> = Vec::new();
                    for (k, v, c) in &m.entries {
                        if *v <= 0.0 {
                            continue;
                        }
                        if *v < max {
                            problems.push(Problem::warning(
                                path,
                                d.el.at(),
                                "partial_answer_dropped",
                                format!("the answer \"{k}\" earns partial credit ({v} of {max}); xcert keeps only fully right answers, so it is not accepted"),
                                format!("答案“{k}”只得部分分（{v}/{max}）；xcert 只保留完全正确的答案，该答案未采用"),
                            ));
                            accepted.retain(|a| a != k);
                            continue;
                        }
                        cs.push(c.unwrap_or(false));
                        if !accepted.contains(k) {
                            accepted.push(k.clone());
                        }
                    }
                    if !cs.is_empty() {
                        case_sensitive = cs.iter().any(|c| *c);
                        if cs.iter().any(|c| *c) && cs.iter().any(|c| !*c) {
                            problems.push(Problem::warning(
                                path,
                                d.el.at(),
                                "mixed_case_sensitivity",
                                "some answers are case sensitive and some not; all are compared case sensitively",
                                "部分答案区分大小写、部分不区分；现统一按区分大小写比较",
                            ));
                        }
                    }
                }
                if matches!(d.base_type.as_str(), "float" | "integer") {
                    problems.push(Problem::warning(
                        path,
                        d.el.at(),
                        "numeric_as_text",
                        "a numeric response is compared as text: only the written values are accepted",
                        "数值型响应按文本比较：只接受所写出的数值",
                    ));
                }
                blanks.push(Blank {
                    id: map_id(&d.identifier),
                    accepted,
                    case_sensitive,
                });
            }
            if blanks.len() > 1 && any_map && rp_maps {
                scoring = Scoring::Partial;
            }
            Interaction::TextEntry { blanks }
        }
        _ => unreachable_interaction(),
    };
    // The stem: the body without the interaction's options, prompts included.
    let stem = markup::sanitize(ctx.html(body).trim());
    let explanation = body
        .descendants()
        .into_iter()
        .find(|e| e.name == "rubric-block" && e.attr("use") == Some("ext:xcert-explanation"))
        .map(|r| markup::sanitize(ctx.html(r).trim()))
        .filter(|s| !s.is_empty());
    if let Some(k) = ext.kind {
        let fits = matches!(
            (k, &interaction),
            (
                ItemKind::SingleChoice | ItemKind::TrueFalse | ItemKind::MultipleChoice,
                Interaction::Choice { .. }
            ) | (ItemKind::TextEntry, Interaction::TextEntry { .. })
                | (ItemKind::Matching, Interaction::Match { .. })
                | (ItemKind::Ordering, Interaction::Order { .. })
                | (ItemKind::ExtendedText, Interaction::ExtendedText { .. })
                | (ItemKind::PracticalTask, Interaction::Practical { .. })
        );
        if fits {
            kind = k;
        }
    }
    if let Some(s) = ext.scoring {
        scoring = s;
    }
    let points = item_points(&root, &decls, &interaction, &ext);
    problems.append(&mut ctx.problems);
    let mut option_html: Vec<&str> = vec![stem.as_str()];
    match &interaction {
        Interaction::Choice { choices, .. } | Interaction::Order { choices, .. } => {
            option_html.extend(choices.iter().map(|c| c.text.as_str()))
        }
        Interaction::Match {
            sources, targets, ..
        } => option_html.extend(sources.iter().chain(targets).map(|c| c.text.as_str())),
        _ => {}
    }
    let media = media_refs(&option_html);
    let item = Item {
        meta: ItemMeta {
            ident: ident.clone(),
            requirements: ext
                .requirements
                .clone()
                .unwrap_or_else(|| meta.requirements.clone()),
            level: ext.level,
            difficulty: ext.difficulty.or(meta.difficulty),
            enemy_group: ext.enemy_group.clone(),
            testlet: ext.testlet.clone(),
            author: ext.author.clone().or_else(|| meta.author.clone()),
            time_seconds: ext.time_seconds.or(meta.time_seconds),
        },
        content: ItemContent {
            kind,
            stem,
            interaction,
            points,
            scoring,
            explanation,
            media,
        },
    };
    let bad = problems.iter().any(Problem::is_error);
    if !bad {
        for m in std::mem::take(&mut ctx.media) {
            let p = m.path.clone();
            if report.add_media(m).is_err() {
                problems.push(Problem::error(
                    path,
                    "",
                    "media_conflict",
                    format!("two different files claim the path \"{p}\""),
                    format!("两个不同的文件使用了同一路径“{p}”"),
                ));
            }
        }
    }
    let root_at = root.at();
    let body_at = body.at();
    let main_at = main.at();
    let key_at = key_el.at();
    report.finish(item, path.to_string(), None, problems, path, &|e| {
        let loc = match e.field.as_str() {
            "key" | "blanks" => key_at.clone(),
            "choices" | "sources" | "targets" | "criteria" => main_at.clone(),
            "stem" => body_at.clone(),
            _ => root_at.clone(),
        };
        let (fen, fzh) = field_words(&e.field);
        (loc, format!("{fen}: {}", e.en), format!("{fzh}：{}", e.zh))
    });
}

fn unreachable_interaction() -> Interaction {
    // Only supported interactions reach the match above; an empty extended-text
    // interaction keeps this total without a panic.
    Interaction::ExtendedText {
        expected_length: None,
        guide: None,
    }
}

fn item_points(root: &Element, decls: &[Decl<'_>], it: &Interaction, ext: &Ext) -> f64 {
    if let Interaction::Practical { scale } = it
        && ext.scale.is_some()
    {
        return scale.max_points();
    }
    let outcomes: Vec<&Element> = root.children_named(&["outcome-declaration"]).collect();
    if let Some(v) = outcomes
        .iter()
        .find(|o| o.attr("identifier") == Some("SCORE"))
        .and_then(|o| num(o.attr("normal-maximum")))
        .filter(|v| *v > 0.0)
    {
        return v;
    }
    if let Some(v) = outcomes
        .iter()
        .find(|o| o.attr("identifier") == Some("MAXSCORE"))
        .and_then(|o| o.child(&["default-value"]))
        .and_then(|d| d.child(&["value"]))
        .and_then(|v| num(Some(v.text().as_str())))
        .filter(|v| *v > 0.0)
    {
        return v;
    }
    let mapped = |d: &Decl<'_>| -> Option<f64> {
        let m = d.mapping.as_ref()?;
        if let Some(u) = m.upper.filter(|u| *u > 0.0) {
            return Some(u);
        }
        let pos = m.entries.iter().map(|e| e.1).filter(|v| *v > 0.0);
        let v = if d.cardinality == "single" {
            pos.fold(0.0, f64::max)
        } else {
            pos.sum()
        };
        let _ = m.lower;
        (v > 0.0).then_some(v)
    };
    let rids: Vec<&str> = decls.iter().map(|d| d.identifier.as_str()).collect();
    let sum: f64 = match it {
        Interaction::TextEntry { .. } => rids
            .iter()
            .filter_map(|r| decls.iter().find(|d| d.identifier == *r))
            .filter_map(mapped)
            .sum(),
        _ => decls.first().and_then(mapped).unwrap_or(0.0),
    };
    if sum > 0.0 { sum } else { 1.0 }
}

impl ImportReport {
    /// Record the problems of an item that could not be built at all.
    pub(crate) fn finish_failed(&mut self, problems: Vec<Problem>, ident: &str) {
        self.problems.extend(problems.into_iter().map(|p| {
            if p.item.is_none() && !ident.is_empty() {
                p.for_item(ident)
            } else {
                p
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_canonical_in_both_spellings() {
        assert_eq!(canonical("choiceInteraction"), "choice-interaction");
        assert_eq!(canonical("qti-choice-interaction"), "choice-interaction");
        assert_eq!(canonical("responseIdentifier"), "response-identifier");
        assert_eq!(canonical("p"), "p");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT1M30S"), Some(90));
        assert_eq!(parse_duration("PT2H"), Some(7200));
        assert_eq!(parse_duration("P1DT1S"), Some(86401));
        assert_eq!(parse_duration("90"), None);
    }
}
