//! Golden tests of item analysis and rater agreement. Every expected value comes from a
//! published source or an independent tool run outside xcert; each is cited where used.

// Index loops walk published tables side by side; −0.318 is a published b, not 1/π.
#![allow(clippy::needless_range_loop, clippy::approx_constant)]

use xcert_assess::analysis::ctt::classical;
use xcert_assess::analysis::data::ScoreMatrix;
use xcert_assess::analysis::irt::{IrtModel, IrtOptions, calibrate};
use xcert_assess::analysis::rater::{
    DiscrepancyThreshold, KappaWeights, cohen_kappa, flag_discrepancies, icc, kappa_from_table,
};
use xcert_assess::analysis::{ClassicalOptions, FlagKind, IrtRequest, read_key, read_responses};

/// Persons from pattern counts in binary order 00000…11111, item 1 the leftmost digit.
fn from_counts(counts: &[usize]) -> ScoreMatrix {
    let pats: Vec<[u8; 5]> = (0..32u8)
        .map(|i| {
            [
                (i >> 4) & 1,
                (i >> 3) & 1,
                (i >> 2) & 1,
                (i >> 1) & 1,
                i & 1,
            ]
        })
        .collect();
    let list: Vec<(&[u8], usize)> = pats.iter().zip(counts).map(|(p, &c)| (&p[..], c)).collect();
    ScoreMatrix::from_patterns((1..=5).map(|i| format!("Item {i}")).collect(), &list).unwrap()
}

/// LSAT7 (Bock & Aitkin 1981), as in R's mirt (`expand.table(LSAT7)`).
const LSAT7: [usize; 32] = [
    12, 19, 1, 7, 3, 19, 3, 17, 10, 5, 3, 7, 7, 23, 8, 28, 7, 39, 11, 34, 14, 51, 15, 90, 6, 25, 7,
    35, 18, 136, 32, 308,
];

/// LSAT6 (Bock & Lieberman 1970), the `LSAT` data of R's ltm. The counts agree with the
/// "Obs" column of ltm's `factor.scores(ltm(LSAT ~ z1))` output as printed in public
/// tutorials (patterns 01010 and 01100 were not observed).
const LSAT6: [usize; 32] = [
    3, 6, 2, 11, 1, 1, 3, 4, 1, 8, 0, 16, 0, 3, 2, 15, 10, 29, 14, 81, 3, 28, 15, 80, 16, 56, 21,
    173, 11, 61, 28, 298,
];

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.5}, expected {want} ± {tol}"
    );
}

#[test]
fn lsat7_classical_statistics() {
    let s = from_counts(&LSAT7);
    assert_eq!(s.n_persons(), 1000);
    let c = classical(&s, None, &ClassicalOptions::default());
    // Cronbach's alpha 0.4534, item means and corrected item–total r (r.drop), item–total
    // r (raw.r) and alpha-if-deleted: R psych 2.2.9 `alpha()` on expand.table(LSAT7),
    // run here (Debian r-cran-psych); the first three also as given in the task brief.
    close(c.test.alpha.unwrap(), 0.453409, 5e-5, "alpha");
    let p = [0.828, 0.658, 0.772, 0.606, 0.843];
    let r_drop = [0.245732, 0.246674, 0.313179, 0.222751, 0.174786];
    let raw_r = [0.529988, 0.599677, 0.611210, 0.592029, 0.461192];
    let alpha_drop = [0.395975, 0.393831, 0.345391, 0.414601, 0.438462];
    let sd = [0.377569, 0.474617, 0.419753, 0.488879, 0.363983];
    for j in 0..5 {
        let it = &c.items[j];
        close(it.facility.unwrap(), p[j], 1e-9, "p");
        close(it.r_item_rest.unwrap(), r_drop[j], 5e-6, "r.drop");
        close(it.r_item_total.unwrap(), raw_r[j], 5e-6, "raw.r");
        close(
            it.alpha_if_deleted.unwrap(),
            alpha_drop[j],
            5e-6,
            "alpha if dropped",
        );
        close(it.sd.unwrap(), sd[j], 5e-6, "item sd");
    }
    // KR-20 by hand from the printed p values: k/(k−1)·(1 − Σpq/σ²) uses the same
    // variances, so alpha = KR-20 for 0/1 items; SEM = sd·√(1 − alpha).
    let sd_t = c.test.sd.unwrap();
    close(
        c.test.sem.unwrap(),
        sd_t * (1.0 - 0.453409f64).sqrt(),
        1e-4,
        "SEM",
    );
    close(
        c.test.mean.unwrap(),
        0.828 + 0.658 + 0.772 + 0.606 + 0.843,
        1e-9,
        "mean",
    );
    let dist: usize = c.test.distribution.iter().map(|b| b.count).sum();
    assert_eq!(dist, 1000);
    assert_eq!(c.test.distribution.len(), 6);
}

