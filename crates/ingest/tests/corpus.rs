//! The corpus generator checked against the tree it writes: every expectation is re-derived
//! from the files on disk (walks, byte comparisons, inodes, magic numbers from the format
//! specifications, a zip central directory parsed per APPNOTE 4.3.12), never taken from the
//! generator's own code paths.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use xcert_ingest::corpus::{CorpusSpec, Manifest, ManifestFile, generate};
use xcert_ingest::{Annex, Category, Kind};

const MIB: u64 = 1 << 20;

fn spec(seed: u64, total: u64) -> CorpusSpec {
    CorpusSpec {
        seed,
        total_bytes: total,
        ..Default::default()
    }
}

fn gen_tree(spec: &CorpusSpec) -> (tempfile::TempDir, Manifest) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut last = 0;
    let manifest = generate(dir.path(), spec, &mut |n| {
        assert!(n >= last, "progress never goes back");
        last = n;
    })
    .expect("generate");
    (dir, manifest)
}

/// Every regular file under `root`, as '/'-separated relative path → full path.
fn walk(root: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read dir") {
            let entry = entry.expect("entry");
            let ty = entry.file_type().expect("file type");
            if ty.is_dir() {
                stack.push(entry.path());
            } else {
                let rel = entry
                    .path()
                    .strip_prefix(root)
                    .expect("under root")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, entry.path());
            }
        }
    }
    out
}

fn is_archive_entry(f: &ManifestFile) -> bool {
    f.path.contains(".zip/")
}

fn by_path(m: &Manifest) -> BTreeMap<&str, &ManifestFile> {
    m.files.iter().map(|f| (f.path.as_str(), f)).collect()
}

#[test]
fn same_seed_gives_same_tree_and_manifest() {
    let s = spec(7, 12 * MIB);
    let (a, ma) = gen_tree(&s);
    let (b, mb) = gen_tree(&s);
    assert_eq!(
        serde_json::to_string(&ma).expect("json"),
        serde_json::to_string(&mb).expect("json")
    );
    let hash_all = |root: &Path| -> BTreeMap<String, blake3::Hash> {
        walk(root)
            .into_iter()
            .map(|(rel, full)| (rel, blake3::hash(&fs::read(full).expect("read"))))
            .collect()
    };
    let (ha, hb) = (hash_all(a.path()), hash_all(b.path()));
    assert!(ha.len() > 100, "a realistic tree has many files");
    assert_eq!(ha, hb);

    let (_c, mc) = gen_tree(&spec(8, 12 * MIB));
    assert_ne!(
        serde_json::to_string(&ma.files).expect("json"),
        serde_json::to_string(&mc.files).expect("json"),
        "another seed gives another tree"
    );
}

/// The first up-to-16 KiB and last-up-to-16 KiB of a file.
fn head_tail(bytes: &[u8]) -> (&[u8], &[u8]) {
    let k = 16 << 10;
    (
        &bytes[..k.min(bytes.len())],
        &bytes[bytes.len().saturating_sub(k)..],
    )
}

/// Kind from magic numbers and, for OOXML, the main part's name (ECMA-376 part 2).
fn sniff(bytes: &[u8]) -> Kind {
    if bytes.is_empty() {
        return Kind::Empty;
    }
    if bytes.starts_with(b"%PDF-") {
        return Kind::Pdf;
    }
    if bytes.len() > 8 && &bytes[4..8] == b"ftyp" {
        return Kind::Video;
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) || bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Kind::Image;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let Ok(mut z) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
            return Kind::Unknown;
        };
        let names: BTreeSet<String> = z
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .collect();
        if names.contains("word/document.xml") {
            return Kind::Docx;
        }
        if names.contains("ppt/presentation.xml") {
            return Kind::Pptx;
        }
        if names.contains("xl/workbook.xml") {
            return Kind::Xlsx;
        }
        // A plain archive: make sure it really opens.
        return if z.by_index(0).is_ok() {
            Kind::Zip
        } else {
            Kind::Unknown
        };
    }
    Kind::Unknown
}

