//! Hostile archives are refused with the reason, before anything large is inflated;
//! ordinary ones (GBK names, nesting, encrypted entries) are opened right.

use std::io::Cursor;
use xcert_ingest::archive::{Leaf, Limits, Refusal, decode_name, open};
use xcert_ingest::rawzip::{RawEntry, write_zip};
use xcert_ingest::{Flag, Kind};

fn open_zip(
    bytes: &[u8],
    limits: &Limits,
) -> (Result<xcert_ingest::archive::Outcome, Refusal>, Vec<Leaf>) {
    let mut leaves = Vec::new();
    let r = open(Kind::Zip, Cursor::new(bytes), limits, &mut |l| {
        leaves.push(l)
    });
    (r, leaves)
}

fn refusal(bytes: &[u8]) -> Refusal {
    let (r, leaves) = open_zip(bytes, &Limits::default());
    assert!(
        leaves.is_empty(),
        "nothing is handed out of a refused archive"
    );
    r.expect_err("refused")
}

#[test]
fn entries_that_climb_out_are_refused() {
    for name in ["../../evil.txt", "a/../../evil.txt", "..\\..\\evil.txt"] {
        let z = write_zip(&[
            RawEntry::file("ok.txt", b"fine"),
            RawEntry::file(name, b"owned"),
        ]);
        let r = refusal(&z);
        assert!(matches!(r, Refusal::PathTraversal(_)), "{name}: {r:?}");
        assert!(r.to_string().contains("evil.txt"));
        assert!(r.zh().contains("evil.txt"));
    }
    for name in [
        "/etc/cron.d/x",
        "C:\\Windows\\x.dll",
        "\\\\server\\share\\x",
    ] {
        let z = write_zip(&[RawEntry::file(name, b"owned")]);
        assert!(matches!(refusal(&z), Refusal::AbsolutePath(_)), "{name}");
    }
}

#[test]
fn symlink_entries_are_refused() {
    let z = write_zip(&[RawEntry {
        unix_mode: Some(0o120777),
        ..RawEntry::file("link", b"/etc/passwd")
    }]);
    assert!(matches!(refusal(&z), Refusal::Symlink(_)));
}

#[test]
fn bombs_are_refused_by_declared_and_by_actual_size() {
    let zeros = vec![0u8; 64 << 20];
    let small = Limits {
        max_entry_size: 16 << 20,
        ..Limits::default()
    };
    // Declared honestly: refused from the directory alone.
    let z = write_zip(&[RawEntry::file("zeros.bin", &zeros)]);
    assert!(z.len() < 1 << 20, "64 MiB of zeros compress to {}", z.len());
    let (r, leaves) = open_zip(&z, &small);
    assert!(leaves.is_empty());
    assert!(matches!(r, Err(Refusal::EntryTooLarge { .. })), "{r:?}");
    // The same entry under default limits trips the ratio check (64 MiB from ~64 KiB).
    assert!(matches!(refusal(&z), Refusal::RatioTooHigh { .. }));
    // Lying about the size: caught while inflating, after at most ratio × compressed bytes.
    let liar = write_zip(&[RawEntry {
        declared_size: Some(1000),
        ..RawEntry::file("small.txt", &zeros)
    }]);
    let r = refusal(&liar);
    assert!(
        matches!(
            r,
            Refusal::RatioTooHigh { .. } | Refusal::EntryTooLarge { .. } | Refusal::SizeMismatch(_)
        ),
        "{r:?}"
    );
}

#[test]
fn too_many_entries_are_refused_quickly() {
    let names: Vec<String> = (0..100_000).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<RawEntry> = names
        .iter()
        .map(|n| RawEntry {
            deflate: false,
            ..RawEntry::file(n, b"x")
        })
        .collect();
    let z = write_zip(&entries);
    let t = std::time::Instant::now();
    assert!(matches!(refusal(&z), Refusal::TooManyEntries(100_000)));
    // Refused from the directory: no entry was inflated (generous bound for debug builds).
    assert!(t.elapsed().as_secs() < 30);
}

