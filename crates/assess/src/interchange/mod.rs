//! Question bank interchange (题库交换): reading items from 1EdTech QTI 2.1/2.2/3.0
//! content packages, Moodle GIFT and Moodle XML, and the xcert `.xlsx` template; writing
//! QTI 3.0 packages and the `.xlsx` template.
//!
//! Every reader returns an [`ImportReport`]: the items it could take, the media files they
//! use, and the problems it found, each naming the file, the place in it (element path,
//! line, row and column) and the item, in English and Chinese. An item with an error is
//! left out; the others are imported. Items are checked with [`Item::validate`], whose
//! field errors become problems of that item. Readers never panic on broken or hostile
//! input: sizes are capped, XML entity declarations are refused, and paths that would leave
//! the package (`..`, absolute paths, URLs) are refused.

pub mod gift;
pub mod moodle;
pub mod package;
pub mod qti;
mod qti_export;
pub mod xlsx;
pub(crate) mod xml;

use serde::Serialize;
use xcert_domain::FieldError;

use crate::item::{Item, MediaRef, ReviewStatus};

pub use gift::import_gift;
pub use moodle::import_moodle_xml;
pub use package::{DirPackage, PackageError, PackageFiles, ZipPackage};
pub use qti::{import_qti, import_qti_dir, import_qti_zip};
pub use qti_export::{XCERT_QTI_NS, export_qti3};
pub use xlsx::{
    Column, columns, export_xlsx, import_xlsx, item_from_cells, item_to_cells, template_xlsx,
};

/// How bad a problem is: an error keeps its item out of the import, a warning does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// Something an import found, said where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// The file, as named in the package or upload (`items/q12.xml`, `题库.xlsx`).
    pub file: String,
    /// Where in the file: an element path such as
    /// `qti-assessment-item/qti-item-body/qti-gap-match-interaction (line 9, column 5)`,
    /// `line 17`, or `row 17, column key`.
    pub location: String,
    /// The item's identifier, when the problem belongs to one item.
    pub item: Option<String>,
    pub severity: Severity,
    /// A stable code for programs and tests (`unsupported_interaction`, `bad_key`, …).
    pub code: String,
    pub en: String,
    pub zh: String,
}

impl Problem {
    pub fn error(
        file: impl Into<String>,
        location: impl Into<String>,
        code: &str,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.into(),
            location: location.into(),
            item: None,
            severity: Severity::Error,
            code: code.to_string(),
            en: en.into(),
            zh: zh.into(),
        }
    }

    pub fn warning(
        file: impl Into<String>,
        location: impl Into<String>,
        code: &str,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(file, location, code, en, zh)
        }
    }

    pub fn for_item(mut self, ident: impl Into<String>) -> Problem {
        self.item = Some(ident.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The message in the requested language ("zh" or anything else for English).
    pub fn message(&self, lang: &str) -> &str {
        if lang == "zh" { &self.zh } else { &self.en }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if !self.location.is_empty() {
            write!(f, " {}", self.location)?;
        }
        if let Some(i) = &self.item {
            write!(f, " [{i}]")?;
        }
        write!(f, ": {}", self.en)
    }
}

/// An item taken from a file, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedItem {
    pub item: Item,
    /// Where it came from: `items/q12.xml`, `bank.gift line 40`, `题库.xlsx row 17`.
    pub source: String,
    /// The review status (审核状态) the file gave, when the format has one (the `.xlsx`
    /// template does).
    pub review: Option<ReviewStatus>,
}

/// A file an imported item refers to (an image in a stem or option).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct MediaFile {
    /// The path stems use: package-relative, `/`-separated, normalized (no `.`/`..`).
    pub path: String,
    pub mime: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for MediaFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaFile")
            .field("path", &self.path)
            .field("mime", &self.mime)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// What an import produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub items: Vec<ImportedItem>,
    pub media: Vec<MediaFile>,
    pub problems: Vec<Problem>,
}

