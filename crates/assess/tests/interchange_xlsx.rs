//! The .xlsx bank template: import of a workbook made by openpyxl (make_fixtures.py),
//! export → import round trip, and the exported workbook read back by openpyxl
//! (read_xlsx.py), compared with values written here by hand from the sample items.

#[path = "interchange_samples.rs"]
mod samples;

use std::path::{Path, PathBuf};

use xcert_assess::Item;
use xcert_assess::interchange::{ImportReport, export_xlsx, import_xlsx, template_xlsx};
use xcert_assess::item::{Choice, Interaction, ItemKind, ReviewStatus, Scoring};
use xcert_assess::markup::plain_text;
use xcert_domain::framework::Level;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/interchange")
}

fn item<'a>(r: &'a ImportReport, ident: &str) -> &'a Item {
    &r.items
        .iter()
        .find(|i| i.item.meta.ident == ident)
        .unwrap_or_else(|| panic!("{ident} not imported: {:#?}", r.problems))
        .item
}

#[test]
fn openpyxl_workbook_imports_with_row_and_column_errors() {
    let bytes = std::fs::read(dir().join("xlsx/bank.xlsx")).unwrap();
    let r = import_xlsx("题库.xlsx", &bytes);
    let idents: Vec<&str> = r.items.iter().map(|i| i.item.meta.ident.as_str()).collect();
    assert_eq!(
        idents,
        vec![
            "X-001", "X-002", "X-003", "X-004", "X-005", "X-006", "X-007", "X-008", "X-012"
        ],
        "{:#?}",
        r.problems
    );
    let x1 = item(&r, "X-001");
    assert_eq!(x1.content.kind, ItemKind::SingleChoice);
    assert_eq!(x1.content.points, 2.0);
    assert_eq!(x1.meta.difficulty, Some(1.0));
    assert_eq!(x1.meta.level, Some(Level::Junior));
    assert_eq!(
        x1.meta.requirements,
        vec!["1.1.1".to_string(), "1.1.2".to_string()]
    );
    assert_eq!(x1.meta.time_seconds, Some(60));
    assert_eq!(x1.meta.author.as_deref(), Some("李四"));
    assert_eq!(r.items[0].review, Some(ReviewStatus::Approved));
    assert_eq!(r.items[0].source, "题库.xlsx row 2");
    assert_eq!(
        x1.content.key(),
        Some(xcert_assess::Response::Choice(vec!["B".into()]))
    );

    let x2 = item(&r, "X-002");
    assert_eq!(x2.content.scoring, Scoring::Partial);
    assert_eq!(x2.meta.difficulty, Some(4.0));
    assert_eq!(
        x2.content.key(),
        Some(xcert_assess::Response::Choice(vec![
            "A".into(),
            "B".into(),
            "D".into()
        ]))
    );
    let x3 = item(&r, "X-003");
    assert_eq!(x3.content.kind, ItemKind::TrueFalse);
    assert_eq!(
        x3.content.key(),
        Some(xcert_assess::Response::Choice(vec!["A".into()]))
    );
    let Interaction::TextEntry { blanks } = &item(&r, "X-004").content.interaction else {
        panic!()
    };
    assert_eq!(
        blanks[0].accepted,
        vec!["安培".to_string(), "A".to_string()]
    );
    assert_eq!(blanks[1].accepted, vec!["伏特".to_string()]);
    let Interaction::Match {
        sources, correct, ..
    } = &item(&r, "X-005").content.interaction
    else {
        panic!()
    };
    assert_eq!(plain_text(&sources[1].text), "隔离开关");
    assert_eq!(correct[1], ("2".to_string(), "B".to_string()));
    assert_eq!(
        item(&r, "X-006").content.key(),
        Some(xcert_assess::Response::Order(vec![
            "C".into(),
            "A".into(),
            "B".into(),
            "D".into()
        ]))
    );
    let Interaction::Practical { scale } = &item(&r, "X-008").content.interaction else {
        panic!()
    };
    assert_eq!(scale.criteria.len(), 2);
    assert!(scale.criteria[0].critical && !scale.criteria[1].critical);
    assert_eq!(scale.max_points(), 40.0);
    let Interaction::Choice { choices, .. } = &item(&r, "X-012").content.interaction else {
        panic!()
    };
    assert_eq!(
        choices
            .iter()
            .map(|c| plain_text(&c.text))
            .collect::<Vec<_>>(),
        vec!["铜", "铝", "橡胶"]
    );

    // Errors name the row and the column, in both languages.
    let key = r
        .problems
        .iter()
        .find(|p| p.code == "key_not_an_option")
        .unwrap();
    assert_eq!(key.location, "row 10, column key");
    assert_eq!(key.zh, "第 10 行 答案 列：答案“E”不是本题的选项");
    assert!(key.en.starts_with("row 10, column key: "), "{}", key.en);
    assert_eq!(key.item.as_deref(), Some("X-009"));
    let diff = r
        .problems
        .iter()
        .find(|p| p.location == "row 11, column difficulty")
        .unwrap();
    assert!(diff.zh.starts_with("第 11 行 难度 列："), "{}", diff.zh);
    let kind = r
        .problems
        .iter()
        .find(|p| p.location == "row 12, column kind")
        .unwrap();
    assert!(kind.zh.contains("作文"));
    // The extra column is reported and ignored.
    assert!(
        r.problems
            .iter()
            .any(|p| p.code == "unknown_column" && p.en.contains("备注"))
    );
}