#[test]
fn gbk_names_without_the_utf8_flag_decode_as_chinese() {
    let name = "培训方案/考核大纲（2021版）.docx";
    let gbk = encoding_rs::GBK.encode(name).0.into_owned();
    assert!(std::str::from_utf8(&gbk).is_err());
    assert_eq!(decode_name(&gbk, false), name);
    let z = write_zip(&[
        RawEntry {
            name: &gbk,
            utf8_flag: false,
            ..RawEntry::file("", b"content")
        },
        RawEntry::file("样题/题库.xlsx", b"utf8 named"),
    ]);
    let (r, leaves) = open_zip(&z, &Limits::default());
    r.unwrap();
    let names: Vec<&str> = leaves.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(names, [name, "样题/题库.xlsx"]);
    assert_eq!(leaves[0].data, b"content");
}

#[test]
fn nested_archives_open_to_a_depth_and_a_hostile_one_is_skipped() {
    let doc = xcert_ingest::docgen::docx("培训指导方案", &["内容".into()]);
    let level3 = write_zip(&[RawEntry::file("最深.txt", b"deep")]);
    let level2 = write_zip(&[
        RawEntry::file("c.zip", &level3),
        RawEntry::file("b.docx", &doc),
    ]);
    let slip = write_zip(&[RawEntry::file("../x", b"owned")]);
    let outer = write_zip(&[
        RawEntry::file("资料/内层.zip", &level2),
        RawEntry::file("坏.zip", &slip),
        RawEntry::file("说明.txt", "说明".as_bytes()),
    ]);
    let limits = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let (r, leaves) = open_zip(&outer, &limits);
    let outcome = r.unwrap();
    let paths: Vec<&str> = leaves.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "资料/内层.zip/c.zip",
            "资料/内层.zip/b.docx",
            "资料/内层.zip",
            "坏.zip",
            "说明.txt"
        ]
    );
    // The third level is kept as a file, flagged; the opened one is a container; the
    // hostile one is kept as a file with its reason.
    assert!(leaves[0].flags.iter().any(|f| f.flag == Flag::TooDeep));
    assert!(leaves[2].opened && !leaves[0].opened);
    assert!(
        leaves[3]
            .flags
            .iter()
            .any(|f| f.flag == Flag::HostileArchive && f.detail.contains("../x"))
    );
    assert_eq!(outcome.nested_refused.len(), 1);
    assert_eq!(outcome.nested_refused[0].0, "坏.zip");
    assert!(matches!(
        outcome.nested_refused[0].1,
        Refusal::PathTraversal(_)
    ));
    // With the default depth the innermost file is reached.
    let (r, leaves) = open_zip(&outer, &Limits::default());
    r.unwrap();
    assert!(
        leaves
            .iter()
            .any(|l| l.path == "资料/内层.zip/c.zip/最深.txt" && l.data == b"deep")
    );
}

#[test]
fn encrypted_entries_are_flagged_not_read() {
    let z = write_zip(&[
        RawEntry {
            encrypted_flag: true,
            ..RawEntry::file("机密.docx", b"ciphertext")
        },
        RawEntry::file("公开.txt", b"plain"),
    ]);
    let (r, leaves) = open_zip(&z, &Limits::default());
    r.unwrap();
    assert_eq!(leaves.len(), 2);
    assert!(leaves[0].data.is_empty());
    assert!(leaves[0].flags.iter().any(|f| f.flag == Flag::Encrypted));
    assert_eq!(leaves[1].data, b"plain");
}

#[test]
fn a_zip_made_by_another_tool_is_read() {
    // Written with the `zip` crate's writer (a different implementation from ours).
    let mut buf = Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        w.start_file("管理制度/考核管理办法.txt", o).unwrap();
        std::io::Write::write_all(&mut w, "第一条".as_bytes()).unwrap();
        w.finish().unwrap();
    }
    let (r, leaves) = open_zip(buf.get_ref(), &Limits::default());
    r.unwrap();
    assert_eq!(leaves[0].path, "管理制度/考核管理办法.txt");
    assert_eq!(leaves[0].data, "第一条".as_bytes());
}
