//! Exact deduplication on a tree of traps whose duplicate groups are known by construction,
//! checked against the expected groups and, where installed, against `fclones` and `jdupes`.
//!
//! Peer flags, chosen so that every tool answers the same question as `find_duplicates`:
//! - `fclones group --hidden --no-ignore --format json ROOT`: hidden files and ignore files
//!   must not hide anything; by default fclones skips empty files (`--min 1`) and symlinks,
//!   and without `-H` reports a hard-link set only alongside a real copy.
//! - `jdupes -r -Q ROOT`: recursive, quick (hash-only, like us); by default jdupes skips
//!   empty files (no `-z`), does not follow symlinks (no `-s`) and never matches two hard
//!   links of one inode (no `-H`), so a hard-link set alone is no group.
//!
//! Both print every path they consider; each is mapped to the smallest path of its inode and
//! groups left with fewer than two inodes are dropped, which is how our groups are defined.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use xcert_ingest::dedup::{
    DedupOptions, DedupReport, FileMeta, dedup_paths, find_duplicates, hash_file, hash_reader, walk,
};

struct Trap {
    root: PathBuf,
    /// Expected groups: relative paths, one per inode (smallest path of a hard-link set).
    groups: BTreeSet<BTreeSet<String>>,
    /// Content of each expected group, keyed by its first relative path.
    contents: BTreeMap<String, Vec<u8>>,
    hard_links: BTreeSet<BTreeSet<String>>,
    empty: BTreeSet<String>,
    regular_files: u64,
    dirs: u64,
    symlinks: u64,
}

fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

struct Builder {
    root: PathBuf,
    files: u64,
}

impl Builder {
    fn write(&mut self, rel: &str, content: &[u8]) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
        self.files += 1;
    }

    fn link(&mut self, existing: &str, rel: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::hard_link(self.root.join(existing), path).unwrap();
        self.files += 1;
    }
}