/// Central-directory records of a zip: (flags, raw name, content), per APPNOTE 4.3.12.
fn central_directory(bytes: &[u8]) -> Vec<(u16, Vec<u8>, Vec<u8>)> {
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
    let eocd = bytes.len() - 22;
    assert_eq!(u32_at(eocd), 0x0605_4b50, "end of central directory");
    let count = u16_at(eocd + 10) as usize;
    let mut at = u32_at(eocd + 16) as usize;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip opens");
    let mut out = Vec::new();
    for i in 0..count {
        assert_eq!(u32_at(at), 0x0201_4b50, "central header");
        let flags = u16_at(at + 8);
        let name_len = u16_at(at + 28) as usize;
        let extra = u16_at(at + 30) as usize;
        let comment = u16_at(at + 32) as usize;
        let name = bytes[at + 46..at + 46 + name_len].to_vec();
        let mut entry = archive.by_index(i).expect("entry");
        assert_eq!(entry.name_raw(), name.as_slice());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("inflate");
        out.push((flags, name, data));
        at += 46 + name_len + extra + comment;
    }
    out
}

#[test]
fn tree_matches_its_manifest() {
    let target = 30 * MIB;
    let (dir, m) = gen_tree(&spec(3, target));
    let root = dir.path();
    let disk = walk(root);
    let files = by_path(&m);

    // Sixteen units with the expected names, the first from the brief's list.
    let units: BTreeSet<&str> = m.files.iter().map(|f| f.unit.as_str()).collect();
    assert_eq!(units.len(), 16);
    for name in [
        "山东电力高等专科学校",
        "国网技术学院",
        "湖北省电力职业技术培训中心",
    ] {
        assert!(units.contains(name), "{name}");
    }
    for f in &m.files {
        assert_eq!(
            f.path.split('/').next(),
            Some(f.unit.as_str()),
            "{}",
            f.path
        );
    }

    // Manifest and disk list the same files, with the same sizes and real kinds.
    let listed: BTreeSet<&str> = m
        .files
        .iter()
        .filter(|f| !is_archive_entry(f))
        .map(|f| f.path.as_str())
        .collect();
    let on_disk: BTreeSet<&str> = disk.keys().map(String::as_str).collect();
    assert_eq!(listed, on_disk);
    let mut total = 0u64;
    for (rel, full) in &disk {
        let f = files[rel.as_str()];
        let bytes = fs::read(full).expect("read");
        assert_eq!(bytes.len() as u64, f.size, "{rel}");
        assert_eq!(sniff(&bytes), f.kind, "{rel}");
        assert_eq!(f.empty, bytes.is_empty(), "{rel}");
        total += bytes.len() as u64;
    }
    // Total apparent size within ±10 % of the target.
    assert!(
        total.abs_diff(target) * 10 <= target,
        "total {total} vs target {target}"
    );

    // Documents carry their text: every docx holds its sample lines.
    let docx: Vec<&ManifestFile> = m
        .files
        .iter()
        .filter(|f| f.kind == Kind::Docx && !is_archive_entry(f))
        .collect();
    assert!(docx.len() > 50);
    for f in docx.iter().take(60) {
        let mut z =
            zip::ZipArchive::new(fs::File::open(root.join(&f.path)).expect("open")).expect("docx");
        let mut xml = String::new();
        z.by_name("word/document.xml")
            .expect("document part")
            .read_to_string(&mut xml)
            .expect("utf-8");
        let first = f.text_sample.lines().next().expect("a title");
        assert!(xml.contains(first), "{}: {first}", f.path);
        assert!(
            f.text_sample
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "Chinese text in {}",
            f.path
        );
    }
    assert!(
        m.files
            .iter()
            .all(|f| f.text_sample.chars().count() <= 2000)
    );
    for f in m
        .files
        .iter()
        .filter(|f| matches!(f.kind, Kind::Video | Kind::Image | Kind::Empty))
    {
        assert!(f.text_sample.is_empty(), "{}", f.path);
        assert!(f.kind == Kind::Empty || f.category == Category::OnlineResources);
    }

    // Unreadable PDFs lack a ToUnicode map; readable ones have it.
    let mut poor = 0;
    for f in m
        .files
        .iter()
        .filter(|f| f.kind == Kind::Pdf && !is_archive_entry(f))
    {
        let bytes = fs::read(root.join(&f.path)).expect("read");
        let has_map = bytes.windows(10).any(|w| w == b"/ToUnicode");
        if f.trap.as_deref() == Some("poor_text") {
            poor += 1;
            assert!(!has_map, "{}", f.path);
        } else {
            assert!(has_map, "{}", f.path);
        }
    }
    assert!(poor >= 1, "some PDFs are unreadable");

    // Docx saved as .pdf.
    let mismatched: Vec<&ManifestFile> = m
        .files
        .iter()
        .filter(|f| f.trap.as_deref() == Some("extension_mismatch"))
        .collect();
    assert!(!mismatched.is_empty());
    for f in &mismatched {
        assert!(
            f.path.ends_with(".pdf") && f.kind == Kind::Docx,
            "{}",
            f.path
        );
    }
    assert!(m.files.iter().filter(|f| f.empty).count() >= 3);

    // Some names say nothing about the content.
    let vague = m
        .files
        .iter()
        .filter(|f| {
            let name = f.path.rsplit('/').next().unwrap_or("");
            [
                "扫描件",
                "新建 Microsoft",
                "final_v",
                "文档",
                "Book",
                "演示文稿",
                "IMG_2021",
                "scan",
            ]
            .iter()
            .any(|p| name.starts_with(p))
                && f.kind.has_text()
        })
        .count();
    let docs = m.files.iter().filter(|f| f.kind.has_text()).count();
    assert!(vague * 20 >= docs && vague * 4 <= docs, "{vague} of {docs}");
    assert!(
        m.files
            .iter()
            .any(|f| f.path.rsplit('/').next().is_some_and(|n| n
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
                && n.contains(' '))),
        "some English names"
    );

    check_copies(root, &m);
    check_traps(root, &m);
    check_archives(root, &m);
    check_hard_links(root, &m);
    check_certificates(root, &m);
    check_missing_categories(&m);
}