/// The samples as the template keeps them: option ids are letters, blank ids numbers.
fn xlsx_native(mut items: Vec<Item>) -> Vec<Item> {
    for it in &mut items {
        match &mut it.content.interaction {
            Interaction::Choice {
                choices, correct, ..
            } => {
                for (i, c) in choices.iter_mut().enumerate() {
                    let l = ((b'A' + i as u8) as char).to_string();
                    for k in correct.iter_mut() {
                        if *k == c.id {
                            *k = l.clone();
                        }
                    }
                    *c = Choice { id: l, ..c.clone() };
                }
            }
            Interaction::TextEntry { blanks } => {
                for (i, b) in blanks.iter_mut().enumerate() {
                    b.id = (i + 1).to_string();
                }
            }
            _ => {}
        }
    }
    items
}

fn review(i: &Item) -> Option<ReviewStatus> {
    match i.meta.ident.as_str() {
        "DG-0001" => Some(ReviewStatus::Approved),
        "DG-0002" => Some(ReviewStatus::InReview),
        _ => None,
    }
}

#[test]
fn export_then_import_round_trips() {
    let items = xlsx_native(samples::items());
    let bytes = export_xlsx(&items, &review).unwrap();
    let r = import_xlsx("export.xlsx", &bytes);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.items.len(), items.len());
    for (orig, back) in items.iter().zip(&r.items) {
        assert_eq!(&back.item, orig, "{}", orig.meta.ident);
        assert_eq!(back.review, review(orig), "{}", orig.meta.ident);
    }
}

#[test]
fn blank_template_has_the_header_and_instructions() {
    let r = import_xlsx("template.xlsx", &template_xlsx().unwrap());
    assert!(r.items.is_empty());
    assert!(
        r.problems.iter().all(|p| !p.is_error()),
        "{:#?}",
        r.problems
    );
}

/// openpyxl reads the export: the sheets, the header, and cells of two items as the
/// template's documentation says they are written.
#[test]
fn openpyxl_reads_the_export() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = std::process::Command::new(&python)
        .args(["-c", "import openpyxl"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        // CI installs openpyxl: there, a missing one is a failure, not a skip.
        assert!(
            std::env::var("CI").is_err(),
            "CI must install openpyxl (pip install openpyxl)"
        );
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "=== SKIPPED openpyxl_reads_the_export: {python} with openpyxl not available (pip install openpyxl) ==="
        );
        return;
    }
    let items = xlsx_native(samples::items());
    let path = std::env::temp_dir().join(format!("xcert-export-{}.xlsx", std::process::id()));
    std::fs::write(&path, export_xlsx(&items, &review).unwrap()).unwrap();
    let out = std::process::Command::new(&python)
        .arg(dir().join("read_xlsx.py"))
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sheets"], serde_json::json!(["题库", "说明"]));
    let rows = v["rows"]["题库"].as_array().unwrap();
    let header: Vec<&str> = rows[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(&header[..4], &["题目编号", "题型", "题干", "选项A"]);
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let cell = |row: usize, name: &str| rows[row][col(name)].as_str().unwrap().to_string();
    assert_eq!(rows.len(), items.len() + 1);
    // DG-0002: multiple choice, partial credit, key ABDE (from samples::items by hand).
    assert_eq!(cell(2, "题目编号"), "DG-0002");
    assert_eq!(cell(2, "题型"), "多选题");
    assert_eq!(cell(2, "题干"), "继电保护装置的基本要求包括哪些？");
    assert_eq!(cell(2, "选项E"), "可靠性");
    assert_eq!(cell(2, "答案"), "ABDE");
    assert_eq!(cell(2, "分值"), "4");
    assert_eq!(cell(2, "评分方式"), "少选得分");
    assert_eq!(cell(2, "难度"), "2.5");
    assert_eq!(cell(2, "等级"), "中级");
    assert_eq!(cell(2, "技能要求"), "1.2.3;2.1.1");
    assert_eq!(cell(2, "审核状态"), "审核中");
    assert_eq!(cell(2, "预计用时(秒)"), "90");
    // DG-0010: the practical task's criteria, the | in a criterion's text escaped.
    assert_eq!(cell(10, "题型"), "实操题");
    assert_eq!(
        cell(10, "评分标准"),
        "安全防护：佩戴绝缘手套 \\| 验电|10|关键|id=safety|10=全程规范;0=未佩戴\\；未验电\n接线正确|30"
    );
    // DG-0004: two blanks with alternatives.
    assert_eq!(cell(4, "答案"), "安培/A|伏特/V");
    let notes = v["rows"]["说明"].as_array().unwrap();
    assert!(notes.iter().any(|r| r[1] == "criteria"));
}
