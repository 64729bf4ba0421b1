//! Benchmark of item analysis on seeded synthetic 2PL data, with parameter recovery so
//! that speed is not bought with wrong answers.
//!
//! cargo run --release -p xcert-assess --example bench_analysis -- \
//!     [--ctt-persons 1000000] [--ctt-items 100] [--irt-persons 100000] [--irt-items 50] \
//!     [--seed 1] [--no-se] [--skip-ctt] [--skip-irt] [--rasch] [--dump DIR]
//!
//! `--dump DIR` writes the scored matrices (`ctt.u8`, `irt.u8`: persons × items bytes,
//! row-major, 0/1) so a peer (scripts/analysis_peers.py: numpy, girth) times the same data.
//!
//! Timings are wall-clock on whatever cores rayon finds; on a shared machine they are rough.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
use xcert_assess::analysis::data::{ChoiceKey, ChoiceMatrix, ChoiceScoring, ScoreMatrix};
use xcert_assess::analysis::irt::{IrtModel, IrtOptions, calibrate};
use xcert_assess::analysis::{ClassicalOptions, classical, read_key, read_responses};

struct Args {
    ctt_persons: usize,
    ctt_items: usize,
    irt_persons: usize,
    irt_items: usize,
    seed: u64,
    se: bool,
    ctt: bool,
    irt: bool,
    rasch: bool,
    dump: Option<std::path::PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        ctt_persons: 1_000_000,
        ctt_items: 100,
        irt_persons: 100_000,
        irt_items: 50,
        seed: 1,
        se: true,
        ctt: true,
        irt: true,
        rasch: false,
        dump: None,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let num = |i: usize| -> usize {
        v.get(i + 1)
            .and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| {
                eprintln!("{} needs a number", v[i]);
                std::process::exit(2)
            })
    };
    while i < v.len() {
        match v[i].as_str() {
            "--ctt-persons" => a.ctt_persons = num(i),
            "--ctt-items" => a.ctt_items = num(i),
            "--irt-persons" => a.irt_persons = num(i),
            "--irt-items" => a.irt_items = num(i),
            "--seed" => a.seed = num(i) as u64,
            "--dump" => {
                a.dump = v.get(i + 1).map(std::path::PathBuf::from);
                i += 2;
                continue;
            }
            "--no-se" => {
                a.se = false;
                i += 1;
                continue;
            }
            "--skip-ctt" => {
                a.ctt = false;
                i += 1;
                continue;
            }
            "--skip-irt" => {
                a.irt = false;
                i += 1;
                continue;
            }
            "--rasch" => {
                a.rasch = true;
                i += 1;
                continue;
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    a
}

fn normal(rng: &mut impl Rng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.r#gen::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

struct Truth {
    a: Vec<f64>,
    b: Vec<f64>,
    theta: Vec<f64>,
}

/// True parameters: a ~ lognormal(0, 0.3), b ~ N(0, 1), θ ~ N(0, 1).
fn truth(rng: &mut ChaCha8Rng, persons: usize, items: usize, rasch: bool) -> Truth {
    let a0 = (0.3 * normal(rng)).exp();
    Truth {
        a: (0..items)
            .map(|_| if rasch { a0 } else { (0.3 * normal(rng)).exp() })
            .collect(),
        b: (0..items).map(|_| normal(rng)).collect(),
        theta: (0..persons).map(|_| normal(rng)).collect(),
    }
}

fn p_correct(a: f64, b: f64, t: f64) -> f64 {
    1.0 / (1.0 + (-a * (t - b)).exp())
}

fn corr(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

fn rmse(x: &[f64], y: &[f64]) -> f64 {
    (x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / x.len() as f64).sqrt()
}

fn row(step: &str, secs: f64, note: &str) {
    println!("| {step:<44} | {secs:>8.2} s | {note}");
}

/// The matrix as bytes, one per cell (0/1 items), for the peers.
fn dump(dir: &std::path::Path, name: &str, sm: &ScoreMatrix) {
    std::fs::create_dir_all(dir).expect("dump folder");
    let bytes: Vec<u8> = sm.cells().iter().map(|c| *c as u8).collect();
    std::fs::write(dir.join(format!("{name}.u8")), bytes).expect("dump");
    std::fs::write(
        dir.join(format!("{name}.shape")),
        format!("{} {}\n", sm.n_persons(), sm.n_items()),
    )
    .expect("dump");
}

fn main() {
    let args = args();
    println!(
        "bench_analysis: seed {}, {} rayon threads (timings are rough on a shared machine)",
        args.seed,
        rayon::current_num_threads()
    );
    println!("| step                                         |     time   | notes");
    println!("|----------------------------------------------|------------|------");
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);

    if args.ctt {
        let (n, k) = (args.ctt_persons, args.ctt_items);
        let t0 = Instant::now();
        let tr = truth(&mut rng, n, k, false);
        // Four options per item; the key is a random option; a wrong answer picks one of
        // the other three with unequal shares (so distractors differ).
        let keys: Vec<u16> = (0..k).map(|_| 1u16 << rng.gen_range(0..4)).collect();
        let mut choices = vec![0u16; n * k];
        for p in 0..n {
            for j in 0..k {
                let right = rng.r#gen::<f64>() < p_correct(tr.a[j], tr.b[j], tr.theta[p]);
                choices[p * k + j] = if right {
                    keys[j]
                } else if rng.r#gen::<f64>() < 0.03 {
                    0 // omitted
                } else {
                    let key = keys[j].trailing_zeros();
                    let others: Vec<u32> = (0..4).filter(|&o| o != key).collect();
                    let u: f64 = rng.r#gen();
                    let pick = if u < 0.5 {
                        0
                    } else if u < 0.8 {
                        1
                    } else {
                        2
                    };
                    1u16 << others[pick]
                };
            }
        }
        let cm = ChoiceMatrix::new(
            keys.iter()
                .map(|&key| {
                    Some(ChoiceKey {
                        options: ["A", "B", "C", "D"].map(String::from).to_vec(),
                        key,
                        scoring: ChoiceScoring::AllOrNothing,
                    })
                })
                .collect(),
            choices,
        )
        .expect("valid choices");
        let ids: Vec<String> = (1..=k).map(|j| format!("Q{j}")).collect();
        let sm = cm.score(ids, vec![1.0; k]).expect("valid scores");
        row(
            &format!("generate {n} × {k} choices + score"),
            t0.elapsed().as_secs_f64(),
            "not part of the analysis",
        );
        // Reading: the first (up to) 200 000 rows as RESPONSES.csv with a KEY.csv.
        let rows_csv = n.min(200_000);
        let mut text = String::from("id");
        for j in 1..=k {
            text += &format!(",Q{j}");
        }
        text.push('\n');
        for p in 0..rows_csv {
            text += &format!("P{p}");
            for &c in cm.row(p) {
                text.push(',');
                if c != 0 {
                    text.push(char::from(b'A' + c.trailing_zeros() as u8));
                }
            }
            text.push('\n');
        }
        let mut key_csv = String::from("item,key,points,options\n");
        for (j, &key) in keys.iter().enumerate() {
            key_csv += &format!(
                "Q{},{},1,A-D\n",
                j + 1,
                char::from(b'A' + key.trailing_zeros() as u8)
            );
        }
        let t = Instant::now();
        let kt = read_key("KEY.csv", key_csv.as_bytes()).expect("key");
        let data = read_responses("RESPONSES.csv", text.as_bytes(), Some(&kt)).expect("responses");
        row(
            &format!("read RESPONSES.csv {rows_csv} × {k} (keyed)"),
            t.elapsed().as_secs_f64(),
            &format!("{:.0} MB of text", text.len() as f64 / 1e6),
        );
        assert_eq!(data.scores.n_persons(), rows_csv);
        drop((text, data));
        if let Some(dir) = &args.dump {
            dump(dir, "ctt", &sm);
        }
        let t = Instant::now();
        let c = classical(&sm, None, &ClassicalOptions::default());
        row(
            &format!("CTT {n} × {k} (scores only)"),
            t.elapsed().as_secs_f64(),
            &format!(
                "alpha {:.4}, mean {:.2}",
                c.test.alpha.unwrap_or(f64::NAN),
                c.test.mean.unwrap_or(f64::NAN)
            ),
        );
        let t = Instant::now();
        let c = classical(&sm, Some(&cm), &ClassicalOptions::default());
        row(
            &format!("CTT {n} × {k} + distractor tables"),
            t.elapsed().as_secs_f64(),
            &format!("{} tables", c.distractors.len()),
        );
        // Recovery: facility should track the 2PL's expected p; r_rest should rise with a.
        let p: Vec<f64> = c.items.iter().map(|i| i.facility.unwrap_or(0.0)).collect();
        let ra: Vec<f64> = c
            .items
            .iter()
            .map(|i| i.r_item_rest.unwrap_or(0.0))
            .collect();
        let b_neg: Vec<f64> = tr.b.iter().map(|b| -b).collect();
        println!(
            "  CTT sanity: corr(p, −b) = {:.3}, corr(r_rest, a) = {:.3}",
            corr(&p, &b_neg),
            corr(&ra, &tr.a)
        );
    }

    if args.irt {
        let (n, k) = (args.irt_persons, args.irt_items);
        let model = if args.rasch {
            IrtModel::Rasch
        } else {
            IrtModel::TwoPl
        };
        let t0 = Instant::now();
        let tr = truth(&mut rng, n, k, args.rasch);
        let mut cells = vec![0f32; n * k];
        for p in 0..n {
            for j in 0..k {
                cells[p * k + j] = f32::from(u8::from(
                    rng.r#gen::<f64>() < p_correct(tr.a[j], tr.b[j], tr.theta[p]),
                ));
            }
        }
        let sm = ScoreMatrix::new(
            (1..=k).map(|j| format!("Q{j}")).collect(),
            vec![1.0; k],
            cells,
        )
        .expect("valid scores");
        row(
            &format!("generate {n} × {k} {} responses", model.as_str()),
            t0.elapsed().as_secs_f64(),
            "not part of the analysis",
        );
        if let Some(dir) = &args.dump {
            dump(dir, "irt", &sm);
        }
        let t = Instant::now();
        let fit = calibrate(
            &sm,
            &IrtOptions {
                model,
                standard_errors: args.se,
                ..Default::default()
            },
        )
        .expect("calibration");
        row(
            &format!(
                "{} {n} × {k}{}",
                model.as_str(),
                if args.se { " + SEs + EAP" } else { " + EAP" }
            ),
            t.elapsed().as_secs_f64(),
            &format!(
                "{} EM cycles, converged {}, {} patterns, logL {:.1}",
                fit.iterations, fit.converged, fit.n_patterns, fit.log_likelihood
            ),
        );
        let ea: Vec<f64> = fit.items.iter().map(|i| i.a).collect();
        let eb: Vec<f64> = fit.items.iter().map(|i| i.b).collect();
        let et: Vec<f64> = fit.abilities.iter().map(|a| a.theta).collect();
        if args.rasch {
            println!("  recovery: common a {:.4} (true {:.4})", ea[0], tr.a[0]);
        }
        println!(
            "  recovery: a corr {:.4} RMSE {:.4} | b corr {:.4} RMSE {:.4} | θ (EAP) corr {:.4} RMSE {:.4}",
            if args.rasch {
                f64::NAN
            } else {
                corr(&ea, &tr.a)
            },
            rmse(&ea, &tr.a),
            corr(&eb, &tr.b),
            rmse(&eb, &tr.b),
            corr(&et, &tr.theta),
            rmse(&et, &tr.theta)
        );
        if args.se {
            // SE calibration: mean reported SE against the actual error across items.
            let se_a: Vec<f64> = fit.items.iter().filter_map(|i| i.se_a).collect();
            let se_b: Vec<f64> = fit.items.iter().filter_map(|i| i.se_b).collect();
            let rms =
                |v: &[f64]| (v.iter().map(|x| x * x).sum::<f64>() / v.len().max(1) as f64).sqrt();
            // Mean of ((estimate − truth) / se)²: near 1 when the SEs are honest.
            let z2 = |est: &[f64], truth: &[f64], se: &[f64]| {
                est.iter()
                    .zip(truth)
                    .zip(se)
                    .map(|((e, t), s)| ((e - t) / s).powi(2))
                    .sum::<f64>()
                    / se.len().max(1) as f64
            };
            println!(
                "  standard errors: RMS se(a) {:.4} vs RMSE(a) {:.4}; RMS se(b) {:.4} vs RMSE(b) {:.4}; mean z² a {:.2}, b {:.2} (≈1 if honest)",
                rms(&se_a),
                rmse(&ea, &tr.a),
                rms(&se_b),
                rmse(&eb, &tr.b),
                z2(&ea, &tr.a, &se_a),
                z2(&eb, &tr.b, &se_b)
            );
        }
    }
}