fn check_copies(root: &Path, m: &Manifest) {
    let files = by_path(m);
    let copies: Vec<&ManifestFile> = m.files.iter().filter(|f| f.copy_of.is_some()).collect();
    let originals = m
        .files
        .iter()
        .filter(|f| f.kind.has_text() && f.copy_of.is_none() && f.annex.is_none())
        .count();
    // copy_ratio 0.2 of the documents, give or take.
    assert!(
        copies.len() * 10 >= originals && copies.len() * 10 <= originals * 4,
        "{} copies of {originals}",
        copies.len()
    );
    for c in copies {
        let orig_path = c.copy_of.as_deref().expect("copy_of");
        let orig = files[orig_path];
        assert_ne!(c.unit, orig.unit, "copies go to another unit");
        assert_ne!(
            c.path.rsplit('/').next(),
            orig.path.rsplit('/').next(),
            "under another name"
        );
        assert_eq!(
            fs::read(root.join(&c.path)).expect("copy"),
            fs::read(root.join(orig_path)).expect("original"),
            "{}",
            c.path
        );
        assert_eq!(c.category, orig.category);
    }

    let nears: Vec<&ManifestFile> = m.files.iter().filter(|f| f.near_of.is_some()).collect();
    assert!(!nears.is_empty());
    for n in nears {
        let orig = files[n.near_of.as_deref().expect("near_of")];
        assert_eq!(n.kind, orig.kind);
        assert_ne!(
            fs::read(root.join(&n.path)).expect("near"),
            fs::read(root.join(&orig.path)).expect("original")
        );
        // One or two lines replaced, or one added: the line sets differ by 1 to 4 lines.
        let a: BTreeSet<&str> = orig.text_sample.lines().collect();
        let b: BTreeSet<&str> = n.text_sample.lines().collect();
        let diff = a.symmetric_difference(&b).count();
        assert!((1..=4).contains(&diff), "{} differs by {diff}", n.path);
        assert!(a.intersection(&b).count() >= 6, "{}", n.path);
    }
}

