//! Paper-assembly benchmark: seeded synthetic pools shaped like a 1+X theory bank (six work
//! areas weighted like a standard's weight table, single/multiple choice and true/false,
//! rated difficulty 1–5, 2PL parameters for most items, enemy pairs, a few testlets,
//! usage counts), assembled with each engine this build has.
//!
//! cargo run --release -p xcert-assess --example bench_assembly
//! cargo run --release -p xcert-assess --features highs --example bench_assembly
//! Optional arguments: a seed (default 7) and the time limit of the MIP-only runs in
//! seconds (default 25). The default-pipeline runs get the goal's time (1 s, 25 s).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};
use xcert_assess::assemble::{AssemblyOptions, MipModel, PoolItem, SolverChoice, assemble};
use xcert_assess::blueprint::{Blueprint, BlueprintCell, DifficultyTarget, TypeQuota, apportion};
use xcert_assess::item::ItemKind;
use xcert_domain::framework::Level;

const AREAS: [(&str, f64); 6] = [
    ("设备巡视", 20.0),
    ("设备检修", 25.0),
    ("倒闸操作", 15.0),
    ("故障处理", 20.0),
    ("安全管理", 10.0),
    ("班组管理", 10.0),
];

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(1e-12..1.0);
    let u2: f64 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn pool(n: usize, seed: u64) -> Vec<PoolItem> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let total: f64 = AREAS.iter().map(|a| a.1).sum();
    let mut out = Vec::with_capacity(n);
    let mut testlet_left = 0;
    let mut testlet_no = 0;
    for i in 0..n {
        // area by weight
        let mut r = rng.gen_range(0.0..total);
        let mut area = 0;
        for (j, a) in AREAS.iter().enumerate() {
            if r < a.1 {
                area = j;
                break;
            }
            r -= a.1;
        }
        let kind = if testlet_left > 0 {
            ItemKind::SingleChoice
        } else {
            match rng.gen_range(0..100) {
                0..60 => ItemKind::SingleChoice,
                60..78 => ItemKind::MultipleChoice,
                _ => ItemKind::TrueFalse,
            }
        };
        let difficulty = match rng.gen_range(0..100) {
            0..10 => 1.0,
            10..35 => 2.0,
            35..70 => 3.0,
            70..90 => 4.0,
            _ => 5.0,
        };
        let calibrated = rng.gen_range(0..100) < 80;
        let irt = calibrated.then(|| {
            let a = (0.25 * normal(&mut rng)).exp().clamp(0.4, 2.5);
            let b = ((difficulty - 3.0) * 0.8 + 0.5 * normal(&mut rng)).clamp(-3.5, 3.5);
            xcert_assess::assemble::Irt2pl { a, b }
        });
        let base = match kind {
            ItemKind::TrueFalse => 30.0,
            ItemKind::MultipleChoice => 90.0,
            _ => 60.0,
        };
        let time = (rng.gen_range(0..100) < 85)
            .then(|| (base * rng.gen_range(0.7..1.3f64)).round() as u32);
        let enemy_group = (rng.gen_range(0..100) < 6).then(|| format!("E{}", i / 3));
        let testlet = if testlet_left > 0 {
            testlet_left -= 1;
            Some(format!("T{testlet_no}"))
        } else if rng.gen_range(0..1000) < 4 {
            testlet_no += 1;
            testlet_left = 2;
            Some(format!("T{testlet_no}"))
        } else {
            None
        };
        out.push(PoolItem {
            id: 100_000 + i as i64,
            kind,
            requirements: vec![format!(
                "{}.{}.{}",
                area + 1,
                rng.gen_range(1..=3),
                rng.gen_range(1..=4)
            )],
            difficulty: Some(difficulty),
            irt,
            time_seconds: time,
            enemy_group: if testlet.is_some() { None } else { enemy_group },
            testlet,
            usage: rng.gen_range(0..6),
        });
    }
    out
}

