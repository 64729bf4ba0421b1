//! The report computed from hand-made catalog entries whose right answers are counted by
//! hand: valid records, savings, duplicates across units, hard links, archives as
//! containers, missing categories and annex completeness.

use std::collections::HashMap;
use xcert_ingest::engine::Record;
use xcert_ingest::report::{AnnexState, Entry, build, human_bytes};
use xcert_ingest::{Annex, Category, Flag, FlagNote, Kind};

fn rec(path: &str, unit: &str, size: u64, hash: &str, category: Category) -> Record {
    Record {
        path: path.into(),
        unit: unit.into(),
        rel: path.split_once('/').map(|x| x.1).unwrap_or(path).into(),
        size,
        mtime_ns: 0,
        hash: Some(hash.repeat(64 / hash.len())),
        kind: Kind::Docx,
        ext: "docx".into(),
        category,
        category_confidence: 0.9,
        annex: None,
        annex_confidence: 0.0,
        certificate: None,
        source: "rule".into(),
        reason: String::new(),
        text_head: String::new(),
        text_chars: 0,
        flags: Vec::new(),
        archive: None,
        minhash: None,
    }
}

fn entries(records: Vec<Record>) -> Vec<Entry> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, record)| Entry {
            id: i as i64 + 1,
            record,
        })
        .collect()
}

#[test]
fn totals_units_and_duplicates_add_up() {
    use Category::*;
    let mut link = rec("甲/教材/讲义-link.docx", "甲", 300, "c", TeachingMaterials);
    link.flags.push(FlagNote::new(
        Flag::HardLink,
        "same file as 甲/教材/讲义.docx",
    ));
    let mut empty = rec("乙/空.txt", "乙", 0, "e", Other);
    empty.kind = Kind::Empty;
    empty.flags.push(FlagNote::new(Flag::Empty, "zero bytes"));
    let mut broken = rec("乙/坏.pdf", "乙", 50, "f", Other);
    broken
        .flags
        .push(FlagNote::new(Flag::Truncated, "no %%EOF"));
    let mut archive = rec("乙/资料.zip", "乙", 400, "9", Other);
    archive.kind = Kind::Zip;
    let mut inner = rec("乙/资料.zip/大纲.docx", "乙", 100, "a", AssessmentOutline);
    inner.archive = Some("乙/资料.zip".into());
    let e = entries(vec![
        rec("甲/考核大纲/大纲.docx", "甲", 100, "a", AssessmentOutline),
        rec("甲/培训方案/方案.docx", "甲", 200, "b", TrainingScheme),
        rec("甲/教材/讲义.docx", "甲", 300, "c", TeachingMaterials),
        link,
        rec(
            "乙/考核大纲/大纲-副本.docx",
            "乙",
            100,
            "a",
            AssessmentOutline,
        ),
        empty,
        broken,
        archive,
        inner,
    ]);
    let r = build(&e, &HashMap::new());
    let t = &r.totals;
    // Records: everything but the opened archive container.
    assert_eq!(t.files, 8);
    // The empty file adds nothing.
    assert_eq!(t.bytes, 100 + 200 + 300 + 300 + 100 + 50 + 100);
    assert_eq!(t.archives_opened, 1);
    assert_eq!(t.archive_entries, 1);
    // Distinct non-empty contents: a, b, c, f (the hard link is the same file as c).
    assert_eq!(t.distinct_files, 4);
    assert_eq!(t.distinct_bytes, 100 + 200 + 300 + 50);
    // "a" three times: 2 × 100 saved.
    assert_eq!(t.saved_bytes, 200);
    assert_eq!(t.duplicate_groups, 1);
    assert_eq!(r.duplicate_groups[0].files.len(), 3);
    // Valid: a, b, c (f is truncated; the empty file is no record).
    assert_eq!(t.valid_records, 3);
    assert_eq!(t.hard_links, 1);
    assert_eq!(t.empty_files, 1);
    assert_eq!(t.flagged_files, 3);

    let unit = |n: &str| r.units.iter().find(|u| u.unit == n).unwrap();
    assert_eq!(unit("甲").valid_records, 3);
    // 乙 sent "a" twice (a copy and inside the archive): one valid record for the unit.
    assert_eq!(unit("乙").valid_records, 1);
    assert_eq!(unit("乙").duplicates, 2);
    assert!(unit("甲").missing_categories.contains(&SampleQuestions));
    assert!(!unit("甲").missing_categories.contains(&TrainingScheme));
    assert!(!unit("甲").missing_categories.contains(&Other));

    let cat = |c: Category| r.categories.iter().find(|x| x.category == c).unwrap();
    assert_eq!(r.categories.len(), 9);
    assert_eq!(cat(AssessmentOutline).files, 3);
    assert_eq!(cat(AssessmentOutline).bytes, 300);
    assert_eq!(cat(AssessmentOutline).valid_records, 1);
    assert_eq!(cat(TeachingMaterials).files, 2);
    assert_eq!(human_bytes(3 << 30), "3.00 GB");
    assert_eq!(human_bytes(1536 << 10), "1.5 MB");
}