fn check_traps(root: &Path, m: &Manifest) {
    let read = |f: &ManifestFile| fs::read(root.join(&f.path)).expect("read");
    for trap in ["same_head_tail", "same_size"] {
        let group: Vec<&ManifestFile> = m
            .files
            .iter()
            .filter(|f| f.trap.as_deref() == Some(trap))
            .collect();
        assert!(
            group.len() >= 2 && group.len().is_multiple_of(2),
            "{trap}: {}",
            group.len()
        );
        for f in &group {
            let bytes = read(f);
            let (head, tail) = head_tail(&bytes);
            let partner = group.iter().find(|g| {
                if g.path == f.path || g.size != f.size {
                    return false;
                }
                let other = read(g);
                let (oh, ot) = head_tail(&other);
                let differs = other != bytes;
                match trap {
                    "same_head_tail" => differs && oh == head && ot == tail,
                    _ => oh != head,
                }
            });
            assert!(partner.is_some(), "{trap}: no partner for {}", f.path);
        }
    }
    // Media sizes: 100 KiB up to total/20.
    let cap = m.spec.total_bytes / 20;
    for f in m
        .files
        .iter()
        .filter(|f| matches!(f.kind, Kind::Video | Kind::Image))
    {
        assert!(
            f.size >= 100 << 10 && f.size <= cap,
            "{} {}",
            f.path,
            f.size
        );
    }
}

fn check_archives(root: &Path, m: &Manifest) {
    let zips: Vec<&ManifestFile> = m
        .files
        .iter()
        .filter(|f| f.kind == Kind::Zip && !is_archive_entry(f))
        .collect();
    assert!(!zips.is_empty());
    for z in zips {
        assert!(z.path.ends_with("资料汇编.zip"), "{}", z.path);
        let bytes = fs::read(root.join(&z.path)).expect("zip");
        let mut nested = 0;
        let mut stack = vec![(z.path.clone(), bytes)];
        while let Some((prefix, bytes)) = stack.pop() {
            let mut listed: BTreeSet<String> = m
                .files
                .iter()
                .filter_map(|f| f.path.strip_prefix(&format!("{prefix}/")))
                .filter(|rest| !rest.contains(".zip/"))
                .map(str::to_string)
                .collect();
            for (flags, raw, data) in central_directory(&bytes) {
                assert_eq!(flags & (1 << 11), 0, "no UTF-8 flag");
                assert!(std::str::from_utf8(&raw).is_err(), "names are not UTF-8");
                let (name, _, bad) = encoding_rs::GBK.decode(&raw);
                assert!(!bad);
                let path = format!("{prefix}/{name}");
                let entry = by_path(m)
                    .get(path.as_str())
                    .copied()
                    .unwrap_or_else(|| panic!("{path} not in manifest"));
                assert_eq!(entry.size, data.len() as u64, "{path}");
                assert_eq!(sniff(&data), entry.kind, "{path}");
                assert!(listed.remove(name.as_ref()), "{path}");
                if entry.kind == Kind::Zip {
                    nested += 1;
                    assert!(name.ends_with("内层.zip"));
                    stack.push((path, data));
                }
            }
            assert!(listed.is_empty(), "listed but absent: {listed:?}");
        }
        assert_eq!(nested, 1, "one nested archive");
    }
}

fn check_hard_links(root: &Path, m: &Manifest) {
    let links: Vec<&ManifestFile> = m
        .files
        .iter()
        .filter(|f| f.hard_link_of.is_some())
        .collect();
    assert!(links.len() >= 3);
    for l in links {
        let a = fs::metadata(root.join(&l.path)).expect("link");
        let b = fs::metadata(root.join(l.hard_link_of.as_deref().expect("target"))).expect("orig");
        assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()), "{}", l.path);
        assert!(a.nlink() >= 2);
    }
}

