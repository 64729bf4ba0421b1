//! The ingest pipeline: walk the sources, open archives in place, hash every file once,
//! hand content to the object store, check type and health, extract text, fingerprint it
//! for near duplicates and classify it. Results go to a [`Sink`] one commit group at a time
//! (a file, or an archive with all its entries), so a killed run resumes without gaps or
//! duplicate catalog rows.

use crate::archive::{self, Limits};
use crate::classify::{Classifier, Doc};
use crate::dedup::{self, FileMeta, WalkError};
use crate::detect::{self, HEAD_LEN};
use crate::extract;
use crate::minhash::MinHasher;
use crate::{Annex, Category, Flag, FlagNote, Kind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Characters of extracted text kept with a catalog entry: enough for the classifier and
/// for a person to recognize the document.
pub const TEXT_HEAD_CHARS: usize = 2000;

/// A folder or file to take in, and the unit (单位) its files belong to when the caller
/// says so; otherwise the unit is the first folder level under the source.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Source {
    pub path: PathBuf,
    pub unit: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Worker threads for reading, hashing and analysis (the walk uses its own pool).
    pub threads: usize,
    pub limits: Limits,
    /// Put every file's content into the object store (off: catalog only).
    pub store_objects: bool,
    /// Files up to this size that may hold text are read whole and analysed; larger ones
    /// are hashed and stored by streaming.
    pub max_doc_size: u64,
    /// Certificate names from the registry, to attribute annexes to certificates.
    pub certificate_names: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            limits: Limits::default(),
            store_objects: true,
            max_doc_size: 64 << 20,
            certificate_names: Vec::new(),
        }
    }
}

/// One catalog entry: a file on disk or an entry inside an archive.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Source-relative path, starting with the source folder's name; archive entries
    /// continue the archive's path ("材料/山东/资料.zip/考核大纲.docx").
    pub path: String,
    pub unit: String,
    /// The path below the unit folder, which is what the classifier reads.
    pub rel: String,
    pub size: u64,
    pub mtime_ns: i64,
    /// BLAKE3 of the content, hex; None when the content could not be read (encrypted
    /// entry, refused archive entry).
    pub hash: Option<String>,
    pub kind: Kind,
    pub ext: String,
    pub category: Category,
    pub category_confidence: f32,
    pub annex: Option<Annex>,
    pub annex_confidence: f32,
    /// The certificate an annex belongs to.
    pub certificate: Option<String>,
    /// rule, model, default (engine) or person (a confirmed label).
    pub source: String,
    pub reason: String,
    pub text_head: String,
    pub text_chars: u64,
    pub flags: Vec<FlagNote>,
    /// The top-level archive this entry came from.
    pub archive: Option<String>,
    /// MinHash signature bytes for near-duplicate detection.
    pub minhash: Option<Vec<u8>>,
}