fn set(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

fn build_trap(dir: &Path) -> Trap {
    let root = dir.canonicalize().unwrap();
    let mut rng = StdRng::seed_from_u64(20240601);
    let mut b = Builder {
        root: root.clone(),
        files: 0,
    };
    let mut groups = BTreeSet::new();
    let mut contents = BTreeMap::new();
    let mut expect = |paths: &[&str], content: &[u8]| {
        groups.insert(set(paths));
        contents.insert(paths.iter().min().unwrap().to_string(), content.to_vec());
    };

    // Exact copies across unit folders, Chinese names and a space in a name.
    let a = random_bytes(&mut rng, 100_000);
    b.write("unit01/申报书.docx", &a);
    b.write("unit02/申报书（副本）.docx", &a);
    b.write("unit03/nested/deep/a copy.docx", &a);
    expect(
        &[
            "unit01/申报书.docx",
            "unit02/申报书（副本）.docx",
            "unit03/nested/deep/a copy.docx",
        ],
        &a,
    );

    // Same size, same 64 KiB head and tail, one byte apart in the middle; one has a copy.
    let b1 = random_bytes(&mut rng, 3 * 1024 * 1024);
    let mut b2 = b1.clone();
    b2[1_500_000] ^= 0x5a;
    b.write("unit04/middle_a.pdf", &b1);
    b.write("unit04/middle_b.pdf", &b2);
    b.write("unit05/middle_a 副本.pdf", &b1);
    expect(&["unit04/middle_a.pdf", "unit05/middle_a 副本.pdf"], &b1);

    // Same size, different first byte; same size, different last byte.
    let c1 = random_bytes(&mut rng, 50_000);
    let mut c2 = c1.clone();
    c2[0] ^= 1;
    b.write("unit06/head_1.xlsx", &c1);
    b.write("unit06/head_2.xlsx", &c2);
    let d1 = random_bytes(&mut rng, 50_001);
    let mut d2 = d1.clone();
    d2[50_000] ^= 1;
    b.write("unit06/tail_1.xlsx", &d1);
    b.write("unit06/tail_2.xlsx", &d2);

    // At edge lengths 4 KiB and 32 KiB (the default): twice the edge is read whole in the
    // partial stage; one byte more, and the byte at the edge length lies in neither the
    // head nor the tail.
    for edge in [4096usize, 32 * 1024] {
        let whole = random_bytes(&mut rng, 2 * edge);
        let (wa, wb) = (
            format!("edges/{edge}/whole_a"),
            format!("edges/{edge}/whole_b"),
        );
        b.write(&wa, &whole);
        b.write(&wb, &whole);
        expect(&[wa.as_str(), wb.as_str()], &whole);
        let over = random_bytes(&mut rng, 2 * edge + 1);
        let mut over_mid = over.clone();
        over_mid[edge] ^= 0xff;
        let (oa, ob) = (
            format!("edges/{edge}/over_a"),
            format!("edges/{edge}/over_b"),
        );
        b.write(&oa, &over);
        b.write(&ob, &over);
        b.write(&format!("edges/{edge}/over_mid"), &over_mid);
        expect(&[oa.as_str(), ob.as_str()], &over);
    }

    // Large enough for the multithreaded hash: a copy, and a twin that differs mid-file.
    let h = random_bytes(&mut rng, 17 * 1024 * 1024 + 3);
    let mut h_mid = h.clone();
    h_mid[9 * 1024 * 1024] ^= 0x10;
    b.write("video/课程录像.mp4", &h);
    b.write("video/课程录像 (1).mp4", &h);
    b.write("video/课程录像_改.mp4", &h_mid);
    expect(&["video/课程录像 (1).mp4", "video/课程录像.mp4"], &h);

    // Hard links: e has a link and a real copy; f has only links.
    let e = random_bytes(&mut rng, 30_000);
    b.write("links/e", &e);
    b.link("links/e", "links/e_link");
    b.link("links/e", "unit07/e_link_again");
    b.write("other/e_copy", &e);
    expect(&["links/e", "other/e_copy"], &e);
    let f = random_bytes(&mut rng, 40_000);
    b.write("links/f", &f);
    b.link("links/f", "links/f2");
    let hard_links: BTreeSet<BTreeSet<String>> = [
        set(&["links/e", "links/e_link", "unit07/e_link_again"]),
        set(&["links/f", "links/f2"]),
    ]
    .into();

    // Empty files, one of them hard-linked, one hidden.
    b.write("empty1", b"");
    b.write("unit02/空文件.txt", b"");
    b.write("unit03/.hidden_empty", b"");
    b.link("empty1", "empty1_link");
    let empty = set(&[
        "empty1",
        "empty1_link",
        "unit02/空文件.txt",
        "unit03/.hidden_empty",
    ]);

    // Chinese names, small identical content read whole in the partial stage; one hidden.
    let g = "培训指导方案：面向职业院校的1+X证书。"
        .repeat(100)
        .into_bytes();
    b.write("材料/培训指导方案.pdf", &g);
    b.write("材料/考核大纲 副本.pdf", &g);
    b.write("材料/.备份/培训指导方案.pdf", &g);
    expect(
        &[
            "材料/.备份/培训指导方案.pdf",
            "材料/培训指导方案.pdf",
            "材料/考核大纲 副本.pdf",
        ],
        &g,
    );

    // Many small files: 600 files, contents repeating every 200, so 200 groups of three;
    // many share a size but not a content.
    for n in 0..600 {
        let content = format!("小文件 {}\n", n % 200).into_bytes();
        b.write(&format!("small/{:02}/{n:04}.txt", n / 50), &content);
    }
    for k in 0..200 {
        let paths: Vec<String> = (0..3)
            .map(|j| {
                let n = k + 200 * j;
                format!("small/{:02}/{n:04}.txt", n / 50)
            })
            .collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        expect(&refs, format!("小文件 {k}\n").as_bytes());
    }

    // Symlinks are skipped: one to a duplicate file, one to a directory full of them.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            root.join("unit01/申报书.docx"),
            root.join("unit01/link.docx"),
        )
        .unwrap();
        std::os::unix::fs::symlink(root.join("unit02"), root.join("unit02_link")).unwrap();
    }

    let dirs = walk_dirs(&root);
    Trap {
        root,
        groups,
        contents,
        hard_links,
        empty,
        regular_files: b.files,
        dirs,
        symlinks: 2,
    }
}

