//! `xcert ingest` end to end on a generated corpus whose manifest is the ground truth:
//! copies, traps, hard links, empty files, nested GBK archives and missing annexes are
//! known by construction, so the report can be checked against them. Also: a run killed
//! midway resumes to the same catalog as an uninterrupted run.

mod common;

use common::{BIN, Env, engines};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn gen_corpus(dir: &Path, size: &str, seed: u64) -> Value {
    let o = Command::new(BIN)
        .args([
            "bench",
            "gen-corpus",
            "--size",
            size,
            "--seed",
            &seed.to_string(),
            "-q",
        ])
        .arg(dir)
        .env("XCERT_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "gen-corpus failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let manifest = dir.with_file_name(format!(
        "{}.manifest.json",
        dir.file_name().unwrap().to_string_lossy()
    ));
    serde_json::from_slice(&std::fs::read(manifest).unwrap()).unwrap()
}

fn files_with<'a>(m: &'a Value, key: &str) -> Vec<&'a Value> {
    m["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f[key].is_null() && f[key] != false)
        .collect()
}

#[test]
fn ingest_report_matches_the_corpus_ground_truth() {
    for engine in engines() {
        let env = Env::new(engine);
        let tree = env.path("材料");
        let m = gen_corpus(&tree, "6M", 7);
        let root = tree.to_str().unwrap();
        let o = env.ok(&["ingest", root, "--json", "-q", "--batch", "第四批"]);
        let doc: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o}"));
        let r = &doc["report"];
        assert_eq!(doc["run"]["state"], "finished", "[{engine:?}]");
        assert_eq!(doc["run"]["batch"], "第四批");
        let p = |s: &str| format!("材料/{s}");

        // Every generated file is in the catalog.
        let catalog = env.ok(&["catalog", "export", "1", "--format", "csv"]);
        let cat_paths: BTreeSet<String> =
            csv::Reader::from_reader(catalog.stdout.trim_start_matches('\u{feff}').as_bytes())
                .records()
                .map(|rec| rec.unwrap()[1].to_string())
                .collect();
        for f in m["files"].as_array().unwrap() {
            let path = p(f["path"].as_str().unwrap());
            assert!(
                cat_paths.contains(&path),
                "[{engine:?}] {path} not cataloged"
            );
        }

        // Exact copies share a duplicate group; trap pairs never do.
        let mut group_of: HashMap<String, usize> = HashMap::new();
        for (i, g) in r["duplicate_groups"].as_array().unwrap().iter().enumerate() {
            for f in g["files"].as_array().unwrap() {
                group_of.insert(f["path"].as_str().unwrap().to_string(), i);
            }
        }
        let copies = files_with(&m, "copy_of");
        assert!(!copies.is_empty(), "the corpus has copies");
        for f in &copies {
            let (a, b) = (
                p(f["path"].as_str().unwrap()),
                p(f["copy_of"].as_str().unwrap()),
            );
            assert!(
                group_of.contains_key(&a) && group_of.get(&a) == group_of.get(&b),
                "[{engine:?}] copy {a} not grouped with {b}"
            );
        }
        for f in files_with(&m, "trap") {
            let a = p(f["path"].as_str().unwrap());
            if f["copy_of"].is_null() {
                assert!(
                    !group_of.contains_key(&a)
                        || files_with(&m, "copy_of")
                            .iter()
                            .any(|c| c["copy_of"] == f["path"]),
                    "[{engine:?}] trap {a} reported as a duplicate"
                );
            }
        }
        // Hard links are flagged, not duplicates; empty files are flagged.
        let flags: Vec<(String, String)> = r["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["flag"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let has_flag = |path: &str, flag: &str| flags.iter().any(|(p, f)| p == path && f == flag);
        for f in files_with(&m, "hard_link_of") {
            let a = p(f["path"].as_str().unwrap());
            assert!(
                has_flag(&a, "hard_link"),
                "[{engine:?}] {a} not flagged as a hard link"
            );
        }
        let empties = files_with(&m, "empty");
        assert!(!empties.is_empty());
        for f in empties {
            let a = p(f["path"].as_str().unwrap());
            assert!(has_flag(&a, "empty"), "[{engine:?}] {a} not flagged empty");
        }
        // Nested archives with GBK names: the entries appear under their Chinese names.
        let nested: Vec<&Value> = m["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"].as_str().unwrap().matches(".zip/").count() >= 2)
            .collect();
        assert!(!nested.is_empty(), "the corpus has nested archives");

        // Annex completeness equals the generator's record of what it left out.
        let expected: BTreeSet<(String, String, String)> = m["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| {
                c["missing"].as_array().unwrap().iter().map(move |a| {
                    (
                        c["unit"].as_str().unwrap().to_string(),
                        c["certificate"].as_str().unwrap().to_string(),
                        a.as_str().unwrap().to_string(),
                    )
                })
            })
            .collect();
        let reported: BTreeSet<(String, String, String)> = r["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| {
                c["missing"].as_array().unwrap().iter().map(move |a| {
                    (
                        c["unit"].as_str().unwrap().to_string(),
                        c["certificate"].as_str().unwrap().to_string(),
                        a.as_str().unwrap().to_string(),
                    )
                })
            })
            .collect();
        assert!(!expected.is_empty(), "the corpus leaves annexes out");
        assert_eq!(reported, expected, "[{engine:?}] missing annexes");

        // Units and categories: all sixteen units, and the summary adds up.
        assert_eq!(r["units"].as_array().unwrap().len(), 16, "[{engine:?}]");
        let cat_files: u64 = r["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["files"].as_u64().unwrap())
            .sum();
        assert_eq!(cat_files, r["totals"]["files"].as_u64().unwrap());
        assert!(r["totals"]["saved_bytes"].as_u64().unwrap() > 0);

        // The human summary and the Parquet catalog.
        let parquet = env.path("catalog.parquet");
        env.ok(&[
            "catalog",
            "export",
            "1",
            "--format",
            "parquet",
            "-o",
            parquet.to_str().unwrap(),
        ]);
        let bytes = std::fs::read(&parquet).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
        let o = env.ok(&["catalog", "runs"]);
        assert!(o.stdout.contains("finished"), "{o}");
        let o = env.ok(&["audit", "verify"]);
        assert!(o.stdout.contains("intact"), "{o}");
    }
}