impl Record {
    pub fn has_flag(&self, flag: Flag) -> bool {
        self.flags.iter().any(|f| f.flag == flag)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Walking,
    Processing,
    Finishing,
    Done,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    pub phase: Phase,
    pub files_total: u64,
    pub files_done: u64,
    /// Files already in the catalog from an earlier, interrupted attempt.
    pub files_skipped: u64,
    pub bytes_total: u64,
    pub bytes_done: u64,
    pub elapsed_ms: u64,
}

/// Where results go: the database and object store in production, memory in tests.
pub trait Sink: Send + Sync {
    /// Whether this path, with this size and modification time, is already cataloged by
    /// an earlier attempt of the same run (then it is neither re-read nor re-hashed).
    fn is_done(&self, path: &str, size: u64, mtime_ns: i64) -> bool;
    /// Store a file's content under its BLAKE3 hash (no-op when present).
    fn store_path(&self, hash: &str, path: &Path) -> Result<(), String>;
    /// Store bytes (an archive entry, a document read whole) under their BLAKE3 hash.
    fn store_bytes(&self, hash: &str, data: &[u8]) -> Result<(), String>;
    /// Catalog entries that stand or fall together: one file, or an archive with its
    /// entries.
    fn commit(&self, records: Vec<Record>) -> Result<(), String>;
    fn progress(&self, progress: &Progress);
    /// Asked between files; a true answer stops the run cleanly (resumable).
    fn cancelled(&self) -> bool {
        false
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunStats {
    pub files: u64,
    pub bytes: u64,
    pub processed: u64,
    pub skipped: u64,
    pub archives_opened: u64,
    pub archives_refused: u64,
    pub entries: u64,
    pub symlinks_skipped: u64,
    pub walk_errors: Vec<String>,
    pub cancelled: bool,
}

/// A file found by the walk with where it sits in the catalog.
struct Item {
    meta: FileMeta,
    path: String,
    unit: String,
    /// Path below the unit, which is what the classifier reads.
    rel: String,
}

/// Catalog path, unit and unit-relative path of `file` under `source`.
fn place(source: &Source, file: &Path) -> (String, String, String) {
    let root_name = source
        .path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| source.path.to_string_lossy().into_owned());
    let rel: Vec<String> = file
        .strip_prefix(&source.path)
        .unwrap_or(file)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if rel.is_empty() {
        // The source is a file itself: its stem names the unit unless one was given.
        let stem = Path::new(&root_name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| root_name.clone());
        let unit = source.unit.clone().unwrap_or(stem);
        return (root_name.clone(), unit, root_name);
    }
    let path = format!("{root_name}/{}", rel.join("/"));
    match &source.unit {
        Some(u) => (path, u.clone(), rel.join("/")),
        None if rel.len() > 1 => (path, rel[0].clone(), rel[1..].join("/")),
        None => (path, root_name, rel.join("/")),
    }
}

/// The walk's record of a single file given as a source.
fn file_meta(path: &Path, md: &std::fs::Metadata) -> FileMeta {
    use std::os::unix::fs::MetadataExt;
    FileMeta {
        path: path.to_path_buf(),
        size: md.len(),
        mtime_ns: md.mtime() * 1_000_000_000 + md.mtime_nsec(),
        dev: md.dev(),
        ino: md.ino(),
        nlink: md.nlink(),
    }
}

fn extension(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 10 => ext.to_lowercase(),
        _ => String::new(),
    }
}

fn truncate_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// What the engine learned from one piece of content.
struct Analysis {
    kind: Kind,
    flags: Vec<FlagNote>,
    text: String,
}

struct Engine<'a> {
    opts: &'a Options,
    classifier: &'a Classifier,
    hasher: MinHasher,
    sink: &'a dyn Sink,
    files_done: AtomicU64,
    bytes_done: AtomicU64,
    skipped: AtomicU64,
    archives_opened: AtomicU64,
    archives_refused: AtomicU64,
    entries: AtomicU64,
    failed: Mutex<Option<String>>,
    stop: AtomicBool,
}