/// Directories under and including `root`, counted with a plain recursive listing.
fn walk_dirs(root: &Path) -> u64 {
    let mut count = 1;
    for entry in fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            count += walk_dirs(&entry.path());
        }
    }
    count
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap().to_str().unwrap().to_string()
}

fn report_groups(root: &Path, report: &DedupReport) -> BTreeSet<BTreeSet<String>> {
    report
        .groups
        .iter()
        .map(|g| g.files.iter().map(|p| rel(root, p)).collect())
        .collect()
}

fn check_report(trap: &Trap, report: &DedupReport) {
    let root = &trap.root;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report_groups(root, report), trap.groups);
    for g in &report.groups {
        let first = rel(root, &g.files[0]);
        let content = &trap.contents[&first];
        assert_eq!(g.size, content.len() as u64, "{first}");
        assert_eq!(
            g.hash,
            blake3::hash(content).to_hex().to_string(),
            "{first}"
        );
        let mut sorted = g.files.clone();
        sorted.sort();
        assert_eq!(sorted, g.files);
    }
    // Largest first, then by first path.
    for pair in report.groups.windows(2) {
        let key =
            |g: &xcert_ingest::dedup::DupGroup| (std::cmp::Reverse(g.size), g.files[0].clone());
        assert!(key(&pair[0]) < key(&pair[1]));
    }
    let links: BTreeSet<BTreeSet<String>> = report
        .hard_links
        .iter()
        .map(|s| s.paths.iter().map(|p| rel(root, p)).collect())
        .collect();
    assert_eq!(links, trap.hard_links);
    let empty: BTreeSet<String> = report.empty_files.iter().map(|p| rel(root, p)).collect();
    assert_eq!(empty, trap.empty);
    assert_eq!(report.files, trap.regular_files);
    let redundant: u64 = trap
        .groups
        .iter()
        .map(|g| {
            let first = g.iter().next().unwrap();
            trap.contents[first].len() as u64 * (g.len() as u64 - 1)
        })
        .sum();
    assert_eq!(report.redundant_bytes, redundant);
}

#[test]
fn trap_tree_groups_are_exactly_the_constructed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let trap = build_trap(dir.path());

    let (files, errors, stats) = walk(std::slice::from_ref(&trap.root), 2);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(stats.files, trap.regular_files);
    assert_eq!(files.len() as u64, trap.regular_files);
    assert_eq!(stats.dirs, trap.dirs);
    assert_eq!(stats.symlinks_skipped, trap.symlinks);
    let total: u64 = files.iter().map(|f| f.size).sum();
    assert_eq!(stats.bytes, total);
    let paths: Vec<&PathBuf> = files.iter().map(|f| &f.path).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "walk output is sorted by path");
    assert!(!paths.iter().any(|p| p.ends_with("link.docx")));

    let report = dedup_paths(std::slice::from_ref(&trap.root), &DedupOptions::default());
    check_report(&trap, &report);
    assert_eq!(report.bytes, total);
    // Other tunings and one thread give the same answer.
    for opts in [
        DedupOptions {
            hash_threads: 1,
            walk_threads: 1,
            edge_len: 4096,
        },
        DedupOptions {
            hash_threads: 2,
            walk_threads: 3,
            edge_len: 16 * 1024,
        },
        DedupOptions {
            hash_threads: 2,
            walk_threads: 2,
            edge_len: 1,
        },
    ] {
        check_report(&trap, &find_duplicates(&files, &opts));
    }
    let again = dedup_paths(std::slice::from_ref(&trap.root), &DedupOptions::default());
    assert_eq!(again, report, "deterministic");

    // Overlapping roots list each file once.
    let overlapping = [trap.root.clone(), trap.root.join("unit01")];
    let (files_twice, _, stats_twice) = walk(&overlapping, 2);
    assert_eq!(files_twice.len(), files.len());
    assert_eq!(stats_twice.files, stats.files);
}

#[test]
fn walk_reports_missing_roots_and_takes_file_roots() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    fs::write(root.join("one.txt"), b"1234").unwrap();
    let roots = [root.join("absent"), root.join("one.txt")];
    let (files, errors, stats) = walk(&roots, 1);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, root.join("absent"));
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].size, 4);
    assert_eq!(files[0].nlink, 1);
    assert_eq!(stats.bytes, 4);
    assert_eq!(stats.dirs, 0);
}