#[test]
fn a_killed_run_resumes_without_duplicates_or_gaps() {
    for engine in engines() {
        // Kill the run once part of the catalog is committed. A fast machine may finish a
        // small tree before the first look: then try again with a larger one.
        let mut caught = None;
        for size in ["40M", "120M", "400M"] {
            let env = Env::new(engine);
            let tree = env.path("tree");
            gen_corpus(&tree, size, 11);
            let root = tree.to_str().unwrap().to_string();
            let mut child = env
                .command(&["ingest", &root, "-q", "--threads", "1"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let start = Instant::now();
            let mut finished_alone = false;
            loop {
                std::thread::sleep(Duration::from_millis(100));
                if let Ok(Some(_)) = child.try_wait() {
                    finished_alone = true;
                    break;
                }
                let done =
                    std::panic::catch_unwind(|| env.scalar("SELECT COUNT(*) FROM ingest_files"))
                        .unwrap_or(0);
                if done > 0 || start.elapsed() > Duration::from_secs(120) {
                    break;
                }
            }
            let _ = child.kill();
            let _ = child.wait();
            if !finished_alone {
                caught = Some((env, root));
                break;
            }
        }
        let (env, root) = caught.expect("the run was never caught before it finished");
        let partial = env.scalar("SELECT COUNT(*) FROM ingest_files");

        let o = env.ok(&["ingest", "--resume", "--json", "-q"]);
        let resumed: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(
            resumed["run"]["id"], 1,
            "[{engine:?}] the same run continued"
        );
        assert!(
            resumed["run"]["stats"]["skipped"].as_u64().unwrap() as i64 <= partial,
            "[{engine:?}]"
        );

        // The same tree ingested in one go, in a fresh data folder.
        let clean = Env::new(engine);
        let o = clean.ok(&["ingest", &root, "--json", "-q"]);
        let fresh: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(
            env.scalar("SELECT COUNT(*) FROM ingest_files"),
            clean.scalar("SELECT COUNT(*) FROM ingest_files"),
            "[{engine:?}] catalog size after resume (had {partial} before)"
        );
        assert_eq!(
            env.scalar("SELECT COUNT(DISTINCT path) FROM ingest_files"),
            env.scalar("SELECT COUNT(*) FROM ingest_files")
        );
        for k in [
            "files",
            "bytes",
            "distinct_files",
            "valid_records",
            "duplicate_groups",
            "near_duplicate_groups",
            "missing_annexes",
        ] {
            assert_eq!(
                resumed["report"]["totals"][k], fresh["report"]["totals"][k],
                "[{engine:?}] totals.{k}"
            );
        }
        // Nothing left to resume.
        let o = env.run(&["ingest", "--resume"]);
        assert!(!o.ok() && o.all().contains("no unfinished"), "{o}");
    }
}

#[test]
fn hostile_archives_are_reported_and_the_run_goes_on() {
    for engine in engines() {
        let env = Env::new(engine);
        let tree = env.path("uploads");
        std::fs::create_dir_all(tree.join("山东")).unwrap();
        // A zip whose entry climbs out of any folder it is extracted to.
        let slip = xcert_ingest::rawzip::write_zip(&[xcert_ingest::rawzip::RawEntry::file(
            "../../evil.txt",
            b"owned",
        )]);
        std::fs::write(tree.join("山东/slip.zip"), slip).unwrap();
        std::fs::write(tree.join("山东/说明.txt"), "考核大纲 说明文字".as_bytes()).unwrap();
        // A zip cut short is damaged, not hostile.
        let whole = xcert_ingest::rawzip::write_zip(&[xcert_ingest::rawzip::RawEntry::file(
            "a.txt",
            &[b'x'; 4096],
        )]);
        std::fs::write(tree.join("山东/cut.zip"), &whole[..whole.len() - 40]).unwrap();
        let o = env.ok(&["ingest", tree.to_str().unwrap(), "--json", "-q"]);
        let doc: Value = serde_json::from_str(&o.stdout).unwrap();
        let flags = doc["report"]["flags"].as_array().unwrap();
        let hostile = flags
            .iter()
            .find(|f| f["flag"] == "hostile_archive")
            .unwrap_or_else(|| panic!("[{engine:?}] no hostile flag: {o}"));
        assert_eq!(hostile["path"], "uploads/山东/slip.zip");
        assert!(
            hostile["detail"].as_str().unwrap().contains("evil.txt"),
            "{hostile}"
        );
        assert!(!env.path("evil.txt").exists() && !env.data_dir().join("evil.txt").exists());
        assert_eq!(doc["run"]["state"], "finished");
        assert_eq!(doc["report"]["totals"]["hostile_archives"], 1);
        assert!(
            flags
                .iter()
                .any(|f| f["path"] == "uploads/山东/cut.zip" && f["flag"] == "corrupt"),
            "[{engine:?}] {flags:?}"
        );
    }
}