impl Engine<'_> {
    fn fail(&self, e: String) {
        let mut f = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(e);
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Type, health and text of content held in memory.
    fn analyse(&self, name: &str, data: &[u8]) -> Analysis {
        let inspection = detect::inspect(name, data, true);
        let mut flags = inspection.flags;
        let mut text = String::new();
        let broken = flags
            .iter()
            .any(|f| matches!(f.flag, Flag::Corrupt | Flag::Encrypted));
        if inspection.kind.has_text() && !broken {
            let ex = extract::extract(inspection.kind, data);
            text = ex.text;
            flags.extend(ex.flags);
        }
        Analysis {
            kind: inspection.kind,
            flags,
            text,
        }
    }

    /// Classification, fingerprint and the rest of a record from an analysis.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        path: String,
        unit: &str,
        rel: &str,
        size: u64,
        mtime_ns: i64,
        hash: Option<String>,
        a: Analysis,
        archive: Option<String>,
    ) -> Record {
        let decision = self.classifier.classify(&Doc {
            path: rel,
            text: &a.text,
            kind: a.kind,
        });
        let certificate = decision.annex.and_then(|_| {
            crate::classify::match_certificate(rel, &a.text, &self.opts.certificate_names)
                .map(|i| self.opts.certificate_names[i].clone())
                .or_else(|| {
                    // Proposals are kept one folder per certificate: the annex's folder.
                    let parent = rel.rsplit_once('/').map(|(p, _)| p)?;
                    let folder = parent.rsplit('/').next()?;
                    Some(crate::classify::certificate_from_folder(folder))
                })
        });
        let minhash = if a.kind.has_text() {
            self.hasher.signature(&a.text).map(|s| s.to_bytes())
        } else {
            None
        };
        Record {
            ext: extension(&path),
            path,
            unit: unit.to_string(),
            rel: rel.to_string(),
            size,
            mtime_ns,
            hash,
            kind: a.kind,
            category: decision.category,
            category_confidence: decision.category_confidence,
            annex: decision.annex,
            annex_confidence: decision.annex_confidence,
            certificate,
            source: decision.source.as_str().to_string(),
            reason: decision.reason,
            text_head: truncate_chars(&a.text, TEXT_HEAD_CHARS),
            text_chars: a.text.chars().count() as u64,
            flags: a.flags,
            archive,
            minhash,
        }
    }

    fn store_bytes(&self, hash: &str, data: &[u8]) -> bool {
        if !self.opts.store_objects || data.is_empty() {
            return true;
        }
        match self.sink.store_bytes(hash, data) {
            Ok(()) => true,
            Err(e) => {
                self.fail(format!("object store: {e}"));
                false
            }
        }
    }

    /// Hash a file by streaming it (large files on both cores: BLAKE3's tree hashing) and
    /// put it into the object store.
    fn hash_and_store(&self, item: &Item) -> Result<String, String> {
        let hash = dedup::hash_file(&item.meta.path)
            .map_err(|e| format!("{}: {e}", item.path))?
            .to_hex()
            .to_string();
        if self.opts.store_objects
            && let Err(e) = self.sink.store_path(&hash, &item.meta.path)
        {
            self.fail(format!("object store: {e}"));
            return Err("object store failed".into());
        }
        Ok(hash)
    }

    /// Process one file from the walk; returns its record(s) for the commit group.
    fn file(&self, item: &Item) -> Result<Vec<Record>, String> {
        let meta = &item.meta;
        if meta.size == 0 {
            let mut r = self.record(
                item.path.clone(),
                &item.unit,
                &item.rel,
                0,
                meta.mtime_ns,
                Some(blake3::hash(b"").to_hex().to_string()),
                Analysis {
                    kind: Kind::Empty,
                    flags: vec![FlagNote::new(Flag::Empty, "zero bytes")],
                    text: String::new(),
                },
                None,
            );
            r.category = Category::Other;
            return Ok(vec![r]);
        }
        let mut f = File::open(&meta.path).map_err(|e| format!("{}: {e}", item.path))?;
        let mut head = vec![0u8; HEAD_LEN.min(meta.size as usize)];
        f.read_exact(&mut head)
            .map_err(|e| format!("{}: {e}", item.path))?;
        let complete = head.len() as u64 >= meta.size;
        let first = detect::inspect(&item.path, &head, complete);
        if matches!(first.kind, Kind::Zip | Kind::SevenZ) {
            return self.archive(item, first.kind, f);
        }
        let textual = !matches!(
            first.kind,
            Kind::Image | Kind::Video | Kind::Audio | Kind::Rar | Kind::SevenZ
        );
        if textual && meta.size <= self.opts.max_doc_size {
            let mut data = head;
            if !complete {
                f.read_to_end(&mut data)
                    .map_err(|e| format!("{}: {e}", item.path))?;
            }
            let hash = blake3::hash(&data).to_hex().to_string();
            if !self.store_bytes(&hash, &data) {
                return Err("object store failed".into());
            }
            let a = self.analyse(&item.path, &data);
            return Ok(vec![self.record(
                item.path.clone(),
                &item.unit,
                &item.rel,
                meta.size,
                meta.mtime_ns,
                Some(hash),
                a,
                None,
            )]);
        }
        drop(f);
        let hash = self.hash_and_store(item)?;
        let mut flags = first.flags;
        if first.kind == Kind::Rar {
            flags.push(FlagNote::new(
                Flag::UnsupportedArchive,
                "RAR archives are kept as files, not opened",
            ));
        }
        Ok(vec![self.record(
            item.path.clone(),
            &item.unit,
            &item.rel,
            meta.size,
            meta.mtime_ns,
            Some(hash),
            Analysis {
                kind: first.kind,
                flags,
                text: String::new(),
            },
            None,
        )])
    }

    /// An archive: the file itself is cataloged and stored, then its entries, all in one
    /// commit group. A hostile archive is cataloged with the reason and its entries are
    /// dropped.
    fn archive(&self, item: &Item, kind: Kind, f: File) -> Result<Vec<Record>, String> {
        drop(f);
        let meta = &item.meta;
        let hash = self.hash_and_store(item)?;
        let reader =
            BufReader::new(File::open(&meta.path).map_err(|e| format!("{}: {e}", item.path))?);
        let mut entries: Vec<Record> = Vec::new();
        let mut visit = |leaf: archive::Leaf| {
            let path = format!("{}/{}", item.path, leaf.path);
            let rel = format!("{}/{}", item.rel, leaf.path);
            let encrypted = leaf.flags.iter().any(|f| f.flag == Flag::Encrypted);
            let (hash, mut a) = if leaf.opened {
                // A nested archive: stored and cataloged as the container of its entries.
                let h = blake3::hash(&leaf.data).to_hex().to_string();
                self.store_bytes(&h, &leaf.data);
                (
                    Some(h),
                    Analysis {
                        kind: detect::inspect(&path, &leaf.data, true).kind,
                        flags: Vec::new(),
                        text: String::new(),
                    },
                )
            } else if encrypted && leaf.data.is_empty() {
                (
                    None,
                    Analysis {
                        kind: detect::inspect(&path, &[], false).kind,
                        flags: Vec::new(),
                        text: String::new(),
                    },
                )
            } else {
                let h = blake3::hash(&leaf.data).to_hex().to_string();
                self.store_bytes(&h, &leaf.data);
                (Some(h), self.analyse(&path, &leaf.data))
            };
            for f in leaf.flags {
                if !a.flags.iter().any(|g| g.flag == f.flag) {
                    a.flags.push(f);
                }
            }
            entries.push(self.record(
                path,
                &item.unit,
                &rel,
                leaf.size,
                meta.mtime_ns,
                hash,
                a,
                Some(item.path.clone()),
            ));
        };
        let outcome = archive::open(kind, reader, &self.opts.limits, &mut visit);
        let mut flags = Vec::new();
        match outcome {
            Ok(outcome) => {
                self.archives_opened.fetch_add(1, Ordering::Relaxed);
                self.entries
                    .fetch_add(entries.len() as u64, Ordering::Relaxed);
                flags.extend(outcome.flags);
                self.archives_refused
                    .fetch_add(outcome.nested_refused.len() as u64, Ordering::Relaxed);
            }
            Err(refusal) => {
                entries.clear();
                // A damaged archive is not an attack: it is flagged for what it is.
                let flag = if matches!(refusal, archive::Refusal::Corrupt(_)) {
                    Flag::Corrupt
                } else {
                    self.archives_refused.fetch_add(1, Ordering::Relaxed);
                    Flag::HostileArchive
                };
                flags.push(FlagNote::new(flag, format!("{refusal} / {}", refusal.zh())));
            }
        }
        let mut own = self.record(
            item.path.clone(),
            &item.unit,
            &item.rel,
            meta.size,
            meta.mtime_ns,
            Some(hash),
            Analysis {
                kind,
                flags,
                text: String::new(),
            },
            None,
        );
        if own.category == Category::Other && !entries.is_empty() {
            own.reason = format!("archive of {} entries", entries.len());
        }
        let mut group = vec![own];
        group.extend(entries);
        Ok(group)
    }
}

