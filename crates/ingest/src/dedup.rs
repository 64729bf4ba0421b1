//! Exact duplicates (完全重复文件): walk the material folders in parallel, then narrow the
//! candidates in stages — equal size, equal head and tail, equal full BLAKE3 — so that only
//! files that still look alike are read in full.
//!
//! Hard links (same device and inode) are one file stored under several names: they are
//! reported in [`DedupReport::hard_links`] and count once in a duplicate group. Empty files
//! are all alike and say nothing, so they are listed apart and never grouped.

use std::cell::RefCell;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What the walk learned about one regular file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
}

/// A path that could not be listed, inspected or read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkError {
    pub path: PathBuf,
    pub error: String,
}

/// Counts from one walk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkStats {
    /// Regular files found.
    pub files: u64,
    /// Directories entered, roots included.
    pub dirs: u64,
    /// Symbolic links met below the roots and not followed.
    pub symlinks_skipped: u64,
    /// Total size of the regular files found.
    pub bytes: u64,
}

/// Tuning for [`find_duplicates`] and [`dedup_paths`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupOptions {
    /// Threads of the hashing pool; 0 means one per core.
    pub hash_threads: usize,
    /// Threads of the walking pool; 0 means one per core.
    pub walk_threads: usize,
    /// Bytes read from the head and from the tail of a candidate in the partial stage. Files
    /// no larger than twice this are hashed whole in that stage.
    pub edge_len: usize,
}

impl Default for DedupOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        DedupOptions {
            hash_threads: cores,
            walk_threads: cores,
            edge_len: DEFAULT_EDGE_LEN,
        }
    }
}

/// Head and tail length: one 4 KiB page each way costs no more to read than a byte.
const DEFAULT_EDGE_LEN: usize = 4096;

/// Buffer of the streaming full hash: large enough that BLAKE3 hashes many 1 KiB chunks per
/// call with SIMD and that reads are few.
const STREAM_BUF_LEN: usize = 256 * 1024;

/// Files at least this large are hashed with BLAKE3's multithreaded `update_rayon`, so that
/// a few big videos at the end of the queue still use every core of the hashing pool.
const RAYON_HASH_MIN: u64 = 16 * 1024 * 1024;

/// Buffer for those big files: each `update_rayon` call gets enough work to split.
const RAYON_BUF_LEN: usize = 1024 * 1024;

/// Files with identical content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DupGroup {
    pub size: u64,
    /// BLAKE3 of the content, lowercase hex.
    pub hash: String,
    /// Sorted; one path per distinct inode (the smallest path of a hard-link set).
    pub files: Vec<PathBuf>,
}

/// Several paths naming one file (same device and inode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardLinkSet {
    pub dev: u64,
    pub ino: u64,
    /// Sorted.
    pub paths: Vec<PathBuf>,
}

/// The outcome of exact deduplication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupReport {
    /// Sorted by size, largest first, then by first path.
    pub groups: Vec<DupGroup>,
    /// Hard-link sets among the non-empty files, sorted by first path.
    pub hard_links: Vec<HardLinkSet>,
    /// Every empty file, sorted.
    pub empty_files: Vec<PathBuf>,
    /// Paths examined (every hard link counted).
    pub files: u64,
    /// Total size of the paths examined (every hard link counted).
    pub bytes: u64,
    /// Bytes actually read for hashing.
    pub bytes_read: u64,
    /// Bytes that removing all but one copy of each group would free: size × (copies − 1).
    pub redundant_bytes: u64,
    /// Walk errors (from [`dedup_paths`]) and files that could not be read, sorted by path.
    pub errors: Vec<WalkError>,
}

