//! Moodle GIFT and Moodle XML imports on hand-written fixtures that follow the examples of
//! docs.moodle.org ("GIFT format", "Moodle XML format"). Expected values are read off
//! the fixtures by hand: their keys, weights, fractions, line numbers.

#[path = "interchange_samples.rs"]
mod samples;

use std::path::Path;

use xcert_assess::interchange::{ImportReport, Problem, Severity, import_gift, import_moodle_xml};
use xcert_assess::item::{Interaction, ItemKind, Scoring};
use xcert_assess::markup::plain_text;

fn fixture(p: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/interchange")
            .join(p),
    )
    .unwrap()
}

fn item<'a>(r: &'a ImportReport, ident: &str) -> &'a xcert_assess::Item {
    &r.items
        .iter()
        .find(|i| i.item.meta.ident == ident)
        .unwrap_or_else(|| panic!("{ident} not imported: {:#?}", r.problems))
        .item
}

fn problems<'a>(r: &'a ImportReport, code: &str) -> Vec<&'a Problem> {
    r.problems.iter().filter(|p| p.code == code).collect()
}

#[test]
fn gift_question_types() {
    let r = import_gift("bank.gift", &fixture("gift/bank.gift"));
    let idents: Vec<&str> = r.items.iter().map(|i| i.item.meta.ident.as_str()).collect();
    assert_eq!(
        idents,
        vec![
            "Q1 频率",
            "Q2 继保",
            "Q3 验电",
            "Q4 单位",
            "Q5 匹配",
            "Q6 圆周率",
            "Q7 简答",
            "Q8 转义",
            "Q9"
        ],
        "{:#?}",
        r.problems
    );

    let q1 = item(&r, "Q1 频率");
    assert_eq!(q1.content.kind, ItemKind::SingleChoice);
    assert_eq!(
        q1.content.key(),
        Some(xcert_assess::Response::Choice(vec!["A".into()]))
    );
    // $CATEGORY: …/1.1.2 电网频率 tags the questions after it.
    assert_eq!(q1.meta.requirements, vec!["1.1.2".to_string()]);
    assert_eq!(q1.content.points, 1.0);

    let q2 = item(&r, "Q2 继保");
    assert_eq!(q2.content.kind, ItemKind::MultipleChoice);
    assert_eq!(q2.content.scoring, Scoring::Partial);
    assert_eq!(
        q2.content.key(),
        Some(xcert_assess::Response::Choice(vec![
            "A".into(),
            "B".into(),
            "D".into()
        ]))
    );

    let q3 = item(&r, "Q3 验电");
    assert_eq!(q3.content.kind, ItemKind::TrueFalse);
    assert_eq!(
        q3.content.key(),
        Some(xcert_assess::Response::Choice(vec!["T".into()]))
    );

    let q4 = item(&r, "Q4 单位");
    let Interaction::TextEntry { blanks } = &q4.content.interaction else {
        panic!()
    };
    assert_eq!(
        blanks[0].accepted,
        vec!["安培".to_string(), "A".to_string()]
    );
    // Missing-word form: the block's place becomes a blank.
    assert_eq!(plain_text(&q4.content.stem), "电流的单位是 ____ 。");

    let q5 = item(&r, "Q5 匹配");
    let Interaction::Match {
        sources,
        targets,
        correct,
        ..
    } = &q5.content.interaction
    else {
        panic!()
    };
    assert_eq!(sources.len(), 2);
    assert_eq!(targets.len(), 3, "the distractor stays as a target");
    assert_eq!(
        correct,
        &vec![
            ("1".to_string(), "A".to_string()),
            ("2".to_string(), "B".to_string())
        ]
    );

    let q6 = item(&r, "Q6 圆周率");
    let Interaction::TextEntry { blanks } = &q6.content.interaction else {
        panic!()
    };
    assert_eq!(blanks[0].accepted, vec!["3.14".to_string()]);
    let tol = problems(&r, "tolerance_lost");
    assert_eq!(tol.len(), 1);
    assert_eq!(tol[0].location, "line 24");
    assert_eq!(tol[0].severity, Severity::Warning);

    let q7 = item(&r, "Q7 简答");
    assert_eq!(q7.content.kind, ItemKind::ExtendedText);
    assert_eq!(
        plain_text(q7.content.explanation.as_deref().unwrap()),
        "参见《电力变压器运行规程》。"
    );

    // Escapes: \= \{ \} \: are literal; per-answer feedback is dropped with a warning.
    let q8 = item(&r, "Q8 转义");
    assert_eq!(
        plain_text(&q8.content.stem),
        "表达式 a=b 与 {x} 中的符号各表示什么？"
    );
    let Interaction::Choice { choices, .. } = &q8.content.interaction else {
        panic!()
    };
    assert_eq!(plain_text(&choices[0].text), "赋值: 等号");
    assert!(!problems(&r, "feedback_dropped").is_empty());

    // [html] keeps markup.
    assert!(item(&r, "Q9").content.stem.contains("<b>绝缘</b>"));

    // Errors name the line.
    let e = problems(&r, "unclosed_answers");
    assert_eq!(
        (e[0].location.as_str(), e[0].item.as_deref()),
        ("line 32", Some("Q10 未闭合"))
    );
    assert!(e[0].zh.contains('}'));
    let e = problems(&r, "unsupported_numeric_range");
    assert_eq!(e[0].location, "line 34");
    assert_eq!(e[0].severity, Severity::Error);
}