#[test]
fn unreadable_candidates_become_errors_not_groups() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    fs::write(root.join("a"), b"same content").unwrap();
    fs::write(root.join("b"), b"same content").unwrap();
    let (mut files, _, _) = walk(std::slice::from_ref(&root), 1);
    // A file listed by the walk that vanished before hashing.
    files.push(FileMeta {
        path: root.join("gone"),
        size: 12,
        mtime_ns: 0,
        dev: files[0].dev,
        ino: u64::MAX,
        nlink: 1,
    });
    let report = find_duplicates(&files, &DedupOptions::default());
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].path, root.join("gone"));
    assert_eq!(report.groups.len(), 1);
    assert_eq!(report.groups[0].files, vec![root.join("a"), root.join("b")]);
}

#[test]
fn reads_only_edges_when_edges_differ() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let big = random_bytes(&mut rng, 10 * 1024 * 1024);
    let mut other = big.clone();
    other[0] ^= 1;
    fs::write(root.join("x"), &big).unwrap();
    fs::write(root.join("y"), &other).unwrap();
    let opts = DedupOptions {
        hash_threads: 2,
        walk_threads: 1,
        edge_len: 4096,
    };
    let report = dedup_paths(std::slice::from_ref(&root), &opts);
    assert!(report.groups.is_empty());
    assert_eq!(report.bytes_read, 2 * 2 * 4096);

    fs::write(root.join("y"), &big).unwrap();
    let report = dedup_paths(std::slice::from_ref(&root), &opts);
    assert_eq!(report.groups.len(), 1);
    assert_eq!(report.bytes_read, 2 * 2 * 4096 + 2 * big.len() as u64);
    assert_eq!(report.redundant_bytes, big.len() as u64);

    // Differing in the middle: each byte is still read once, none twice.
    let mut middle = big.clone();
    middle[big.len() / 2] ^= 1;
    fs::write(root.join("y"), &middle).unwrap();
    let report = dedup_paths(std::slice::from_ref(&root), &opts);
    assert!(report.groups.is_empty());
    assert_eq!(report.bytes_read, 2 * 2 * 4096 + 2 * big.len() as u64);
}

#[test]
fn odd_one_out_and_large_runs_are_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let mut rng = StdRng::seed_from_u64(8);
    // Three files over 16 MiB (hashed on all cores) with equal edges: one differs in the
    // middle. Whichever is compared first, the two copies form the group.
    let big = random_bytes(&mut rng, 17 * 1024 * 1024);
    let mut odd = big.clone();
    odd[12 * 1024 * 1024] ^= 0x80;
    for (name, content) in [("a", &odd), ("b", &big), ("c", &big)] {
        fs::write(root.join(name), content).unwrap();
    }
    // 150 identical 10 kB files: more than are compared at once.
    let small = random_bytes(&mut rng, 10_000);
    for n in 0..150 {
        fs::write(root.join(format!("s{n:03}")), &small).unwrap();
    }
    for odd_first in [true, false] {
        let (mut files, _, _) = walk(std::slice::from_ref(&root), 1);
        // Runs are compared in inode order: make the odd file "a" come first, then last.
        let top = u64::MAX;
        let inodes = if odd_first {
            [top - 2, top - 1, top]
        } else {
            [top, top - 2, top - 1]
        };
        for (f, ino) in files[..3].iter_mut().zip(inodes) {
            assert!(["a", "b", "c"].iter().any(|n| f.path.ends_with(n)));
            f.ino = ino;
        }
        let opts = DedupOptions {
            edge_len: 4096,
            ..DedupOptions::default()
        };
        let report = find_duplicates(&files, &opts);
        assert_eq!(report.groups.len(), 2);
        assert_eq!(report.groups[0].files, vec![root.join("b"), root.join("c")]);
        assert_eq!(
            report.groups[0].hash,
            blake3::hash(&big).to_hex().to_string()
        );
        assert_eq!(report.groups[1].files.len(), 150);
        assert_eq!(
            report.groups[1].hash,
            blake3::hash(&small).to_hex().to_string()
        );
        let expected_read = 3 * (2 * 4096 + big.len() as u64) + 150 * (2 * 4096 + 10_000);
        assert_eq!(report.bytes_read, expected_read);
    }
}