/// Walks `roots` on a pool of `threads` threads (0: one per core) and returns the regular
/// files sorted by path, the errors sorted by path, and counts.
///
/// Symbolic links below the roots are not followed, only counted; a root that is itself a
/// link is followed, since naming it is asking for it. Other special files (sockets, pipes,
/// devices) are passed over. A file reached through two overlapping roots is listed once.
pub fn walk(roots: &[PathBuf], threads: usize) -> (Vec<FileMeta>, Vec<WalkError>, WalkStats) {
    let sink = WalkSink::default();
    with_pool(threads, || {
        rayon::scope(|scope| {
            for root in roots {
                match fs::metadata(root) {
                    Err(e) => sink.error(root.clone(), &e),
                    Ok(md) if md.is_dir() => {
                        sink.dirs.fetch_add(1, Ordering::Relaxed);
                        let sink = &sink;
                        let dir = root.clone();
                        scope.spawn(move |s| walk_dir(s, dir, sink));
                    }
                    Ok(md) if md.is_file() => sink.push_files(vec![file_meta(root.clone(), &md)]),
                    Ok(_) => {}
                }
            }
        });
    });

    let mut files = sink.files.into_inner().unwrap_or_else(|p| p.into_inner());
    files.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    let mut errors = sink.errors.into_inner().unwrap_or_else(|p| p.into_inner());
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    let stats = WalkStats {
        files: files.len() as u64,
        dirs: sink.dirs.load(Ordering::Relaxed),
        symlinks_skipped: sink.symlinks.load(Ordering::Relaxed),
        bytes: files.iter().map(|f| f.size).sum(),
    };
    (files, errors, stats)
}

#[derive(Default)]
struct WalkSink {
    files: Mutex<Vec<FileMeta>>,
    errors: Mutex<Vec<WalkError>>,
    dirs: AtomicU64,
    symlinks: AtomicU64,
}

impl WalkSink {
    fn error(&self, path: PathBuf, e: &io::Error) {
        let entry = WalkError {
            path,
            error: e.to_string(),
        };
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }

    fn push_files(&self, mut batch: Vec<FileMeta>) {
        if !batch.is_empty() {
            self.files
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .append(&mut batch);
        }
    }
}

/// Lists one directory, spawning a task per subdirectory; the files of a directory are
/// handed over in one batch so the shared list is locked once per directory.
fn walk_dir<'s>(scope: &rayon::Scope<'s>, dir: PathBuf, sink: &'s WalkSink) {
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => return sink.error(dir, &e),
    };
    let mut batch = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                sink.error(dir.clone(), &e);
                continue;
            }
        };
        // The type comes from the directory entry itself on most file systems: no stat.
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) => {
                sink.error(entry.path(), &e);
                continue;
            }
        };
        if file_type.is_symlink() {
            sink.symlinks.fetch_add(1, Ordering::Relaxed);
        } else if file_type.is_dir() {
            sink.dirs.fetch_add(1, Ordering::Relaxed);
            let sub = entry.path();
            scope.spawn(move |s| walk_dir(s, sub, sink));
        } else if file_type.is_file() {
            // Stats relative to the open directory, without following links.
            match entry.metadata() {
                Ok(md) => batch.push(file_meta(entry.path(), &md)),
                Err(e) => sink.error(entry.path(), &e),
            }
        }
    }
    sink.push_files(batch);
}

#[cfg(unix)]
fn file_meta(path: PathBuf, md: &fs::Metadata) -> FileMeta {
    use std::os::unix::fs::MetadataExt;
    FileMeta {
        path,
        size: md.len(),
        mtime_ns: md
            .mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(md.mtime_nsec()),
        dev: md.dev(),
        ino: md.ino(),
        nlink: md.nlink(),
    }
}

#[cfg(not(unix))]
fn file_meta(path: PathBuf, md: &fs::Metadata) -> FileMeta {
    let mtime_ns = md
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    // No inode numbers here: nlink 1 keeps every file out of hard-link detection.
    FileMeta {
        path,
        size: md.len(),
        mtime_ns,
        dev: 0,
        ino: 0,
        nlink: 1,
    }
}

/// Runs `f` inside a dedicated pool of `threads` threads (0: one per core), or on the
/// caller's pool if the threads cannot be started.
fn with_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

/// Walks `roots` and finds the exact duplicates among the files found; walk errors are
/// included in the report's errors.
pub fn dedup_paths(roots: &[PathBuf], opts: &DedupOptions) -> DedupReport {
    let (files, walk_errors, _) = walk(roots, opts.walk_threads);
    let mut report = find_duplicates(&files, opts);
    if !walk_errors.is_empty() {
        report.errors.extend(walk_errors);
        report.errors.sort_by(|a, b| a.path.cmp(&b.path));
    }
    report
}

/// What a stage learned about one candidate: the full hash when the whole file was read,
/// else the hash of its head and tail.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Full([u8; 32]),
    Edges([u8; 32]),
}