#[test]
fn gift_refuses_bad_bytes_without_panicking() {
    let r = import_gift("x.gift", &[0xff, 0xfe, 0x00, 0x7b]);
    assert_eq!(problems(&r, "not_utf8").len(), 1);
    // Unbalanced escapes, stray markers and multibyte text near them.
    let r = import_gift(
        "y.gift",
        "::标题::题干\\{中{=\\~甲 ~乙\\}}\n\n{\n\n::只有标题::".as_bytes(),
    );
    assert!(r.problems.iter().all(|p| !p.en.is_empty()));
}

#[test]
fn moodle_xml_question_types() {
    let r = import_moodle_xml("quiz.xml", &fixture("moodle/quiz.xml"));
    let idents: Vec<&str> = r.items.iter().map(|i| i.item.meta.ident.as_str()).collect();
    assert_eq!(
        idents,
        vec![
            "安全电压",
            "继保要求",
            "验电",
            "SA-001",
            "圆周率",
            "设备作用",
            "并列运行"
        ],
        "{:#?}",
        r.problems
    );
    let mc = item(&r, "安全电压");
    assert_eq!(mc.content.kind, ItemKind::SingleChoice);
    assert_eq!(mc.content.points, 2.0);
    let Interaction::Choice {
        shuffle, correct, ..
    } = &mc.content.interaction
    else {
        panic!()
    };
    assert!(!shuffle);
    assert_eq!(correct, &vec!["A".to_string()]);
    // Category code plus the tag that is a requirement code; "安全" is not one.
    assert_eq!(
        mc.meta.requirements,
        vec!["1.2.3".to_string(), "2.1.1".to_string()]
    );
    // The embedded image comes along, referenced by its name.
    assert!(
        mc.content.stem.contains("src=\"电路.png\""),
        "{}",
        mc.content.stem
    );
    let m = r
        .media
        .iter()
        .find(|m| m.path == "电路.png")
        .expect("media");
    assert_eq!(m.bytes, samples::PNG.to_vec());
    assert_eq!(m.mime, "image/png");
    assert!(plain_text(mc.content.explanation.as_deref().unwrap()).contains("36 V"));

    let multi = item(&r, "继保要求");
    assert_eq!(multi.content.kind, ItemKind::MultipleChoice);
    assert_eq!(multi.content.scoring, Scoring::Partial);
    assert_eq!(
        multi.content.key(),
        Some(xcert_assess::Response::Choice(vec![
            "A".into(),
            "B".into(),
            "D".into()
        ]))
    );

    assert_eq!(item(&r, "验电").content.kind, ItemKind::TrueFalse);

    let sa = item(&r, "SA-001");
    let Interaction::TextEntry { blanks } = &sa.content.interaction else {
        panic!()
    };
    assert_eq!(
        blanks[0].accepted,
        vec!["安培".to_string(), "A".to_string()]
    );
    assert!(!blanks[0].case_sensitive);
    assert_eq!(problems(&r, "partial_answer_dropped").len(), 1);

    assert_eq!(problems(&r, "tolerance_lost").len(), 1);

    let mt = item(&r, "设备作用");
    let Interaction::Match {
        sources, targets, ..
    } = &mt.content.interaction
    else {
        panic!()
    };
    assert_eq!((sources.len(), targets.len()), (2, 3));

    let es = item(&r, "并列运行");
    let Interaction::ExtendedText { guide, .. } = &es.content.interaction else {
        panic!()
    };
    assert!(plain_text(guide.as_deref().unwrap()).contains("短路阻抗"));
    assert_eq!(es.content.points, 10.0);

    // Unsupported types are named by question and element.
    let un = problems(&r, "unsupported_question_type");
    assert_eq!(un.len(), 2);
    assert!(un[0].en.contains("欧姆定律计算") && un[0].en.contains("calculated"));
    assert!(un[0].location.starts_with("quiz/question"), "{}", un[0]);
    assert!(un[1].zh.contains("ddwtos"));
    assert_eq!(problems(&r, "description_skipped").len(), 1);
    let missing = problems(&r, "missing_media");
    assert_eq!(missing[0].item.as_deref(), Some("缺图"));
}

#[test]
fn moodle_xml_refuses_entities_and_bad_roots() {
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaa">]><quiz>&a;</quiz>"#;
    let r = import_moodle_xml("bomb.xml", bomb);
    assert_eq!(problems(&r, "bad_xml").len(), 1);
    let r = import_moodle_xml("x.xml", b"<questions/>");
    assert_eq!(problems(&r, "not_moodle_xml").len(), 1);
}