impl ImportReport {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| !p.is_error())
    }

    /// Add a media file once per path; the same path with other bytes is refused.
    pub(crate) fn add_media(&mut self, file: MediaFile) -> Result<(), ()> {
        match self.media.iter().find(|m| m.path == file.path) {
            Some(m) if m.bytes == file.bytes => Ok(()),
            Some(_) => Err(()),
            None => {
                self.media.push(file);
                Ok(())
            }
        }
    }

    /// Validate an item and keep it unless it (or the reading of it) had an error.
    /// `prior` are the problems found while reading it; `place` maps a validation field
    /// to a location.
    pub(crate) fn finish(
        &mut self,
        item: Item,
        source: String,
        review: Option<ReviewStatus>,
        prior: Vec<Problem>,
        file: &str,
        place: &dyn Fn(&FieldError) -> (String, String, String),
    ) {
        let ident = item.meta.ident.clone();
        let mut bad = prior.iter().any(Problem::is_error);
        self.problems.extend(prior.into_iter().map(|p| {
            if p.item.is_none() && !ident.is_empty() {
                p.for_item(ident.clone())
            } else {
                p
            }
        }));
        if let Err(errs) = item.validate() {
            bad = true;
            for e in errs {
                let (location, en, zh) = place(&e);
                let mut p = Problem::error(file, location, &e.code, en, zh);
                if !ident.is_empty() {
                    p = p.for_item(ident.clone());
                }
                self.problems.push(p);
            }
        }
        if !bad {
            if self.items.iter().any(|i| i.item.meta.ident == ident) {
                self.problems.push(
                    Problem::error(
                        file,
                        source.clone(),
                        "duplicate_ident",
                        format!("the identifier \"{ident}\" is used by an earlier item; this one is left out"),
                        format!("题目编号“{ident}”与前面的题目重复，本题未导入"),
                    )
                    .for_item(ident),
                );
                return;
            }
            self.items.push(ImportedItem {
                item,
                source,
                review,
            });
        }
    }
}

/// Largest number of items one import takes.
pub const MAX_ITEMS: usize = 50_000;

/// The media type of a file by its extension; `None` for kinds stems cannot show.
pub fn image_mime(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        _ => return None,
    })
}

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathRefusal {
    /// Absolute path, drive letter, or a URL with a scheme.
    Absolute,
    /// Climbs above the package root with `..`.
    Escapes,
    Empty,
}

impl PathRefusal {
    pub fn en(self, p: &str) -> String {
        match self {
            PathRefusal::Absolute => format!(
                "\"{p}\" is an absolute path or a URL; only files inside the package are read"
            ),
            PathRefusal::Escapes => format!("\"{p}\" climbs out of the package with \"..\""),
            PathRefusal::Empty => "the reference is empty".into(),
        }
    }

    pub fn zh(self, p: &str) -> String {
        match self {
            PathRefusal::Absolute => format!("“{p}”是绝对路径或网址，只能引用包内的文件"),
            PathRefusal::Escapes => format!("“{p}”使用“..”指向了包外"),
            PathRefusal::Empty => "引用为空".into(),
        }
    }
}

/// The id of the i-th option as banks write it: A, B, … Z, then A27, A28, …
pub(crate) fn option_letter(i: usize) -> String {
    if i < 26 {
        ((b'A' + i as u8) as char).to_string()
    } else {
        format!("A{}", i + 1)
    }
}