/// Finds the files of `files` with identical content: group by size, then by a hash of the
/// head and tail, then by full BLAKE3 only where still ambiguous. Reading happens on a pool
/// of `opts.hash_threads` threads, in device and inode order to spare seeks.
pub fn find_duplicates(files: &[FileMeta], opts: &DedupOptions) -> DedupReport {
    let mut report = DedupReport {
        files: files.len() as u64,
        bytes: files.iter().map(|f| f.size).sum(),
        ..DedupReport::default()
    };

    // Every non-empty inode once, represented by its smallest path.
    let mut distinct: Vec<usize> = Vec::with_capacity(files.len());
    let mut linked: Vec<usize> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        if f.size == 0 {
            report.empty_files.push(f.path.clone());
        } else if f.nlink > 1 {
            linked.push(i);
        } else {
            distinct.push(i);
        }
    }
    report.empty_files.sort();
    linked.sort_unstable_by(|&a, &b| {
        let (fa, fb) = (&files[a], &files[b]);
        (fa.dev, fa.ino, &fa.path).cmp(&(fb.dev, fb.ino, &fb.path))
    });
    for run in
        linked.chunk_by(|&a, &b| files[a].dev == files[b].dev && files[a].ino == files[b].ino)
    {
        distinct.push(run[0]);
        if run.len() > 1 {
            report.hard_links.push(HardLinkSet {
                dev: files[run[0]].dev,
                ino: files[run[0]].ino,
                paths: run.iter().map(|&i| files[i].path.clone()).collect(),
            });
        }
    }
    report.hard_links.sort_by(|a, b| a.paths.cmp(&b.paths));

    // Only sizes shared by two or more inodes can hold duplicates.
    distinct.sort_unstable_by_key(|&i| files[i].size);
    let mut candidates: Vec<usize> = distinct
        .chunk_by(|&a, &b| files[a].size == files[b].size)
        .filter(|run| run.len() > 1)
        .flatten()
        .copied()
        .collect();
    drop(distinct);
    sort_for_disk(&mut candidates, files);

    let bytes_read = AtomicU64::new(0);
    let edge_len = opts.edge_len.max(1);
    let (errors, mut settled) = with_pool(opts.hash_threads, || {
        let edge_keys: Vec<(usize, io::Result<Key>)> = candidates
            .par_iter()
            .map(|&i| (i, edge_key(&files[i], edge_len, &bytes_read)))
            .collect();

        // Those still alike after the edges are hashed in full.
        let mut ambiguous: Vec<(u64, Key, usize)> = Vec::new();
        let mut settled: Vec<(u64, Key, usize)> = Vec::new();
        let mut errors = Vec::new();
        for (i, key) in edge_keys {
            match key {
                Ok(key @ Key::Full(_)) => settled.push((files[i].size, key, i)),
                Ok(key @ Key::Edges(_)) => ambiguous.push((files[i].size, key, i)),
                Err(e) => errors.push(read_error(&files[i], &e)),
            }
        }
        ambiguous.sort_unstable();
        let mut second: Vec<usize> = ambiguous
            .chunk_by(|a, b| a.0 == b.0 && a.1 == b.1)
            .filter(|run| run.len() > 1)
            .flatten()
            .map(|&(_, _, i)| i)
            .collect();
        sort_for_disk(&mut second, files);
        let full: Vec<(usize, io::Result<[u8; 32]>)> = second
            .par_iter()
            .map(|&i| (i, full_hash_counted(&files[i], &bytes_read)))
            .collect();
        for (i, hash) in full {
            match hash {
                Ok(h) => settled.push((files[i].size, Key::Full(h), i)),
                Err(e) => errors.push(read_error(&files[i], &e)),
            }
        }
        (errors, settled)
    });
    report.errors = errors;

    settled.sort_unstable();
    for run in settled.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1) {
        if run.len() < 2 {
            continue;
        }
        let Key::Full(hash) = run[0].1 else { continue };
        let size = run[0].0;
        let mut paths: Vec<PathBuf> = run.iter().map(|&(_, _, i)| files[i].path.clone()).collect();
        paths.sort();
        report.redundant_bytes += size * (paths.len() as u64 - 1);
        report.groups.push(DupGroup {
            size,
            hash: blake3::Hash::from_bytes(hash).to_hex().to_string(),
            files: paths,
        });
    }
    report
        .groups
        .sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.files.cmp(&b.files)));
    report.errors.sort_by(|a, b| a.path.cmp(&b.path));
    report.bytes_read = bytes_read.into_inner();
    report
}