fn check_certificates(root: &Path, m: &Manifest) {
    // The seven annex file names and extensions, as the brief fixes them.
    let expected: [(Annex, &str, &str); 7] = [
        (Annex::Standard, "附件1 {}职业技能等级标准", "docx"),
        (Annex::PilotMatters, "附件2 {}试点有关事项", "docx"),
        (Annex::AssessmentScheme, "附件3 {}考核方案", "docx"),
        (Annex::ExamSiteStandard, "附件4 {}考核站点建设标准", "docx"),
        (Annex::CostAccounting, "附件5 {}考核成本核算方案", "xlsx"),
        (Annex::ExpenseItems, "附件6 {}收费项目及依据", "pdf"),
        (Annex::Feasibility, "附件7 {}必要性与可行性报告", "pdf"),
    ];
    assert!(!m.certificates.is_empty());
    let cert_units: BTreeSet<&str> = m.certificates.iter().map(|c| c.unit.as_str()).collect();
    assert!(cert_units.len() <= 6 && cert_units.contains("山东电力高等专科学校"));
    assert!(
        m.certificates.iter().any(|c| !c.missing.is_empty()),
        "some annexes are left out"
    );
    for c in &m.certificates {
        assert_eq!(c.present.len() + c.missing.len(), 7);
        assert!(c.missing.len() <= 2);
        let annex_files: Vec<&ManifestFile> = m
            .files
            .iter()
            .filter(|f| f.unit == c.unit && f.certificate.as_deref() == Some(&c.certificate))
            .collect();
        let folder = annex_files[0].path.rsplit_once('/').expect("folder").0;
        let on_disk: BTreeSet<String> = fs::read_dir(root.join(folder))
            .expect("certificate folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        for (annex, stem, ext) in expected {
            let name = format!("{}.{ext}", stem.replace("{}", &c.certificate));
            let present = c.present.contains(&annex);
            assert_eq!(present, !c.missing.contains(&annex));
            assert_eq!(on_disk.contains(&name), present, "{folder}/{name}");
            let listed = annex_files.iter().find(|f| f.annex == Some(annex));
            assert_eq!(listed.is_some(), present);
            if let Some(f) = listed {
                assert_eq!(f.path, format!("{folder}/{name}"));
                let want = if annex == Annex::AssessmentScheme {
                    Category::AssessmentOutline
                } else {
                    Category::Other
                };
                assert_eq!(f.category, want);
                assert!(f.text_sample.contains(&c.certificate) || annex == Annex::CostAccounting);
            }
            // No other annex number n file of this certificate anywhere in the folder.
            let prefix = format!("附件{} ", annex.number());
            assert_eq!(
                on_disk.iter().filter(|n| n.starts_with(&prefix)).count(),
                usize::from(present)
            );
        }
    }
}

fn check_missing_categories(m: &Manifest) {
    let mut present: BTreeMap<&str, BTreeSet<Category>> = BTreeMap::new();
    for f in m.files.iter().filter(|f| !f.empty) {
        present.entry(&f.unit).or_default().insert(f.category);
    }
    let declared: BTreeMap<&str, &Vec<Category>> = m
        .units_missing_categories
        .iter()
        .map(|(u, c)| (u.as_str(), c))
        .collect();
    assert!(!declared.is_empty(), "some units lack categories");
    for (unit, cats) in &present {
        let missing: Vec<Category> = Category::ALL
            .into_iter()
            .filter(|c| !cats.contains(c))
            .collect();
        match declared.get(unit) {
            Some(d) => assert_eq!(**d, missing, "{unit}"),
            None => assert!(missing.is_empty(), "{unit} lacks {missing:?}"),
        }
    }
}

#[test]
fn more_units_than_names_and_options_off() {
    let s = CorpusSpec {
        seed: 5,
        total_bytes: 4 * MIB,
        units: 23,
        copy_ratio: 0.0,
        near_ratio: 0.0,
        archives: false,
        hard_links: false,
    };
    let (dir, m) = gen_tree(&s);
    let units: BTreeSet<&str> = m.files.iter().map(|f| f.unit.as_str()).collect();
    assert_eq!(units.len(), 23);
    assert!(units.contains("山东电力高等专科学校") && units.contains("山东电力高等专科学校2"));
    assert!(m.files.iter().all(|f| f.kind != Kind::Zip));
    assert!(m.files.iter().all(|f| f.hard_link_of.is_none()));
    assert!(
        m.files
            .iter()
            .all(|f| f.copy_of.is_none() && f.near_of.is_none())
    );
    let total: u64 = walk(dir.path())
        .values()
        .map(|p| fs::metadata(p).expect("meta").len())
        .sum();
    assert!(
        total.abs_diff(s.total_bytes) * 10 <= s.total_bytes,
        "{total}"
    );
}