#[test]
fn annexes_are_present_ambiguous_or_missing_per_certificate() {
    let annex = |path: &str, hash: &str, a: Annex, conf: f32| {
        let mut r = rec(path, "国网技术学院", 10, hash, Category::Other);
        r.annex = Some(a);
        r.annex_confidence = conf;
        r.certificate = Some("继电保护".into());
        r
    };
    let mut broken = annex("院/继电保护/附件7.pdf", "7", Annex::Feasibility, 0.95);
    broken.flags.push(FlagNote::new(Flag::Corrupt, "bad xref"));
    let e = entries(vec![
        annex("院/继电保护/附件1 标准.docx", "1", Annex::Standard, 0.95),
        annex(
            "院/继电保护/附件3 考核方案.docx",
            "3",
            Annex::AssessmentScheme,
            0.9,
        ),
        annex("院/继电保护/扫描件.pdf", "4", Annex::ExamSiteStandard, 0.4),
        broken,
    ]);
    let r = build(&e, &HashMap::new());
    assert_eq!(r.certificates.len(), 1);
    let c = &r.certificates[0];
    assert_eq!(c.certificate, "继电保护");
    let state = |a: Annex| c.annexes.iter().find(|x| x.annex == a).unwrap().state;
    assert_eq!(state(Annex::Standard), AnnexState::Present);
    assert_eq!(state(Annex::AssessmentScheme), AnnexState::Present);
    // Low confidence, or only a corrupt file: a person must look.
    assert_eq!(state(Annex::ExamSiteStandard), AnnexState::Ambiguous);
    assert_eq!(state(Annex::Feasibility), AnnexState::Ambiguous);
    assert_eq!(
        c.missing,
        vec![
            Annex::PilotMatters,
            Annex::CostAccounting,
            Annex::ExpenseItems
        ]
    );
    assert_eq!(r.totals.missing_annexes, 3);
    assert_eq!(c.annexes[2].number, 3);
}

#[test]
fn near_duplicate_documents_are_grouped_and_decisions_kept() {
    use xcert_ingest::minhash::MinHasher;
    let h = MinHasher::default_for_documents();
    let base: String = (0..60)
        .map(|i| format!("第{i}条 培训机构应当按照职业技能等级标准组织培训并做好记录。"))
        .collect();
    let edited = base.replacen("第5条", "第五条（修订）", 1);
    let other: String = (0..60)
        .map(|i| format!("第{i}项 考核站点应配备计算机、投影仪和实操设备若干。"))
        .collect();
    let mut a = rec("甲/制度.docx", "甲", 10, "1", Category::ManagementSystem);
    a.minhash = h.signature(&base).map(|s| s.to_bytes());
    a.text_head = base.clone();
    let mut b = rec(
        "乙/制度(修订).docx",
        "乙",
        11,
        "2",
        Category::ManagementSystem,
    );
    b.minhash = h.signature(&edited).map(|s| s.to_bytes());
    let mut c = rec("丙/站点.docx", "丙", 12, "3", Category::Other);
    c.minhash = h.signature(&other).map(|s| s.to_bytes());
    let e = entries(vec![a, b, c]);
    let r = build(&e, &HashMap::new());
    assert_eq!(r.near_duplicate_groups.len(), 1);
    let g = &r.near_duplicate_groups[0];
    let paths: Vec<&str> = g
        .members
        .iter()
        .flat_map(|m| m.files.iter().map(|f| f.path.as_str()))
        .collect();
    assert!(paths.contains(&"甲/制度.docx") && paths.contains(&"乙/制度(修订).docx"));
    assert!(g.pairs.iter().all(|(_, _, s)| *s >= 0.8));
    assert!(g.decision.is_none());
    let decided = HashMap::from([(g.key.clone(), "keep_all".to_string())]);
    let r2 = build(&e, &decided);
    assert_eq!(
        r2.near_duplicate_groups[0].decision.as_deref(),
        Some("keep_all")
    );
}