#[test]
fn hashes_match_the_blake3_reference() {
    // Reference values for the empty input and "abc" (the BLAKE3 reference implementation's
    // published digests, also what `b3sum` prints).
    let (h, n) = hash_reader(&b""[..]).unwrap();
    assert_eq!(n, 0);
    assert_eq!(
        h.to_hex().as_str(),
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    );
    let (h, n) = hash_reader(&b"abc"[..]).unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        h.to_hex().as_str(),
        "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    for len in [0, 1, 1023, 1024, 1025, 300_000, 17 * 1024 * 1024 + 1] {
        let data = random_bytes(&mut rng, len);
        let path = dir.path().join(format!("f{len}"));
        fs::write(&path, &data).unwrap();
        let expected = blake3::hash(&data);
        assert_eq!(hash_file(&path).unwrap(), expected, "{len}");
        assert_eq!(hash_reader(&data[..]).unwrap(), (expected, len as u64));
        if let Some(out) = run_tool("b3sum", &["--no-names", path.to_str().unwrap()]) {
            assert_eq!(out.trim(), expected.to_hex().as_str());
        }
    }
}

/// Runs a peer tool; None (after a loud line) when it is not installed.
fn run_tool(name: &str, args: &[&str]) -> Option<String> {
    match Command::new(name).args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{name} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).expect("utf-8 output"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPED: {name} not installed");
            None
        }
        Err(e) => panic!("{name}: {e}"),
    }
}

/// Maps each path a tool printed to the smallest path of its inode, drops groups left with
/// fewer than two inodes, and returns relative paths.
fn normalize_tool_groups(
    root: &Path,
    files: &[FileMeta],
    groups: Vec<Vec<PathBuf>>,
) -> BTreeSet<BTreeSet<String>> {
    let mut by_inode: BTreeMap<(u64, u64), &Path> = BTreeMap::new();
    for f in files {
        let slot = by_inode.entry((f.dev, f.ino)).or_insert(&f.path);
        if f.path.as_path() < *slot {
            *slot = &f.path;
        }
    }
    let by_path: BTreeMap<&Path, &Path> = files
        .iter()
        .map(|f| (f.path.as_path(), by_inode[&(f.dev, f.ino)]))
        .collect();
    groups
        .into_iter()
        .map(|g| {
            g.iter()
                .map(|p| {
                    rel(
                        root,
                        by_path
                            .get(p.as_path())
                            .unwrap_or_else(|| panic!("unknown {p:?}")),
                    )
                })
                .collect::<BTreeSet<String>>()
        })
        .filter(|g| g.len() > 1)
        .collect()
}

#[test]
fn peers_find_the_same_duplicate_sets() {
    let dir = tempfile::tempdir().unwrap();
    let trap = build_trap(dir.path());
    let root_str = trap.root.to_str().unwrap();
    let (files, _, _) = walk(std::slice::from_ref(&trap.root), 2);

    if let Some(json) = run_tool(
        "fclones",
        &[
            "group",
            "--hidden",
            "--no-ignore",
            "--format",
            "json",
            root_str,
        ],
    ) {
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let groups: Vec<Vec<PathBuf>> = v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                g["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| PathBuf::from(p.as_str().unwrap()))
                    .collect()
            })
            .collect();
        assert_eq!(
            normalize_tool_groups(&trap.root, &files, groups),
            trap.groups,
            "fclones"
        );
    }

    if let Some(text) = run_tool("jdupes", &["-r", "-Q", root_str]) {
        // Groups are blocks of lines separated by a blank line.
        let groups: Vec<Vec<PathBuf>> = text
            .split("\n\n")
            .map(|block| {
                block
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(PathBuf::from)
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.is_empty())
            .collect();
        assert_eq!(
            normalize_tool_groups(&trap.root, &files, groups),
            trap.groups,
            "jdupes"
        );
    }
}