fn blueprint(forms: u32) -> Blueprint {
    let types = vec![
        TypeQuota {
            kind: ItemKind::SingleChoice,
            count: 30,
            points_each: 1.0,
        },
        TypeQuota {
            kind: ItemKind::MultipleChoice,
            count: 10,
            points_each: 2.0,
        },
        TypeQuota {
            kind: ItemKind::TrueFalse,
            count: 10,
            points_each: 1.0,
        },
    ];
    let weights: Vec<f64> = AREAS.iter().map(|a| a.1).collect();
    let k = apportion(&weights, 50);
    let cells = AREAS
        .iter()
        .zip(k)
        .enumerate()
        .map(|(j, ((title, w), k))| BlueprintCell {
            code: (j + 1).to_string(),
            title: title.to_string(),
            weight: *w,
            min_items: k,
            max_items: k,
        })
        .collect();
    Blueprint {
        level: Level::Junior,
        title: "初级理论".into(),
        forms,
        cells,
        types,
        difficulty: Some(DifficultyTarget {
            min_mean: 2.7,
            max_mean: 3.3,
        }),
        time_limit_minutes: 60,
        no_overlap: true,
        max_forms_per_item: None,
        max_usage: None,
        theta: vec![-1.0, 0.0, 1.0],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(7);
    let limit: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(25.0);
    // (name, pool size, forms, the goal's time in seconds)
    let instances = [
        ("pool 1000, 4×50", 1000, 4, 1.0_f64),
        ("pool 3000, 10×50", 3000, 10, 25.0),
    ];
    println!(
        "{:<18} {:<24} {:<11} {:>10} {:>10} {:>8} {:>8}  {:<22} {:<13}",
        "instance",
        "run",
        "status",
        "objective",
        "bound",
        "gap %",
        "seconds",
        "forms by",
        "bound from"
    );
    for (name, n, forms, goal_s) in instances {
        let p = pool(n, seed);
        let bp = blueprint(forms);
        let base = AssemblyOptions {
            time_limit: Duration::from_secs_f64(goal_s),
            mip_gap: 0.01,
            seed,
            ..AssemblyOptions::default()
        };
        let full = Duration::from_secs_f64(limit.max(goal_s));
        let mut runs: Vec<(String, AssemblyOptions)> = vec![(
            "heuristic".into(),
            AssemblyOptions {
                solver: SolverChoice::Heuristic,
                ..base.clone()
            },
        )];
        for s in SolverChoice::available() {
            if s == SolverChoice::Heuristic {
                continue;
            }
            let name = s.as_str();
            // The default pipeline: diagnosis, LP bound, heuristic, MIP only if needed.
            runs.push((
                format!("{name} default 1%"),
                AssemblyOptions {
                    solver: s,
                    ..base.clone()
                },
            ));
            // The solver always runs, warm-started, asked for 0.1 %: on the full model, and
            // on pairs of forms.
            for (model, label) in [(MipModel::Full, "full"), (MipModel::Pairs, "pairs")] {
                runs.push((
                    format!("{name} {label} warm 0.1%"),
                    AssemblyOptions {
                        solver: s,
                        always_solve: true,
                        mip_gap: 0.001,
                        mip_model: model,
                        time_limit: full,
                        ..base.clone()
                    },
                ));
            }
            // The full model alone from scratch, asked for 1 %.
            runs.push((
                format!("{name} full cold 1%"),
                AssemblyOptions {
                    solver: s,
                    warm_start: false,
                    mip_model: MipModel::Full,
                    time_limit: full,
                    ..base.clone()
                },
            ));
        }
        for (label, opts) in runs {
            let t = Instant::now();
            let r = assemble(&bp, &p, &opts);
            let secs = t.elapsed().as_secs_f64();
            match r {
                Ok(a) => println!(
                    "{:<18} {:<24} {:<11} {:>10.4} {:>10.4} {:>8.3} {:>8.2}  {:<22} {:<13}",
                    name,
                    label,
                    format!("{:?}", a.status),
                    a.objective,
                    a.bound,
                    a.gap * 100.0,
                    secs,
                    format!("{} ({:?})", a.solver, a.method),
                    a.bound_source
                ),
                Err(e) => println!("{name:<18} {label:<24} no forms: {e} ({secs:.2} s)"),
            }
        }
    }
}