/// Whether imported text is HTML (GIFT and Moodle allow both plain text and HTML).
pub(crate) fn looks_html(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    [
        "<p", "<br", "<b>", "<i>", "<img", "<strong", "<em", "<sub", "<sup", "<div", "<span",
        "<table", "<ul", "<ol", "<u>",
    ]
    .iter()
    .any(|t| l.contains(t))
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (
                (b[i + 1] as char).to_digit(16),
                (b[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

fn has_scheme(s: &str) -> bool {
    match s.find(':') {
        Some(i) => {
            let scheme = &s[..i];
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// Join a reference (an `href`, `src`, `xml:base`) onto a base directory inside the
/// package and normalize it. `base` is `""` or ends with `/`. Query and fragment parts
/// are dropped; percent-escapes are decoded.
pub(crate) fn resolve_path(base: &str, reference: &str) -> Result<String, PathRefusal> {
    let r = reference.trim();
    let r = r.split(['#', '?']).next().unwrap_or("");
    if r.is_empty() {
        return Err(PathRefusal::Empty);
    }
    if r.starts_with('/') || r.starts_with('\\') || has_scheme(r) {
        return Err(PathRefusal::Absolute);
    }
    let r = percent_decode(r).replace('\\', "/");
    let joined = format!("{base}{r}");
    normalize(&joined)
}

/// Normalize a package path: `.` and empty segments removed, `..` refused when it would
/// leave the root.
pub(crate) fn normalize(p: &str) -> Result<String, PathRefusal> {
    if p.starts_with('/') || has_scheme(p) {
        return Err(PathRefusal::Absolute);
    }
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathRefusal::Escapes);
                }
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return Err(PathRefusal::Empty);
    }
    Ok(parts.join("/"))
}

/// The directory part of a package path, with a trailing `/` (or "").
pub(crate) fn dir_of(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => path[..=i].to_string(),
        None => String::new(),
    }
}

/// A directory reference (`xml:base`) joined onto a base, ending with `/`.
pub(crate) fn join_base(base: &str, xml_base: Option<&str>) -> Result<String, PathRefusal> {
    match xml_base.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(base.to_string()),
        Some(b) => {
            let mut p = resolve_path(base, b)?;
            p.push('/');
            Ok(p)
        }
    }
}

/// The media list of an item's content from the images its stem and options show.
pub(crate) fn media_refs(html_parts: &[&str]) -> Vec<MediaRef> {
    let mut out: Vec<MediaRef> = Vec::new();
    for h in html_parts {
        for p in crate::markup::image_paths(h) {
            if !out.iter().any(|m| m.path == p) {
                out.push(MediaRef {
                    mime: image_mime(&p).unwrap_or("application/octet-stream").into(),
                    path: p,
                    object: None,
                });
            }
        }
    }
    out
}

/// A plain field name as people see it in messages (validation uses short keys).
pub(crate) fn field_words(field: &str) -> (&'static str, &'static str) {
    match field {
        "ident" => ("identifier", "题目编号"),
        "kind" => ("item type", "题型"),
        "stem" => ("stem", "题干"),
        "choices" => ("options", "选项"),
        "sources" => ("left-hand options", "左列"),
        "targets" => ("right-hand options", "选项"),
        "key" => ("key", "答案"),
        "blanks" => ("blanks", "填空"),
        "points" => ("points", "分值"),
        "difficulty" => ("difficulty", "难度"),
        "requirements" => ("skill requirements", "技能要求"),
        "criteria" => ("scoring criteria", "评分标准"),
        _ => ("item", "题目"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_package() {
        assert_eq!(
            resolve_path("items/", "../images/a%20b.png"),
            Ok("images/a b.png".into())
        );
        assert_eq!(
            resolve_path("items/", "./x/./y.png"),
            Ok("items/x/y.png".into())
        );
        assert_eq!(
            resolve_path("items/", "../../etc/passwd"),
            Err(PathRefusal::Escapes)
        );
        assert_eq!(resolve_path("", "/etc/passwd"), Err(PathRefusal::Absolute));
        assert_eq!(
            resolve_path("", "http://evil/x.png"),
            Err(PathRefusal::Absolute)
        );
        assert_eq!(resolve_path("", "C:\\x.png"), Err(PathRefusal::Absolute));
        assert_eq!(join_base("", Some("sub/")), Ok("sub/".into()));
        assert_eq!(dir_of("a/b/c.xml"), "a/b/");
    }
}