#[test]
fn lsat7_two_pl_matches_mirt() {
    let s = from_counts(&LSAT7);
    let fit = calibrate(
        &s,
        &IrtOptions {
            model: IrtModel::TwoPl,
            tolerance: 1e-7,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(fit.converged);
    assert_eq!(fit.n_patterns, 32);
    // mirt's published estimates (default 61-point quadrature); also reproduced here by
    // Python girth 0.8 `twopl_mml` (a = .9876 1.0809 1.7074 .7650 .7357).
    let a = [0.988, 1.081, 1.706, 0.765, 0.736];
    let d = [1.856, 0.808, 1.804, 0.486, 1.855];
    for j in 0..5 {
        close(fit.items[j].a, a[j], 0.01, "a");
        close(fit.items[j].d, d[j], 0.01, "d");
        close(fit.items[j].b, -fit.items[j].d / fit.items[j].a, 1e-12, "b");
        assert!(fit.items[j].se_a.is_some_and(|v| v > 0.0 && v < 1.0));
    }
    // EAP abilities: Python girth 0.8 `ability_eap` with mirt's parameters above
    // (standard normal prior), run here. Patterns 00000, 10101, 11111.
    let eap = |pattern: usize| {
        let start: usize = LSAT7[..pattern].iter().sum();
        fit.abilities[start].theta
    };
    close(eap(0), -1.8692, 0.01, "EAP 00000");
    close(eap(21), -0.3035, 0.01, "EAP 10101");
    close(eap(31), 0.7272, 0.01, "EAP 11111");
    assert!(fit.abilities[0].psd > 0.5 && fit.abilities[0].psd < 1.0);
}

#[test]
fn lsat6_counts_and_facilities() {
    let s = from_counts(&LSAT6);
    assert_eq!(s.n_persons(), 1000);
    // Published LSAT6 facilities (Bock & Lieberman 1970; ltm `descript(LSAT)`).
    let c = classical(&s, None, &ClassicalOptions::default());
    let p = [0.924, 0.709, 0.553, 0.763, 0.870];
    for j in 0..5 {
        close(c.items[j].facility.unwrap(), p[j], 1e-9, "LSAT6 p");
    }
}

#[test]
fn lsat6_rasch_matches_ltm() {
    let s = from_counts(&LSAT6);
    let fit = calibrate(
        &s,
        &IrtOptions {
            model: IrtModel::Rasch,
            tolerance: 1e-7,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(fit.converged);
    // ltm `rasch(LSAT)`: common slope 0.755, b = −3.615 −1.322 −0.318 −1.730 −2.780.
    let b = [-3.615, -1.322, -0.318, -1.730, -2.780];
    for j in 0..5 {
        close(fit.items[j].a, 0.755, 0.005, "common a");
        close(fit.items[j].b, b[j], 0.01, "b");
    }
}

#[test]
fn lsat6_two_pl_matches_ltm() {
    let s = from_counts(&LSAT6);
    let fit = calibrate(
        &s,
        &IrtOptions {
            model: IrtModel::TwoPl,
            tolerance: 1e-7,
            ..Default::default()
        },
    )
    .unwrap();
    // ltm `ltm(LSAT ~ z1, IRT.param = TRUE)` summary as printed in a public tutorial
    // (log.Lik −2466.653; 21-point Gauss–Hermite, SEs from the numerical Hessian).
    let b = [-3.3597, -1.3696, -0.2799, -1.8659, -3.1236];
    let a = [0.8254, 0.7229, 0.8905, 0.6886, 0.6575];
    let se_b = [0.8669, 0.3073, 0.0997, 0.4341, 0.8700];
    let se_a = [0.2581, 0.1867, 0.2326, 0.1852, 0.2100];
    for j in 0..5 {
        let it = &fit.items[j];
        close(it.a, a[j], 0.002, "LSAT6 2PL a");
        close(it.b, b[j], 0.005, "LSAT6 2PL b");
        close(it.se_a.unwrap(), se_a[j], 0.01 * se_a[j], "se(a)");
        close(it.se_b.unwrap(), se_b[j], 0.01 * se_b[j], "se(b)");
    }
    close(fit.log_likelihood, -2466.653, 0.005, "log-likelihood");
}

#[test]
fn shrout_fleiss_icc() {
    // Shrout & Fleiss (1979), Table 2: 6 targets × 4 judges; published ICC(1,1)=.17,
    // ICC(2,1)=.29, ICC(3,1)=.71, ICC(1,4)=.44, ICC(2,4)=.62, ICC(3,4)=.91.
    let t = vec![
        vec![9.0, 2.0, 5.0, 8.0],
        vec![6.0, 1.0, 3.0, 2.0],
        vec![8.0, 4.0, 6.0, 8.0],
        vec![7.0, 1.0, 2.0, 6.0],
        vec![10.0, 5.0, 6.0, 9.0],
        vec![6.0, 2.0, 4.0, 7.0],
    ];
    let r = icc(&t).unwrap();
    close(r.icc1.unwrap(), 0.17, 0.005, "ICC(1,1)");
    close(r.icc2.unwrap(), 0.29, 0.005, "ICC(2,1)");
    close(r.icc3.unwrap(), 0.71, 0.005, "ICC(3,1)");
    close(r.icc1k.unwrap(), 0.44, 0.005, "ICC(1,4)");
    close(r.icc2k.unwrap(), 0.62, 0.005, "ICC(2,4)");
    close(r.icc3k.unwrap(), 0.91, 0.005, "ICC(3,4)");
    // Their Table 3 mean squares: BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02.
    close(r.bms, 11.24, 0.005, "BMS");
    close(r.wms, 6.26, 0.005, "WMS");
    close(r.jms, 32.49, 0.005, "JMS");
    close(r.ems, 1.02, 0.005, "EMS");
    assert!(icc(&t[..1]).is_err());
    assert!(icc(&[vec![1.0, 2.0], vec![1.0]]).is_err());
}

#[test]
fn kappa_published_examples() {
    // Cohen (1968), Table 1: 200 cases, judge B rows × judge A columns, proportions
    // .44 .07 .09 / .05 .20 .05 / .01 .03 .06, disagreement weights 1, 3, 6 — Cohen
    // gives p_o = .70, p_c = .41, κ = .49 and κ_w = .35.
    let t: Vec<Vec<f64>> = [[88.0, 14.0, 18.0], [10.0, 40.0, 10.0], [2.0, 6.0, 12.0]]
        .iter()
        .map(|r| r.to_vec())
        .collect();
    let k = kappa_from_table(&t, &KappaWeights::None).unwrap();
    close(k.observed_disagreement, 0.30, 1e-12, "1 − p_o");
    close(k.expected_disagreement, 0.59, 1e-12, "1 − p_c");
    close(k.kappa.unwrap(), 0.49, 0.005, "Cohen 1968 κ");
    let w = KappaWeights::Matrix(vec![0.0, 1.0, 3.0, 1.0, 0.0, 6.0, 3.0, 6.0, 0.0]);
    close(
        kappa_from_table(&t, &w).unwrap().kappa.unwrap(),
        0.35,
        0.005,
        "Cohen 1968 κw",
    );
    // The 2 × 2 worked example of the Wikipedia article "Cohen's kappa": 50 proposals,
    // yes/yes 20, yes/no 5, no/yes 10, no/no 15: p_o = .7, p_e = .5, κ = .4.
    let yes_no = vec![vec![20.0, 5.0], vec![10.0, 15.0]];
    close(
        kappa_from_table(&yes_no, &KappaWeights::None)
            .unwrap()
            .kappa
            .unwrap(),
        0.4,
        1e-12,
        "2×2 κ",
    );
    // Linear and quadratic weights on ordinal scores: scikit-learn 1.9.1
    // `cohen_kappa_score(r1, r2, weights=...)`, run here on these two lists:
    // none 0.5555555556, linear 0.7241379310, quadratic 0.8571428571.
    let r1 = [0, 1, 2, 3, 2, 1, 0, 3, 2, 2, 1, 3];
    let r2 = [0, 1, 2, 2, 2, 0, 0, 3, 1, 3, 1, 3];
    let sk = |w: KappaWeights| cohen_kappa(&r1, &r2, &w).unwrap().kappa.unwrap();
    close(sk(KappaWeights::None), 0.5555555556, 1e-9, "sklearn κ");
    close(
        sk(KappaWeights::Linear),
        0.7241379310,
        1e-9,
        "sklearn linear κ",
    );
    close(
        sk(KappaWeights::Quadratic),
        0.8571428571,
        1e-9,
        "sklearn quadratic κ",
    );
    assert!(cohen_kappa(&[1, 2], &[1], &KappaWeights::None).is_err());
}

#[test]
fn discrepancies_for_a_third_examiner() {
    let scores = vec![
        vec![18.0, 17.0],
        vec![12.0, 19.0],
        vec![15.0, 15.0],
        vec![9.0, 13.0],
    ];
    // Threshold 3 points: candidates 1 (7 apart) and 3 (4 apart).
    let f = flag_discrepancies(&scores, DiscrepancyThreshold::Points(3.0));
    assert_eq!(
        f.iter().map(|d| d.candidate).collect::<Vec<_>>(),
        vec![1, 3]
    );
    assert_eq!(f[0].difference, 7.0);
    assert!(f[0].zh.contains("第三位考评员"));
    // 25 % of 20 points = 5: only candidate 1.
    let f = flag_discrepancies(
        &scores,
        DiscrepancyThreshold::PercentOfMax {
            percent: 25.0,
            max_points: 20.0,
        },
    );
    assert_eq!(f.iter().map(|d| d.candidate).collect::<Vec<_>>(), vec![1]);
}

/// A hand-computable upper–lower example: 10 persons, 3 items. Group size round(2.7)
/// = 3. Totals (computed by hand below) are distinct, so the groups are exact.
#[test]
fn upper_lower_index_by_hand() {
    // Q3 is worth 2 points; each row's total is in its comment.
    let rows: [[f32; 3]; 10] = [
        [1.0, 1.0, 2.0], // 4.0
        [1.0, 0.0, 2.0], // 3.0
        [1.0, 1.0, 1.0], // 3.0
        [0.0, 1.0, 2.0], // 3.0
        [1.0, 0.0, 1.0], // 2.0
        [1.0, 1.0, 0.0], // 2.0
        [0.0, 0.0, 1.0], // 1.0
        [1.0, 0.0, 0.0], // 1.0
        [0.0, 1.0, 0.0], // 1.0
        [0.0, 0.0, 0.0], // 0.0
    ];
    let s = ScoreMatrix::new(
        vec!["Q1".into(), "Q2".into(), "Q3".into()],
        vec![1.0, 1.0, 2.0],
        rows.iter().flatten().copied().collect(),
    )
    .unwrap();
    let c = classical(&s, None, &ClassicalOptions::default());
    // Upper 3: p1 (4) fully, then 2 of the 3 persons tied at 3 (p2, p3, p4), each with
    // weight 2/3. Q1 upper: (1 + 2/3·(1 + 1 + 0)) / 3 = (1 + 4/3)/3 = 7/9.
    // Lower 3: p10 (0) fully, then 2 of the 3 tied at 1 (p7, p8, p9) with weight 2/3.
    // Q1 lower: (0 + 2/3·(0 + 1 + 0)) / 3 = 2/9. D = 7/9 − 2/9 = 5/9.
    let q1 = &c.items[0];
    close(q1.upper_facility.unwrap(), 7.0 / 9.0, 1e-12, "Q1 upper");
    close(q1.lower_facility.unwrap(), 2.0 / 9.0, 1e-12, "Q1 lower");
    close(q1.discrimination_index.unwrap(), 5.0 / 9.0, 1e-12, "Q1 D");
    // Q3 (max 2): upper (2 + 2/3·(2 + 1 + 2))/3/2 = (2 + 10/3)/6 = 8/9;
    // lower (0 + 2/3·(1 + 0 + 0))/3/2 = 1/9; D = 7/9.
    let q3 = &c.items[2];
    close(q3.discrimination_index.unwrap(), 7.0 / 9.0, 1e-12, "Q3 D");
    // Facility Q3 = mean 9/10 / 2 = .45.
    close(q3.facility.unwrap(), 0.45, 1e-12, "Q3 p");
    // Row order does not change the groups.
    let mut rev: Vec<f32> = Vec::new();
    for r in rows.iter().rev() {
        rev.extend_from_slice(r);
    }
    let s2 = ScoreMatrix::new(
        vec!["Q1".into(), "Q2".into(), "Q3".into()],
        vec![1.0, 1.0, 2.0],
        rev,
    )
    .unwrap();
    let c2 = classical(&s2, None, &ClassicalOptions::default());
    close(
        c2.items[0].discrimination_index.unwrap(),
        5.0 / 9.0,
        1e-12,
        "reversed Q1 D",
    );
}

/// Distractor table by hand, and a mis-keyed item that must be flagged.
#[test]
fn distractors_and_miskey() {
    // 40 candidates. Items Q1–Q4 (key B each) are answered right by the stronger
    // candidates: candidate i (0-based) answers Q1–Q4 right when i >= 10, 15, 20, 25
    // respectively, otherwise A/C/D in turn. Q5 is keyed A but the strong candidates
    // (i >= 20) choose C — the classic mis-key. Option D of Q5 nobody chooses.
    let mut csv = String::from("id,Q1,Q2,Q3,Q4,Q5\n");
    let wrong = ["A", "C", "D"];
    for i in 0..40usize {
        csv += &format!("s{i:02}");
        for (q, cut) in [10usize, 15, 20, 25].iter().enumerate() {
            if i >= *cut {
                csv += ",B";
            } else {
                csv += &format!(",{}", wrong[(i + q) % 3]);
            }
        }
        // Q5: strong choose C; weak: A for i < 12, B for 12..20.
        csv += if i >= 20 {
            ",C"
        } else if i < 12 {
            ",A"
        } else {
            ",B"
        };
        csv += "\n";
    }
    let key = read_key(
        "KEY.csv",
        b"item,key,points,options\nQ1,B,1,A-D\nQ2,B,1,A-D\nQ3,B,1,A-D\nQ4,B,1,A-D\nQ5,A,1,A-D\n",
    )
    .unwrap();
    let data = read_responses("RESPONSES.csv", csv.as_bytes(), Some(&key)).unwrap();
    let report = xcert_assess::analysis::analyze_data(
        &data,
        &xcert_assess::analysis::AnalysisOptions {
            irt: IrtRequest::None,
            ..Default::default()
        },
    );
    let q5 = report
        .distractors
        .iter()
        .find(|t| t.item_id == "Q5")
        .unwrap();
    // By hand: A chosen by 12 (0.30), B by 8, C by 20 (0.50), D by 0, omit 0.
    let counts: Vec<usize> = q5.rows.iter().map(|r| r.count).collect();
    assert_eq!(counts, vec![12, 8, 20, 0, 0]);
    close(q5.rows[2].proportion.unwrap(), 0.5, 1e-12, "Q5 C share");
    // Upper group: 11 persons (round(10.8)); all of them chose C.
    close(
        q5.rows[2].upper_proportion.unwrap(),
        1.0,
        1e-12,
        "Q5 C upper",
    );
    close(
        q5.rows[0].upper_proportion.unwrap(),
        0.0,
        1e-12,
        "Q5 A upper",
    );
    assert!(q5.rows[0].is_key && !q5.rows[2].is_key);
    assert!(q5.rows[2].r_rest.unwrap() > 0.5);
    let flags: Vec<_> = report.flags.iter().filter(|f| f.item_id == "Q5").collect();
    let miskey = flags
        .iter()
        .find(|f| f.kind == FlagKind::PossibleMiskey)
        .expect("Q5 must be flagged as a possible mis-key");
    assert_eq!(miskey.option.as_deref(), Some("C"));
    assert!(miskey.zh.contains("正确答案"));
    assert!(
        flags
            .iter()
            .any(|f| f.kind == FlagKind::NonFunctioningDistractor
                && f.option.as_deref() == Some("D"))
    );
    // Q1–Q4 are keyed right: no mis-key flag.
    assert!(
        !report
            .flags
            .iter()
            .any(|f| f.kind == FlagKind::PossibleMiskey && f.item_id != "Q5")
    );
    // Mean total of Q5's C choosers, by hand: candidates 20..39 have Q1–Q3 right
    // (3 points) plus Q4 right from 25 (15 of 20), Q5 wrong: (20·3 + 15)/20 = 3.75.
    close(
        q5.rows[2].mean_total.unwrap(),
        3.75,
        1e-9,
        "mean total of C",
    );
}

#[test]
fn reader_errors_name_file_row_and_column() {
    let key = read_key("KEY.csv", b"item,key,options\nQ1,B,4\nQ5,C,A-D\n").unwrap();
    let csv = "id,Q1,Q5\n".to_string()
        + &(1..16).map(|i| format!("p{i},A,B\n")).collect::<String>()
        + "p16,A,X\n";
    let e = read_responses("RESPONSES.csv", csv.as_bytes(), Some(&key)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "RESPONSES.csv row 17, column Q5: 'X' is not an option of Q5 (A–D)"
    );
    assert!(e.zh_message().contains("第 17 行"));
    // Scores without a key: a letter is an error naming the place.
    let e = read_responses("RESPONSES.csv", b"id,Q1\np1,1\np2,B\n", None).unwrap_err();
    assert_eq!((e.row, e.column.as_deref()), (Some(3), Some("Q1")));
    // Item missing from the key.
    let e = read_responses("RESPONSES.csv", b"id,Q1,Q9\np1,A,B\n", Some(&key)).unwrap_err();
    assert_eq!(e.code, "not_in_key");
    // Ragged row and duplicate person.
    let e = read_responses("R.csv", b"id,Q1\np1,1,1\n", None).unwrap_err();
    assert_eq!(e.code, "bad_row");
    let e = read_responses("R.csv", b"id,Q1\np1,1\np1,0\n", None).unwrap_err();
    assert_eq!(e.code, "duplicate_person");
    // Without an `options` column the options are inferred: A..=the highest letter seen,
    // so a far letter is caught as a likely typing error, with its row.
    let loose = read_key("KEY.csv", b"item,key\nQ1,B\n").unwrap();
    let e = read_responses("R.csv", b"id,Q1\np1,A\np2,C\np3,X\n", Some(&loose)).unwrap_err();
    assert_eq!((e.code.as_str(), e.row), ("too_many_options", Some(4)));
    let d = read_responses("R.csv", b"id,Q1\np1,A\np2,D\n", Some(&loose)).unwrap();
    let k = d.choices.as_ref().unwrap().keys()[0].as_ref().unwrap();
    assert_eq!(k.options, vec!["A", "B", "C", "D"]);
    assert_eq!(k.key_text(), "B");
    // Bad key header.
    assert_eq!(
        read_key("KEY.csv", b"a,b\nQ1,B\n").unwrap_err().code,
        "bad_header"
    );
}

#[test]
fn reader_encodings_and_blanks() {
    // UTF-8 with BOM, Chinese header; GB18030 bytes of the same text.
    let text = "考生,Q1,Q2\n张三,A,2\n李四,,.\n王五,AC,1\n";
    let key_text = "题号,答案,分值\nQ1,A,2\nQ2,,3\n";
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    let (gb, _, _) = encoding_rs::GB18030.encode(text);
    let (gbk, _, _) = encoding_rs::GB18030.encode(key_text);
    for bytes in [bom, gb.into_owned()] {
        let key = read_key("KEY.csv", &gbk).unwrap();
        let d = read_responses("RESPONSES.csv", &bytes, Some(&key)).unwrap();
        assert_eq!(d.person_ids, vec!["张三", "李四", "王五"]);
        let s = &d.scores;
        assert_eq!(s.get(0, 0), Some(2.0)); // A = key, 2 points
        assert_eq!(s.get(1, 0), Some(0.0)); // empty = omitted, 0
        assert_eq!(s.get(1, 1), None); // "." = not presented
        assert_eq!(s.get(2, 0), Some(0.0)); // AC ≠ A (all or nothing)
        assert_eq!(s.max_points(), &[2.0, 3.0]);
        let c = d.choices.as_ref().unwrap();
        assert_eq!(c.row(1)[0], 0); // omitted
        assert_eq!(c.row(2)[0], 0b101); // A and C
    }
    // Not presented is left out of the item's n.
    let d = read_responses("R.csv", b"id,Q1,Q2\na,1,NA\nb,0,1\nc,1,0\n", None).unwrap();
    let c = classical(&d.scores, None, &ClassicalOptions::default());
    assert_eq!((c.items[0].n, c.items[1].n), (3, 2));
    assert_eq!(c.test.n_complete, 2);
}

/// Edge cases by construction: an item everyone gets right, a polytomous item, a
/// multiple-response item with partial credit.
#[test]
fn zero_variance_polytomous_and_multiple_response() {
    let key = read_key(
        "KEY.csv",
        "item,key,points,options,scoring\nQ1,A,1,A-D,\nQ2,AC,2,A-D,partial\nQ3,,3,,\n".as_bytes(),
    )
    .unwrap();
    // 30 candidates: Q1 always A (no variance); Q2 multiple response; Q3 scored 0–3.
    let mut csv = String::from("id,Q1,Q2,Q3\n");
    for i in 0..30 {
        let q2 = ["AC", "A", "AB", "C", ""][i % 5];
        csv += &format!("p{i},A,{q2},{}\n", i % 4);
    }
    let data = read_responses("R.csv", csv.as_bytes(), Some(&key)).unwrap();
    // Partial credit (少选得分): AC = 2, A = 1, C = 1, AB = 0 (a wrong option), omit 0.
    let q2: Vec<f32> = (0..5).map(|i| data.scores.get(i, 1).unwrap()).collect();
    assert_eq!(q2, vec![2.0, 1.0, 0.0, 1.0, 0.0]);
    let report = xcert_assess::analysis::analyze(
        &data.scores,
        data.choices.as_ref(),
        &xcert_assess::analysis::AnalysisOptions {
            irt: IrtRequest::TwoPl,
            ..Default::default()
        },
    );
    let q1 = &report.items[0];
    assert_eq!(q1.facility, Some(1.0));
    assert_eq!((q1.r_item_total, q1.r_item_rest), (None, None));
    assert!(
        report
            .flags
            .iter()
            .any(|f| f.item_id == "Q1" && f.kind == FlagKind::NoVariance)
    );
    // Q3 is polytomous: facility = mean / 3 = 1.4 / 3 (0,1,2,3 repeating: 8·0 + 8·1 +
    // 7·2 + 7·3 = 43 over 30).
    close(
        report.items[2].facility.unwrap(),
        43.0 / 30.0 / 3.0,
        1e-12,
        "Q3 p",
    );
    // Multiple-response rows count selections: A chosen in AC, A, AB = 18 of 30.
    let t = &report.distractors[1];
    assert!(t.multiple_response);
    assert_eq!(t.rows[0].count, 18);
    assert!(t.rows[0].is_key && t.rows[2].is_key && !t.rows[1].is_key);
    // IRT leaves out the item without variance and the partial-credit items, saying why.
    let fit = report.irt.as_ref();
    assert!(fit.is_none());
    assert!(
        report
            .irt_notes
            .iter()
            .any(|n| n.en.contains("no item can be calibrated"))
    );
}