/// Device then inode order approximates on-disk order on most file systems.
fn sort_for_disk(indices: &mut [usize], files: &[FileMeta]) {
    indices.sort_unstable_by_key(|&i| (files[i].dev, files[i].ino));
}

fn read_error(f: &FileMeta, e: &io::Error) -> WalkError {
    WalkError {
        path: f.path.clone(),
        error: e.to_string(),
    }
}

thread_local! {
    /// One reusable read buffer per hashing thread.
    static READ_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn with_buffer<R>(min_len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    READ_BUF.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < min_len {
            buf.resize(min_len, 0);
        }
        f(&mut buf[..])
    })
}

/// The partial stage: a small file is hashed whole; a larger one by its head and tail,
/// read with two positioned reads.
fn edge_key(f: &FileMeta, edge_len: usize, bytes_read: &AtomicU64) -> io::Result<Key> {
    let file = File::open(&f.path)?;
    let whole = f.size <= 2 * edge_len as u64;
    with_buffer(STREAM_BUF_LEN.max(2 * edge_len), |buf| {
        if whole {
            // Checked above: size fits the buffer.
            let len = f.size as usize;
            read_exact_at(&file, &mut buf[..len], 0)?;
            bytes_read.fetch_add(f.size, Ordering::Relaxed);
            Ok(Key::Full(*blake3::hash(&buf[..len]).as_bytes()))
        } else {
            let (head, rest) = buf.split_at_mut(edge_len);
            let tail = &mut rest[..edge_len];
            read_exact_at(&file, head, 0)?;
            read_exact_at(&file, tail, f.size - edge_len as u64)?;
            bytes_read.fetch_add(2 * edge_len as u64, Ordering::Relaxed);
            let mut hasher = blake3::Hasher::new();
            hasher.update(head);
            hasher.update(tail);
            Ok(Key::Edges(*hasher.finalize().as_bytes()))
        }
    })
}

fn full_hash_counted(f: &FileMeta, bytes_read: &AtomicU64) -> io::Result<[u8; 32]> {
    let file = File::open(&f.path)?;
    let (hash, len) = hash_open_file(file, f.size)?;
    bytes_read.fetch_add(len, Ordering::Relaxed);
    if len != f.size {
        return Err(io::Error::other(format!(
            "file changed while scanning: {} bytes listed, {len} read",
            f.size
        )));
    }
    Ok(*hash.as_bytes())
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(mut file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// Hashes everything `r` yields through `buf`; `size_hint` (the expected length) decides
/// whether BLAKE3 spreads each buffer over the current rayon pool.
fn stream_hash(
    mut r: impl Read,
    buf: &mut [u8],
    size_hint: u64,
) -> io::Result<(blake3::Hash, u64)> {
    let mut hasher = blake3::Hasher::new();
    let mut total = 0u64;
    let parallel = size_hint >= RAYON_HASH_MIN;
    loop {
        let n = match r.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if parallel {
            hasher.update_rayon(&buf[..n]);
        } else {
            hasher.update(&buf[..n]);
        }
        total += n as u64;
    }
    Ok((hasher.finalize(), total))
}

/// Streams an open file of about `size` bytes through BLAKE3.
fn hash_open_file(file: File, size: u64) -> io::Result<(blake3::Hash, u64)> {
    if size >= RAYON_HASH_MIN {
        // Not the thread's buffer: while `update_rayon` waits on its halves this thread may
        // run another hashing task, which would want that buffer too. One allocation per
        // file of this size is nothing.
        let mut buf = vec![0u8; RAYON_BUF_LEN];
        stream_hash(file, &mut buf, size)
    } else {
        with_buffer(STREAM_BUF_LEN, |buf| stream_hash(file, buf, size))
    }
}

/// BLAKE3 of a whole file, streamed through a large buffer.
pub fn hash_file(path: &Path) -> io::Result<blake3::Hash> {
    let file = File::open(path)?;
    let size = file.metadata().map_or(0, |m| m.len());
    hash_open_file(file, size).map(|(hash, _)| hash)
}

/// BLAKE3 of everything `r` yields, and how many bytes that was.
pub fn hash_reader(r: impl Read) -> io::Result<(blake3::Hash, u64)> {
    let mut buf = vec![0u8; STREAM_BUF_LEN];
    stream_hash(r, &mut buf, 0)
}
