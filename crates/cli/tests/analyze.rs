//! `xcert analyze` end to end on fixtures, checked against values from independent
//! tools run outside xcert:
//! - `lsat7_scores.csv` (LSAT7, 1000 × 5 scores): Cronbach's alpha and corrected
//!   item–total r from R psych 2.2.9 `alpha()`; 2PL slopes and intercepts as published
//!   for R mirt (and reproduced by Python girth `twopl_mml`).
//! - `responses_choice.csv` with the GB18030 `key_choice.csv` (120 × 10, options A–D,
//!   Q10 deliberately mis-keyed): option shares, item–total r and alpha from R psych
//!   2.2.9 `score.multiple.choice()` and `alpha()` (omits coded 0, scored wrong).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_xcert");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../assess/tests/fixtures/analysis")
        .join(name)
}

fn run(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(BIN)
        .args(args)
        .env("XCERT_LOG", "warn")
        .output()
        .expect("run xcert");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, expected {want} ± {tol}"
    );
}

#[test]
fn analyze_lsat7_scores_json() {
    let f = fixture("lsat7_scores.csv");
    let (ok, out, err) = run(&["analyze", f.to_str().unwrap(), "--json", "--irt", "2pl"]);
    assert!(ok, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    close(num(&r["test"]["alpha"]), 0.453409, 5e-5, "alpha");
    assert_eq!(r["test"]["n_persons"], 1000);
    let r_drop = [0.245732, 0.246674, 0.313179, 0.222751, 0.174786];
    let a = [0.988, 1.081, 1.706, 0.765, 0.736];
    let d = [1.856, 0.808, 1.804, 0.486, 1.855];
    for (j, it) in r["items"].as_array().unwrap().iter().enumerate() {
        close(num(&it["r_item_rest"]), r_drop[j], 5e-6, "r.drop");
    }
    let irt = &r["irt"];
    assert_eq!(irt["model"], "2pl");
    for (j, it) in irt["items"].as_array().unwrap().iter().enumerate() {
        close(num(&it["a"]), a[j], 0.01, "mirt a");
        close(num(&it["d"]), d[j], 0.01, "mirt d");
    }
    // Chart data is there for the web layer.
    assert_eq!(
        r["charts"]["item_map"]["items"].as_array().unwrap().len(),
        5
    );
    let hist: u64 = r["charts"]["item_map"]["theta_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(hist, 1000);
}

#[test]
fn analyze_keyed_choices_against_psych() {
    let resp = fixture("responses_choice.csv");
    let key = fixture("key_choice.csv");
    let (ok, out, err) = run(&[
        "analyze",
        resp.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--json",
        "--irt",
        "none",
    ]);
    assert!(ok, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    // psych: raw_alpha 0.5899702.
    close(num(&r["test"]["alpha"]), 0.5899702, 5e-7, "alpha");
    // psych item.stats r (item–whole) and alpha()$alpha.drop.
    let raw_r = [
        0.44267886,
        0.45282893,
        0.57194991,
        0.58242282,
        0.39339052,
        0.50334642,
        0.48278176,
        0.54422054,
        0.63510894,
        -0.05997778,
    ];
    let alpha_drop = [
        0.5612718, 0.5701995, 0.5325593, 0.5288171, 0.5857771, 0.5493616, 0.5621444, 0.5419705,
        0.5096332, 0.6642223,
    ];
    for (j, it) in r["items"].as_array().unwrap().iter().enumerate() {
        close(num(&it["r_item_total"]), raw_r[j], 5e-8, "item–total r");
        close(
            num(&it["alpha_if_deleted"]),
            alpha_drop[j],
            5e-7,
            "alpha if dropped",
        );
    }
    // psych item.stats option shares (columns 0 = omit, 1–4 = A–D) for Q1, Q5, Q10.
    let shares: [(&str, [f64; 5]); 3] = [
        ("Q1", [0.000000, 0.100000, 0.841667, 0.033333, 0.025000]),
        ("Q5", [0.033333, 0.325000, 0.366667, 0.258333, 0.016667]),
        ("Q10", [0.008333, 0.208333, 0.208333, 0.533333, 0.041667]),
    ];
    for (id, want) in shares {
        let t = r["distractors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["item_id"] == id)
            .unwrap();
        let rows = t["rows"].as_array().unwrap();
        // Our rows: A, B, C, D, then omit.
        for (o, w) in [1, 2, 3, 4, 0].iter().zip(0..5) {
            close(num(&rows[w]["proportion"]), want[*o], 5e-7, id);
        }
    }
    // Q10 is mis-keyed (the strong candidates choose C); Q5's D draws under 5 %.
    let flags = r["flags"].as_array().unwrap();
    assert!(
        flags
            .iter()
            .any(|f| f["item_id"] == "Q10" && f["kind"] == "possible_miskey" && f["option"] == "C")
    );
    assert!(flags.iter().any(|f| f["item_id"] == "Q5"
        && f["kind"] == "non_functioning_distractor"
        && f["option"] == "D"));
}

#[test]
fn analyze_prints_a_table_and_clear_errors() {
    let resp = fixture("responses_choice.csv");
    let key = fixture("key_choice.csv");
    let (ok, out, err) = run(&[
        "analyze",
        resp.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("Cronbach's alpha"));
    assert!(out.contains("Q10 Possible mis-key (C)"));
    assert!(out.contains("疑似答案错误"));
    // A bad cell: the error names file, row and column, in English and Chinese.
    let dir = std::env::temp_dir().join(format!("xcert-analyze-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("RESPONSES.csv");
    std::fs::write(&bad, "id,Q1\np1,1\np2,x\n").unwrap();
    let (ok, _, err) = run(&["analyze", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("RESPONSES.csv row 3, column Q1: 'x' is not a number"),
        "{err}"
    );
    assert!(err.contains("第 3 行"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