/// Walk the sources and catalog every file through `sink`.
pub fn run(
    sources: &[Source],
    opts: &Options,
    classifier: &Classifier,
    sink: &dyn Sink,
) -> Result<RunStats, String> {
    let started = Instant::now();
    let walk_threads = opts.threads.clamp(1, 4);
    sink.progress(&Progress {
        phase: Phase::Walking,
        files_total: 0,
        files_done: 0,
        files_skipped: 0,
        bytes_total: 0,
        bytes_done: 0,
        elapsed_ms: 0,
    });
    let mut stats = RunStats::default();
    let mut items: Vec<Item> = Vec::new();
    for source in sources {
        let md = std::fs::symlink_metadata(&source.path)
            .map_err(|e| format!("{}: {e}", source.path.display()))?;
        let (metas, errors, wstats): (Vec<FileMeta>, Vec<WalkError>, _) = if md.is_file() {
            (
                vec![file_meta(&source.path, &md)],
                Vec::new(),
                Default::default(),
            )
        } else if md.is_dir() {
            dedup::walk(std::slice::from_ref(&source.path), walk_threads)
        } else {
            return Err(format!(
                "{}: not a regular file or folder",
                source.path.display()
            ));
        };
        stats.symlinks_skipped += wstats.symlinks_skipped;
        stats.walk_errors.extend(
            errors
                .into_iter()
                .map(|e| format!("{}: {}", e.path.display(), e.error)),
        );
        for meta in metas {
            let (path, unit, rel) = place(source, &meta.path);
            items.push(Item {
                meta,
                path,
                unit,
                rel,
            });
        }
    }
    stats.files = items.len() as u64;
    stats.bytes = items.iter().map(|i| i.meta.size).sum();

    // Hard links: the first path of an inode is read; the others repeat its result.
    let mut by_inode: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if it.meta.nlink > 1 {
            by_inode
                .entry((it.meta.dev, it.meta.ino))
                .or_default()
                .push(i);
        }
    }
    let mut link_of: HashMap<usize, usize> = HashMap::new();
    for idx in by_inode.values().filter(|v| v.len() > 1) {
        for &other in &idx[1..] {
            link_of.insert(other, idx[0]);
        }
    }

    let engine = Engine {
        opts,
        classifier,
        hasher: MinHasher::default_for_documents(),
        sink,
        files_done: AtomicU64::new(0),
        bytes_done: AtomicU64::new(0),
        skipped: AtomicU64::new(0),
        archives_opened: AtomicU64::new(0),
        archives_refused: AtomicU64::new(0),
        entries: AtomicU64::new(0),
        failed: Mutex::new(None),
        stop: AtomicBool::new(false),
    };
    let primaries: Vec<usize> = (0..items.len())
        .filter(|i| !link_of.contains_key(i))
        .collect();
    let linked_primaries: std::collections::HashSet<usize> = link_of.values().copied().collect();
    let primary_records: Mutex<HashMap<usize, Record>> = Mutex::new(HashMap::new());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .thread_name(|i| format!("xcert-ingest-{i}"))
        .build()
        .map_err(|e| e.to_string())?;
    let done = AtomicBool::new(false);
    let total_files = stats.files;
    let total_bytes = stats.bytes;
    let progress_of = |phase| Progress {
        phase,
        files_total: total_files,
        files_done: engine.files_done.load(Ordering::Relaxed),
        files_skipped: engine.skipped.load(Ordering::Relaxed),
        bytes_total: total_bytes,
        bytes_done: engine.bytes_done.load(Ordering::Relaxed),
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                sink.progress(&progress_of(Phase::Processing));
                let mut waited = Duration::ZERO;
                while waited < Duration::from_millis(250) && !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(25));
                    waited += Duration::from_millis(25);
                }
            }
        });
        pool.install(|| {
            use rayon::prelude::*;
            primaries.par_iter().for_each(|&i| {
                if engine.stop.load(Ordering::Relaxed) {
                    return;
                }
                if sink.cancelled() {
                    engine.stop.store(true, Ordering::SeqCst);
                    return;
                }
                let it = &items[i];
                let finish = |engine: &Engine| {
                    engine.files_done.fetch_add(1, Ordering::Relaxed);
                    engine.bytes_done.fetch_add(it.meta.size, Ordering::Relaxed);
                };
                if sink.is_done(&it.path, it.meta.size, it.meta.mtime_ns) {
                    engine.skipped.fetch_add(1, Ordering::Relaxed);
                    finish(&engine);
                    return;
                }
                match engine.file(it) {
                    Ok(mut group) => {
                        if linked_primaries.contains(&i)
                            && let Some(first) = group.first_mut()
                        {
                            first.flags.push(FlagNote::new(
                                Flag::HardLink,
                                format!("{} paths share this file", it.meta.nlink),
                            ));
                            primary_records
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(i, first.clone());
                        }
                        if let Err(e) = sink.commit(group) {
                            engine.fail(format!("catalog: {e}"));
                        }
                    }
                    Err(e) => {
                        if !engine.stop.load(Ordering::Relaxed) {
                            // An unreadable file is cataloged as such, not fatal.
                            let r = engine.record(
                                it.path.clone(),
                                &it.unit,
                                &it.rel,
                                it.meta.size,
                                it.meta.mtime_ns,
                                None,
                                Analysis {
                                    kind: Kind::Unknown,
                                    flags: vec![FlagNote::new(Flag::Corrupt, e)],
                                    text: String::new(),
                                },
                                None,
                            );
                            if let Err(e) = sink.commit(vec![r]) {
                                engine.fail(format!("catalog: {e}"));
                            }
                        }
                    }
                }
                finish(&engine);
            });
        });
        if !engine.stop.load(Ordering::Relaxed) {
            let primaries = primary_records
                .into_inner()
                .unwrap_or_else(|p| p.into_inner());
            let mut links: Vec<(usize, usize)> = link_of.iter().map(|(a, b)| (*a, *b)).collect();
            links.sort();
            for (link, primary) in links {
                let it = &items[link];
                if sink.is_done(&it.path, it.meta.size, it.meta.mtime_ns) {
                    engine.skipped.fetch_add(1, Ordering::Relaxed);
                } else if let Some(p) = primaries.get(&primary) {
                    let mut r = p.clone();
                    r.path = it.path.clone();
                    r.unit = it.unit.clone();
                    r.rel = it.rel.clone();
                    r.ext = extension(&it.path);
                    r.mtime_ns = it.meta.mtime_ns;
                    r.flags.retain(|f| f.flag != Flag::HardLink);
                    r.flags.push(FlagNote::new(
                        Flag::HardLink,
                        format!("same file as {}", items[primary].path),
                    ));
                    if let Err(e) = sink.commit(vec![r]) {
                        engine.fail(format!("catalog: {e}"));
                        break;
                    }
                } else if let Ok(mut group) = engine.file(it) {
                    // The primary was cataloged by an earlier attempt: read this path itself,
                    // and still say which file it is.
                    if let Some(first) = group.first_mut() {
                        first.flags.push(FlagNote::new(
                            Flag::HardLink,
                            format!("same file as {}", items[primary].path),
                        ));
                    }
                    if let Err(e) = sink.commit(group) {
                        engine.fail(format!("catalog: {e}"));
                        break;
                    }
                }
                engine.files_done.fetch_add(1, Ordering::Relaxed);
                engine.bytes_done.fetch_add(it.meta.size, Ordering::Relaxed);
            }
        }
        done.store(true, Ordering::Relaxed);
    });
    if let Some(e) = engine
        .failed
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
    {
        return Err(e);
    }
    stats.processed =
        engine.files_done.load(Ordering::Relaxed) - engine.skipped.load(Ordering::Relaxed);
    stats.skipped = engine.skipped.load(Ordering::Relaxed);
    stats.archives_opened = engine.archives_opened.load(Ordering::Relaxed);
    stats.archives_refused = engine.archives_refused.load(Ordering::Relaxed);
    stats.entries = engine.entries.load(Ordering::Relaxed);
    stats.cancelled = engine.stop.load(Ordering::Relaxed);
    let phase = if stats.cancelled {
        Phase::Processing
    } else {
        Phase::Finishing
    };
    sink.progress(&Progress {
        phase,
        files_total: stats.files,
        files_done: engine.files_done.load(Ordering::Relaxed),
        files_skipped: stats.skipped,
        bytes_total: stats.bytes,
        bytes_done: engine.bytes_done.load(Ordering::Relaxed),
        elapsed_ms: started.elapsed().as_millis() as u64,
    });
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_the_first_folder_level() {
        let s = Source {
            path: PathBuf::from("/data/材料"),
            unit: None,
        };
        let (p, u, r) = place(&s, Path::new("/data/材料/山东电力/考核大纲/a.docx"));
        assert_eq!(p, "材料/山东电力/考核大纲/a.docx");
        assert_eq!(u, "山东电力");
        assert_eq!(r, "考核大纲/a.docx");
        let (_, u, r) = place(&s, Path::new("/data/材料/readme.txt"));
        assert_eq!((u.as_str(), r.as_str()), ("材料", "readme.txt"));
        let given = Source {
            path: PathBuf::from("/data/材料"),
            unit: Some("国网技术学院".into()),
        };
        let (_, u, r) = place(&given, Path::new("/data/材料/山东电力/a.docx"));
        assert_eq!(
            (u.as_str(), r.as_str()),
            ("国网技术学院", "山东电力/a.docx")
        );
        let file = Source {
            path: PathBuf::from("/up/湖北中心.zip"),
            unit: None,
        };
        let (p, u, _) = place(&file, Path::new("/up/湖北中心.zip"));
        assert_eq!((p.as_str(), u.as_str()), ("湖北中心.zip", "湖北中心"));
    }

    #[test]
    fn extensions_are_lowercased_and_dotfiles_have_none() {
        assert_eq!(extension("a/b/报告.PDF"), "pdf");
        assert_eq!(extension("a/.hidden"), "");
        assert_eq!(extension("a/noext"), "");
    }
}
