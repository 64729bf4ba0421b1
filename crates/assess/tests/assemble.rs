//! Paper assembly: constraint satisfaction on seeded random pools (checked by code written
//! here from the blueprint's rules, not by the library's own checker), optima known by
//! brute-force enumeration, shortage messages, enemies, testlets, overlap, exposure, the
//! time limit, and heuristic vs MIP agreement.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use xcert_assess::assemble::{
    Assembly, AssemblyError, AssemblyOptions, AssemblyStatus, Irt2pl, MipModel, PoolItem,
    ShortageKind, SolverChoice, assemble, diagnose,
};
use xcert_assess::blueprint::{Blueprint, BlueprintCell, DifficultyTarget, TypeQuota};
use xcert_assess::item::ItemKind;
use xcert_domain::framework::Level;

// ---------------------------------------------------------------- independent rules

/// 2PL information written out here from the formula I = a²·P·(1−P), P = 1/(1+e^(−a(θ−b))).
fn info(a: f64, b: f64, theta: f64) -> f64 {
    let p = 1.0 / (1.0 + (-a * (theta - b)).exp());
    a * a * p * (1.0 - p)
}

/// The item's (a, b) as the documented rule says: calibrated, or a = 1, b = difficulty − 3.
fn params(it: &PoolItem) -> (f64, f64) {
    match it.irt {
        Some(p) => (p.a, p.b),
        None => (1.0, it.difficulty.unwrap_or(3.0) - 3.0),
    }
}

/// The documented default times.
fn seconds(it: &PoolItem) -> f64 {
    it.time_seconds.unwrap_or(match it.kind {
        ItemKind::TrueFalse => 30,
        ItemKind::SingleChoice => 60,
        ItemKind::MultipleChoice | ItemKind::TextEntry => 90,
        ItemKind::Matching | ItemKind::Ordering => 120,
        ItemKind::ExtendedText => 600,
        ItemKind::PracticalTask => 0,
    }) as f64
}

fn in_cell(it: &PoolItem, code: &str) -> bool {
    it.requirements
        .iter()
        .any(|r| r == code || r.starts_with(&format!("{code}.")))
}

/// Every hard rule of the blueprint, checked on the returned ids.
fn check(bp: &Blueprint, pool: &[PoolItem], a: &Assembly) -> Vec<String> {
    let by_id: HashMap<i64, &PoolItem> = pool.iter().map(|p| (p.id, p)).collect();
    let mut errs = Vec::new();
    if a.forms.len() != bp.forms as usize {
        errs.push(format!("{} forms, want {}", a.forms.len(), bp.forms));
    }
    let mut forms_of: HashMap<i64, u32> = HashMap::new();
    let mut min_info = f64::INFINITY;
    for form in &a.forms {
        let ids: Vec<i64> = form.items.clone();
        let set: BTreeSet<i64> = ids.iter().copied().collect();
        if set.len() != ids.len() {
            errs.push(format!("form {}: an item twice", form.number));
        }
        let items: Vec<&PoolItem> = ids.iter().map(|i| by_id[i]).collect();
        for q in &bp.types {
            let n = items.iter().filter(|i| i.kind == q.kind).count() as u32;
            if n != q.count {
                errs.push(format!(
                    "form {}: {n} {:?}, want {}",
                    form.number, q.kind, q.count
                ));
            }
        }
        if items.len() as u32 != bp.items_per_form() {
            errs.push(format!("form {}: {} items", form.number, items.len()));
        }
        for c in &bp.cells {
            let n = items.iter().filter(|i| in_cell(i, &c.code)).count() as u32;
            if n < c.min_items || n > c.max_items {
                errs.push(format!("form {}: cell {} has {n}", form.number, c.code));
            }
        }
        if let Some(d) = bp.difficulty {
            let mean = items
                .iter()
                .map(|i| i.difficulty.unwrap_or(3.0))
                .sum::<f64>()
                / items.len() as f64;
            if mean < d.min_mean - 1e-9 || mean > d.max_mean + 1e-9 {
                errs.push(format!("form {}: mean difficulty {mean}", form.number));
            }
        }
        let secs: f64 = items.iter().map(|i| seconds(i)).sum();
        if secs > bp.time_limit_minutes as f64 * 60.0 + 1e-9 {
            errs.push(format!("form {}: {secs} s", form.number));
        }
        let mut groups: HashMap<&str, u32> = HashMap::new();
        for i in &items {
            if let Some(g) = &i.enemy_group {
                *groups.entry(g).or_default() += 1;
            }
        }
        if groups.values().any(|n| *n > 1) {
            errs.push(format!("form {}: two enemies", form.number));
        }
        for i in &items {
            if let Some(t) = &i.testlet {
                let all = pool.iter().filter(|p| p.testlet.as_ref() == Some(t));
                for p in all {
                    if !set.contains(&p.id) {
                        errs.push(format!("form {}: testlet {t} incomplete", form.number));
                    }
                }
            }
            if let Some(m) = bp.max_usage
                && i.usage >= m
            {
                errs.push(format!(
                    "form {}: item {} over the exposure cap",
                    form.number, i.id
                ));
            }
            *forms_of.entry(i.id).or_default() += 1;
        }
        // information recomputed here
        for (k, th) in bp.theta.iter().enumerate() {
            let v: f64 = items
                .iter()
                .map(|i| {
                    let (a, b) = params(i);
                    info(a, b, *th)
                })
                .sum();
            if (v - form.stats.information[k]).abs() > 1e-9 {
                errs.push(format!(
                    "form {}: information {v} vs {}",
                    form.number, form.stats.information[k]
                ));
            }
            min_info = min_info.min(v);
        }
    }
    let k = if bp.no_overlap {
        1
    } else {
        bp.max_forms_per_item.unwrap_or(bp.forms)
    };
    for (id, n) in &forms_of {
        if *n > k {
            errs.push(format!("item {id} in {n} forms"));
        }
        if let Some(m) = bp.max_usage
            && by_id[id].usage + n > m
        {
            errs.push(format!("item {id} would pass the exposure cap"));
        }
    }
    if !a.forms.is_empty() && (min_info - a.objective).abs() > 1e-9 {
        errs.push(format!(
            "objective {} but the forms give {min_info}",
            a.objective
        ));
    }
    if a.bound < a.objective - 1e-9 {
        errs.push(format!("bound {} below objective {}", a.bound, a.objective));
    }
    errs
}

// ---------------------------------------------------------------- builders

fn item(id: i64, kind: ItemKind, req: &str, d: f64) -> PoolItem {
    PoolItem {
        id,
        kind,
        requirements: vec![req.to_string()],
        difficulty: Some(d),
        irt: None,
        time_seconds: None,
        enemy_group: None,
        testlet: None,
        usage: 0,
    }
}

fn quota(kind: ItemKind, count: u32) -> TypeQuota {
    TypeQuota {
        kind,
        count,
        points_each: 1.0,
    }
}

fn cell(code: &str, title: &str, min: u32, max: u32) -> BlueprintCell {
    BlueprintCell {
        code: code.into(),
        title: title.into(),
        weight: 0.0,
        min_items: min,
        max_items: max,
    }
}

fn blueprint(forms: u32, cells: Vec<BlueprintCell>, types: Vec<TypeQuota>) -> Blueprint {
    Blueprint {
        level: Level::Junior,
        title: "test".into(),
        forms,
        cells,
        types,
        difficulty: None,
        time_limit_minutes: 600,
        no_overlap: true,
        max_forms_per_item: None,
        max_usage: None,
        theta: vec![-1.0, 0.0, 1.0],
    }
}

fn opts(solver: SolverChoice) -> AssemblyOptions {
    AssemblyOptions {
        solver,
        time_limit: Duration::from_secs(20),
        ..AssemblyOptions::default()
    }
}

fn exact(solver: SolverChoice) -> AssemblyOptions {
    AssemblyOptions {
        mip_gap: 0.0,
        always_solve: true,
        ..opts(solver)
    }
}

fn mip_solvers() -> Vec<SolverChoice> {
    SolverChoice::available()
        .into_iter()
        .filter(|s| *s != SolverChoice::Heuristic)
        .collect()
}

/// A random instance: 2–3 cells, 2–3 types, enemies, testlet pairs, usage, 1–3 forms.
fn random_instance(seed: u64) -> (Blueprint, Vec<PoolItem>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let kinds = [
        ItemKind::SingleChoice,
        ItemKind::TrueFalse,
        ItemKind::MultipleChoice,
    ];
    let nk = rng.gen_range(2..=3);
    let nc = rng.gen_range(2..=3);
    let n_pool = rng.gen_range(60..160);
    let mut pool = Vec::new();
    let mut i = 0;
    while pool.len() < n_pool {
        let kind = kinds[rng.gen_range(0..nk)];
        let area = rng.gen_range(1..=nc);
        let d = rng.gen_range(1..=5) as f64;
        let mut it = item(i, kind, &format!("{area}.{}.1", rng.gen_range(1..=2)), d);
        if rng.gen_bool(0.2) {
            it.difficulty = None;
        }
        if rng.gen_bool(0.7) {
            it.irt = Some(Irt2pl {
                a: rng.gen_range(0.5..2.0),
                b: rng.gen_range(-2.0..2.0),
            });
        }
        if rng.gen_bool(0.6) {
            it.time_seconds = Some(rng.gen_range(20..120));
        }
        if rng.gen_bool(0.15) {
            it.enemy_group = Some(format!("g{}", rng.gen_range(0..8)));
        }
        it.usage = rng.gen_range(0..5);
        if rng.gen_bool(0.05) {
            // a testlet pair of the same area and kind
            let mut mate = item(i + 1, kind, &format!("{area}.1.2"), d);
            it.testlet = Some(format!("t{i}"));
            mate.testlet = it.testlet.clone();
            it.enemy_group = None;
            pool.push(it);
            pool.push(mate);
            i += 2;
            continue;
        }
        pool.push(it);
        i += 1;
    }
    let forms = rng.gen_range(1..=3);
    let per_type: Vec<u32> = (0..nk).map(|_| rng.gen_range(2..=5)).collect();
    let n: u32 = per_type.iter().sum();
    let types = (0..nk).map(|k| quota(kinds[k], per_type[k])).collect();
    // cells: loose bands around an even split
    let each = n / nc as u32;
    let cells = (1..=nc)
        .map(|c| {
            cell(
                &c.to_string(),
                &format!("区{c}"),
                each.saturating_sub(2),
                each + 3,
            )
        })
        .collect();
    let mut bp = blueprint(forms, cells, types);
    if rng.gen_bool(0.6) {
        let mid = rng.gen_range(2.6..3.4);
        bp.difficulty = Some(DifficultyTarget {
            min_mean: mid - 0.4,
            max_mean: mid + 0.4,
        });
    }
    bp.time_limit_minutes = (n as f64 * rng.gen_range(1.0..1.6)).ceil() as u32;
    if rng.gen_bool(0.3) {
        bp.no_overlap = false;
        bp.max_forms_per_item = Some(2);
    }
    if rng.gen_bool(0.3) {
        bp.max_usage = Some(4);
    }
    (bp, pool)
}

// ---------------------------------------------------------------- properties

#[test]
fn random_pools_meet_every_constraint() {
    let mut ok = 0;
    let mut short = 0;
    for seed in 0..40 {
        let (bp, pool) = random_instance(seed);
        let mut runs: Vec<AssemblyOptions> = [SolverChoice::Heuristic, SolverChoice::Microlp]
            .into_iter()
            .map(|solver| AssemblyOptions {
                time_limit: Duration::from_secs(1),
                seed,
                ..opts(solver)
            })
            .collect();
        if seed % 4 == 0 {
            // the pair search always runs and must keep every constraint too
            for solver in mip_solvers() {
                runs.push(AssemblyOptions {
                    time_limit: Duration::from_secs(1),
                    seed,
                    mip_gap: 0.0,
                    always_solve: true,
                    mip_model: MipModel::Pairs,
                    ..opts(solver)
                });
            }
        }
        for o in runs {
            let solver = o.solver;
            match assemble(&bp, &pool, &o) {
                Ok(a) => {
                    let errs = check(&bp, &pool, &a);
                    assert!(errs.is_empty(), "seed {seed} {solver:?}: {errs:?}");
                    ok += 1;
                }
                Err(AssemblyError::Shortages(s)) => {
                    assert!(!s.is_empty());
                    assert!(s.iter().all(|s| !s.en.is_empty() && !s.zh.is_empty()));
                    short += 1;
                }
                Err(e) => panic!("seed {seed} {solver:?}: {e:?}"),
            }
        }
    }
    // the generator is loose enough that most instances are feasible
    assert!(ok >= 50, "only {ok} assemblies ({short} shortages)");
}

#[test]
fn same_seed_same_forms() {
    let (bp, pool) = random_instance(3);
    let o = opts(SolverChoice::Heuristic);
    let a = assemble(&bp, &pool, &o).unwrap();
    let b = assemble(&bp, &pool, &o).unwrap();
    let ids = |a: &Assembly| a.forms.iter().map(|f| f.items.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
}

// ---------------------------------------------------------------- brute force

/// The best maximin value by enumerating every assignment of items to forms (no solver).
/// `valid` says whether one form's item set is allowed; `k` is the most forms an item joins.
fn brute_force(
    pool: &[PoolItem],
    forms: usize,
    size: usize,
    theta: &[f64],
    k: usize,
    valid: &dyn Fn(&[usize]) -> bool,
) -> f64 {
    let n = pool.len();
    let mut subsets = Vec::new();
    let mut cur = Vec::new();
    fn rec(start: usize, n: usize, size: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == size {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(i + 1, n, size, cur, out);
            cur.pop();
        }
    }
    rec(0, n, size, &mut cur, &mut subsets);
    let subsets: Vec<(Vec<usize>, f64)> = subsets
        .into_iter()
        .filter(|s| valid(s))
        .map(|s| {
            let v = theta
                .iter()
                .map(|th| {
                    s.iter()
                        .map(|&i| {
                            let (a, b) = params(&pool[i]);
                            info(a, b, *th)
                        })
                        .sum::<f64>()
                })
                .fold(f64::INFINITY, f64::min);
            (s, v)
        })
        .collect();
    // forms are interchangeable: choose subset indices in non-decreasing order
    fn pick(
        subsets: &[(Vec<usize>, f64)],
        from: usize,
        left: usize,
        uses: &mut Vec<usize>,
        k: usize,
        cur_min: f64,
        best: &mut f64,
    ) {
        if left == 0 {
            *best = best.max(cur_min);
            return;
        }
        for j in from..subsets.len() {
            let (s, v) = &subsets[j];
            if v.min(cur_min) <= *best {
                continue;
            }
            if s.iter().any(|&i| uses[i] >= k) {
                continue;
            }
            for &i in s {
                uses[i] += 1;
            }
            pick(subsets, j, left - 1, uses, k, v.min(cur_min), best);
            for &i in s {
                uses[i] -= 1;
            }
        }
    }
    let mut best = f64::NEG_INFINITY;
    pick(
        &subsets,
        0,
        forms,
        &mut vec![0; n],
        k,
        f64::INFINITY,
        &mut best,
    );
    best
}

/// Twelve calibrated items in two areas, an enemy pair, a testlet pair, a difficulty band.
fn tiny() -> (Blueprint, Vec<PoolItem>) {
    let spec: [(ItemKind, &str, f64, f64, f64); 12] = [
        (ItemKind::SingleChoice, "1.1.1", 2.0, 1.2, -1.1),
        (ItemKind::SingleChoice, "1.1.2", 3.0, 0.8, 0.2),
        (ItemKind::SingleChoice, "1.2.1", 4.0, 1.6, 0.9),
        (ItemKind::SingleChoice, "2.1.1", 3.0, 1.1, -0.3),
        (ItemKind::SingleChoice, "2.1.2", 1.0, 0.9, -1.8),
        (ItemKind::SingleChoice, "2.2.1", 5.0, 1.9, 1.6),
        (ItemKind::SingleChoice, "1.1.3", 3.0, 1.4, 0.0),
        (ItemKind::SingleChoice, "2.2.2", 2.0, 0.7, -0.6),
        (ItemKind::TrueFalse, "1.3.1", 2.0, 0.6, -1.0),
        (ItemKind::TrueFalse, "2.3.1", 3.0, 1.0, 0.4),
        (ItemKind::TrueFalse, "1.3.2", 4.0, 1.3, 1.2),
        (ItemKind::TrueFalse, "2.3.2", 3.0, 0.9, -0.2),
    ];
    let mut pool: Vec<PoolItem> = spec
        .iter()
        .enumerate()
        .map(|(i, (k, r, d, a, b))| item(i as i64 + 1, *k, r, *d).with_irt(*a, *b))
        .collect();
    pool[2].enemy_group = Some("E".into());
    pool[6].enemy_group = Some("E".into());
    pool[3].testlet = Some("T".into());
    pool[7].testlet = Some("T".into());
    let mut bp = blueprint(
        2,
        vec![cell("1", "设备巡视", 1, 3), cell("2", "设备检修", 1, 3)],
        vec![
            quota(ItemKind::SingleChoice, 3),
            quota(ItemKind::TrueFalse, 1),
        ],
    );
    bp.difficulty = Some(DifficultyTarget {
        min_mean: 2.5,
        max_mean: 3.25,
    });
    (bp, pool)
}

fn tiny_valid(bp: &Blueprint, pool: &[PoolItem], s: &[usize]) -> bool {
    let items: Vec<&PoolItem> = s.iter().map(|&i| &pool[i]).collect();
    let count = |k: ItemKind| items.iter().filter(|i| i.kind == k).count() as u32;
    if bp.types.iter().any(|q| count(q.kind) != q.count) {
        return false;
    }
    for c in &bp.cells {
        let n = items.iter().filter(|i| in_cell(i, &c.code)).count() as u32;
        if n < c.min_items || n > c.max_items {
            return false;
        }
    }
    let d = bp.difficulty.unwrap();
    let mean = items.iter().map(|i| i.difficulty.unwrap()).sum::<f64>() / items.len() as f64;
    if mean < d.min_mean - 1e-9 || mean > d.max_mean + 1e-9 {
        return false;
    }
    let e = items.iter().filter(|i| i.enemy_group.is_some()).count();
    if e > 1 {
        return false;
    }
    let t = items.iter().filter(|i| i.testlet.is_some()).count();
    t == 0 || t == 2
}

#[test]
fn tiny_instance_reaches_the_brute_force_optimum() {
    let (bp, pool) = tiny();
    let best = brute_force(&pool, 2, 4, &bp.theta, 1, &|s| tiny_valid(&bp, &pool, s));
    assert!(best.is_finite() && best > 0.0);
    for solver in mip_solvers() {
        let a = assemble(&bp, &pool, &exact(solver)).unwrap();
        assert!(
            check(&bp, &pool, &a).is_empty(),
            "{:?}",
            check(&bp, &pool, &a)
        );
        assert_eq!(a.status, AssemblyStatus::Optimal, "{solver:?}");
        assert!(
            (a.objective - best).abs() < 1e-7,
            "{solver:?}: {} vs {best}",
            a.objective
        );
    }
    let h = assemble(&bp, &pool, &opts(SolverChoice::Heuristic)).unwrap();
    assert!(check(&bp, &pool, &h).is_empty());
    assert!(h.objective <= best + 1e-9);
    assert!(
        h.bound >= best - 1e-9,
        "the relaxation bound is an upper bound"
    );
}

#[test]
fn overlap_up_to_two_forms_reaches_the_brute_force_optimum() {
    // Three forms of two single-choice items from five, each item in at most two forms.
    let spec = [(1.5, 0.0), (1.2, -0.8), (0.9, 0.7), (1.8, 0.3), (0.6, -0.1)];
    let pool: Vec<PoolItem> = spec
        .iter()
        .enumerate()
        .map(|(i, (a, b))| item(i as i64 + 1, ItemKind::SingleChoice, "1.1", 3.0).with_irt(*a, *b))
        .collect();
    let mut bp = blueprint(3, vec![], vec![quota(ItemKind::SingleChoice, 2)]);
    bp.no_overlap = false;
    bp.max_forms_per_item = Some(2);
    let best = brute_force(&pool, 3, 2, &bp.theta, 2, &|_| true);
    for solver in mip_solvers() {
        let a = assemble(&bp, &pool, &exact(solver)).unwrap();
        assert!(
            check(&bp, &pool, &a).is_empty(),
            "{:?}",
            check(&bp, &pool, &a)
        );
        assert!(
            (a.objective - best).abs() < 1e-7,
            "{solver:?}: {} vs {best}",
            a.objective
        );
        assert_eq!(a.status, AssemblyStatus::Optimal);
    }
}

#[test]
fn heuristic_agrees_with_the_mip_on_easy_instances() {
    for seed in 0..6u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        let pool: Vec<PoolItem> = (0..40)
            .map(|i| {
                item(i, ItemKind::SingleChoice, &format!("{}.1", 1 + i % 2), 3.0)
                    .with_irt(rng.gen_range(0.6..1.8), rng.gen_range(-1.5..1.5))
            })
            .collect();
        let bp = blueprint(
            2,
            vec![cell("1", "甲", 3, 3), cell("2", "乙", 3, 3)],
            vec![quota(ItemKind::SingleChoice, 6)],
        );
        let m = assemble(&bp, &pool, &exact(SolverChoice::Microlp)).unwrap();
        assert_eq!(m.status, AssemblyStatus::Optimal);
        let h = assemble(&bp, &pool, &opts(SolverChoice::Heuristic)).unwrap();
        assert!(check(&bp, &pool, &h).is_empty());
        assert!(h.objective <= m.objective + 1e-9);
        assert!(
            h.objective >= m.objective * 0.99,
            "seed {seed}: heuristic {} vs optimum {}",
            h.objective,
            m.objective
        );
    }
}

// ---------------------------------------------------------------- shortages

#[test]
fn a_short_cell_is_named_with_its_shortfall() {
    // Area 1 has 72 single-choice items, area 2 has 31 usable and 5 over the exposure cap.
    let mut pool = Vec::new();
    for i in 0..72 {
        pool.push(item(i, ItemKind::SingleChoice, "1.1.1", 3.0));
    }
    for i in 0..36 {
        let mut it = item(1000 + i, ItemKind::SingleChoice, "2.1.1", 3.0);
        if i < 5 {
            it.usage = 3;
        }
        pool.push(it);
    }
    let mut bp = blueprint(
        4,
        vec![cell("1", "设备巡视", 18, 18), cell("2", "设备检修", 12, 12)],
        vec![quota(ItemKind::SingleChoice, 30)],
    );
    bp.max_usage = Some(3);
    let Err(AssemblyError::Shortages(s)) = assemble(&bp, &pool, &opts(SolverChoice::Microlp))
    else {
        panic!("expected shortages")
    };
    // The single-choice total is short too: 30 × 4 = 120 needed, 72 + 31 = 103 usable.
    assert_eq!(s.len(), 2, "{s:#?}");
    assert_eq!(s[0].kind, ShortageKind::Type);
    assert_eq!(s[0].short_by, 17.0);
    let s = &s[1];
    assert_eq!(s.kind, ShortageKind::Cell);
    assert_eq!(s.cell.as_deref(), Some("2"));
    // 12 × 4 = 48 needed, 31 usable: 17 short (arithmetic of the instance)
    assert_eq!((s.needed, s.available, s.short_by), (48.0, 31.0, 17.0));
    assert_eq!(s.excluded_by_exposure, 5);
    assert_eq!(
        s.en,
        "work area 2 (设备检修) needs 12 items per form × 4 forms = 48 without overlap; the pool has 31 approved junior items there: short by 17; 5 more there are over the exposure cap (used 3 times or more)"
    );
    assert!(
        s.zh.contains("工作领域 2（设备检修）") && s.zh.contains("缺 17 题"),
        "{}",
        s.zh
    );
}

#[test]
fn a_short_type_is_named() {
    let mut pool = Vec::new();
    for i in 0..40 {
        pool.push(item(i, ItemKind::SingleChoice, "1.1", 3.0));
    }
    for i in 0..15 {
        pool.push(item(100 + i, ItemKind::TrueFalse, "1.2", 3.0));
    }
    let bp = blueprint(
        2,
        vec![],
        vec![
            quota(ItemKind::SingleChoice, 20),
            quota(ItemKind::TrueFalse, 10),
        ],
    );
    let d = diagnose(&bp, &pool).unwrap();
    assert_eq!(d.shortages.len(), 1);
    let s = &d.shortages[0];
    assert_eq!(s.kind, ShortageKind::Type);
    assert_eq!(s.item_kind, Some(ItemKind::TrueFalse));
    assert_eq!(s.short_by, 5.0); // 10 × 2 − 15
    assert_eq!(
        s.en,
        "True/false (判断题) needs 10 items per form × 2 forms = 20 without overlap; the pool has 15 approved junior true/false items: short by 5"
    );
}

#[test]
fn a_cell_whose_items_are_of_the_wrong_type() {
    // Area 1 holds only true/false items, but a form takes 5 true/false and area 1 needs 7.
    let mut pool = Vec::new();
    for i in 0..20 {
        pool.push(item(i, ItemKind::TrueFalse, "1.1", 3.0));
        pool.push(item(100 + i, ItemKind::SingleChoice, "2.1", 3.0));
    }
    let bp = blueprint(
        1,
        vec![cell("1", "甲", 7, 7), cell("2", "乙", 3, 3)],
        vec![
            quota(ItemKind::SingleChoice, 5),
            quota(ItemKind::TrueFalse, 5),
        ],
    );
    let d = diagnose(&bp, &pool).unwrap();
    let s = &d.shortages[0];
    assert_eq!(s.kind, ShortageKind::CellType);
    assert_eq!(s.cell.as_deref(), Some("1"));
    assert_eq!(s.short_by, 2.0); // 7 − 5 usable
}

#[test]
fn enemies_that_empty_a_cell_are_named() {
    // Area 1: eight items in three enemy groups (3 + 3 + 2): a form can take only 3 of them.
    let mut pool = Vec::new();
    for i in 0..8 {
        let mut it = item(i, ItemKind::SingleChoice, "1.1", 3.0);
        it.enemy_group = Some(format!("g{}", i % 3));
        pool.push(it);
    }
    for i in 0..10 {
        pool.push(item(100 + i, ItemKind::SingleChoice, "2.1", 3.0));
    }
    let bp = blueprint(
        1,
        vec![cell("1", "甲", 5, 5), cell("2", "乙", 5, 5)],
        vec![quota(ItemKind::SingleChoice, 10)],
    );
    let d = diagnose(&bp, &pool).unwrap();
    let s = &d.shortages[0];
    assert_eq!(s.kind, ShortageKind::Enemies);
    assert_eq!(s.cell.as_deref(), Some("1"));
    assert_eq!((s.available, s.short_by), (3.0, 2.0));
}

#[test]
fn an_unreachable_difficulty_band_says_what_is_reachable() {
    // Ten items of difficulty 4 and ten of 5; the easiest form of ten averages 4.00.
    let pool: Vec<PoolItem> = (0..20)
        .map(|i| {
            item(
                i,
                ItemKind::SingleChoice,
                "1.1",
                if i < 10 { 4.0 } else { 5.0 },
            )
        })
        .collect();
    let mut bp = blueprint(1, vec![], vec![quota(ItemKind::SingleChoice, 10)]);
    bp.difficulty = Some(DifficultyTarget {
        min_mean: 2.0,
        max_mean: 3.0,
    });
    let d = diagnose(&bp, &pool).unwrap();
    let s = &d.shortages[0];
    assert_eq!(s.kind, ShortageKind::Difficulty);
    assert!(
        (s.available - 4.0).abs() < 1e-9 && (s.short_by - 1.0).abs() < 1e-9,
        "{s:?}"
    );
    assert!(s.en.contains("average 4.00"), "{}", s.en);
}

#[test]
fn a_short_time_limit_says_by_how_much() {
    // Ten items of 120 s each: the quickest form takes 20 minutes; the limit is 15.
    let pool: Vec<PoolItem> = (0..12)
        .map(|i| {
            let mut it = item(i, ItemKind::SingleChoice, "1.1", 3.0);
            it.time_seconds = Some(120);
            it
        })
        .collect();
    let mut bp = blueprint(1, vec![], vec![quota(ItemKind::SingleChoice, 10)]);
    bp.time_limit_minutes = 15;
    let d = diagnose(&bp, &pool).unwrap();
    let s = &d.shortages[0];
    assert_eq!(s.kind, ShortageKind::Time);
    assert!(
        (s.available - 20.0).abs() < 1e-6 && (s.short_by - 5.0).abs() < 1e-6,
        "{s:?}"
    );
}

// ---------------------------------------------------------------- enemies, testlets, overlap

#[test]
fn enemies_testlets_and_overlap_hold_in_every_form() {
    // 30 items: enemy groups of three, testlets of two; three forms of six without overlap.
    let mut pool = Vec::new();
    for i in 0..30 {
        let mut it = item(i, ItemKind::SingleChoice, "1.1", 3.0)
            .with_irt(0.8 + (i % 7) as f64 * 0.15, -1.0 + (i % 5) as f64 * 0.5);
        if i < 12 {
            it.enemy_group = Some(format!("e{}", i / 3));
        } else if i < 20 {
            it.testlet = Some(format!("t{}", i / 2));
        }
        pool.push(it);
    }
    let bp = blueprint(3, vec![], vec![quota(ItemKind::SingleChoice, 6)]);
    for solver in SolverChoice::available() {
        let a = assemble(&bp, &pool, &opts(solver)).unwrap();
        let errs = check(&bp, &pool, &a);
        assert!(errs.is_empty(), "{solver:?}: {errs:?}");
        let all: Vec<i64> = a.forms.iter().flat_map(|f| f.items.clone()).collect();
        let set: BTreeSet<i64> = all.iter().copied().collect();
        assert_eq!(set.len(), all.len(), "no item in two forms");
        // a testlet's items sit next to each other
        for f in &a.forms {
            let pos: BTreeMap<i64, usize> =
                f.items.iter().enumerate().map(|(p, id)| (*id, p)).collect();
            for t in 6..10 {
                let (x, y) = (2 * t, 2 * t + 1);
                if let (Some(p), Some(q)) = (pos.get(&x), pos.get(&y)) {
                    assert_eq!(p.abs_diff(*q), 1);
                }
            }
        }
    }
}

#[test]
fn forms_list_items_by_type_then_cell() {
    let (bp, pool) = tiny();
    let a = assemble(&bp, &pool, &opts(SolverChoice::Microlp)).unwrap();
    let by_id: HashMap<i64, &PoolItem> = pool.iter().map(|p| (p.id, p)).collect();
    for f in &a.forms {
        let kinds: Vec<ItemKind> = f.items.iter().map(|i| by_id[i].kind).collect();
        // single choice (first in the blueprint) before true/false
        let first_tf = kinds
            .iter()
            .position(|k| *k == ItemKind::TrueFalse)
            .unwrap();
        assert!(
            kinds[..first_tf]
                .iter()
                .all(|k| *k == ItemKind::SingleChoice)
        );
        assert_eq!(f.stats.items, 4);
        assert_eq!(f.stats.points, 4.0);
        assert_eq!(f.stats.per_type[0].assembled, 3);
        let cells: u32 = f.stats.per_cell.iter().map(|c| c.assembled).sum();
        assert_eq!(cells, 4);
    }
}

// ---------------------------------------------------------------- time limit

#[test]
fn a_short_time_limit_returns_a_valid_incumbent() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let pool: Vec<PoolItem> = (0..600)
        .map(|i| {
            let kind = if i % 4 == 0 {
                ItemKind::TrueFalse
            } else {
                ItemKind::SingleChoice
            };
            let mut it = item(
                i,
                kind,
                &format!("{}.1.1", 1 + i % 3),
                rng.gen_range(1..=5) as f64,
            )
            .with_irt(rng.gen_range(0.5..2.0), rng.gen_range(-2.0..2.0));
            if i % 17 == 0 {
                it.enemy_group = Some(format!("e{}", i % 5));
            }
            it
        })
        .collect();
    let mut bp = blueprint(
        3,
        vec![
            cell("1", "甲", 10, 10),
            cell("2", "乙", 10, 10),
            cell("3", "丙", 10, 10),
        ],
        vec![
            quota(ItemKind::SingleChoice, 22),
            quota(ItemKind::TrueFalse, 8),
        ],
    );
    bp.difficulty = Some(DifficultyTarget {
        min_mean: 2.8,
        max_mean: 3.2,
    });
    let o = AssemblyOptions {
        time_limit: Duration::from_millis(400),
        mip_gap: 0.0,
        always_solve: true,
        ..opts(SolverChoice::Microlp)
    };
    let t = Instant::now();
    let a = assemble(&bp, &pool, &o).unwrap();
    let took = t.elapsed();
    assert!(
        check(&bp, &pool, &a).is_empty(),
        "{:?}",
        check(&bp, &pool, &a)
    );
    assert!(
        matches!(
            a.status,
            AssemblyStatus::TimeLimit | AssemblyStatus::Optimal
        ),
        "{:?}",
        a.status
    );
    assert!(a.gap.is_finite() && a.bound >= a.objective);
    // generous: the limit is 0.4 s; building the model and checking add a little
    assert!(took < Duration::from_secs(5), "{took:?}");
}

// ---------------------------------------------------------------- options and compatibility

#[test]
fn solver_choice_parses_and_knows_what_is_compiled_in() {
    assert_eq!(
        SolverChoice::parse("solver", "microlp").unwrap(),
        SolverChoice::Microlp
    );
    assert_eq!(
        SolverChoice::parse("solver", " Heuristic ").unwrap(),
        SolverChoice::Heuristic
    );
    assert_eq!(
        SolverChoice::parse("solver", "highs").is_ok(),
        cfg!(feature = "highs")
    );
    let e = SolverChoice::parse("solver", "cplex").unwrap_err();
    assert_eq!(e.code, "bad_solver");
}

#[test]
fn blueprints_saved_before_the_overlap_limit_still_load() {
    let json = r#"{"level":"junior","title":"t","forms":2,"cells":[],
        "types":[{"kind":"single_choice","count":5,"points_each":1.0}],
        "time_limit_minutes":60,"no_overlap":false}"#;
    let bp: Blueprint = serde_json::from_str(json).unwrap();
    assert_eq!(bp.max_forms_per_item, None);
    assert_eq!(bp.theta, vec![-1.0, 0.0, 1.0]);
}

#[test]
fn bad_pool_values_name_the_row() {
    let mut pool = vec![item(1, ItemKind::SingleChoice, "1.1", 3.0)];
    pool.push(item(1, ItemKind::SingleChoice, "1.1", 7.0));
    let bp = blueprint(1, vec![], vec![quota(ItemKind::SingleChoice, 1)]);
    let Err(AssemblyError::Pool(errs)) = assemble(&bp, &pool, &opts(SolverChoice::Microlp)) else {
        panic!()
    };
    assert!(
        errs.iter()
            .any(|e| e.field == "pool[1].id" && e.code == "duplicate_item")
    );
    assert!(errs.iter().any(|e| e.field == "pool[1].difficulty"));
}

// ---------------------------------------------------------------- the bound

/// The LP relaxation of the full per-form model, written out here with good_lp, must give
/// the same optimum as the aggregated relaxation the library reports as its bound.
#[test]
fn the_reported_bound_is_the_full_models_lp_relaxation() {
    use good_lp::{Expression, ProblemVariables, Solution, SolverModel, microlp, variable};
    let (mut bp, pool) = random_instance(21);
    bp.no_overlap = true;
    bp.max_usage = None;
    bp.forms = 3;
    // no testlets here, so every unit is one item
    let pool: Vec<PoolItem> = pool
        .into_iter()
        .map(|mut p| {
            p.testlet = None;
            p
        })
        .collect();
    let d = diagnose(&bp, &pool).unwrap();
    assert!(d.shortages.is_empty(), "{:?}", d.shortages);
    let bound = d.bound.unwrap();

    let usable: Vec<&PoolItem> = pool
        .iter()
        .filter(|p| bp.types.iter().any(|t| t.kind == p.kind))
        .filter(|p| bp.cells.iter().any(|c| in_cell(p, &c.code)))
        .collect();
    let nf = bp.forms as usize;
    let mut vars = ProblemVariables::new();
    // x[f][i]: item i's share of form f
    let x: Vec<Vec<_>> = (0..nf)
        .map(|_| {
            usable
                .iter()
                .map(|_| vars.add(variable().min(0.0).max(1.0)))
                .collect()
        })
        .collect();
    let y = vars.add(variable().min(0.0));
    let mut model = vars.maximise(y).using(microlp);
    let n = bp.items_per_form() as f64;
    for xf in &x {
        let sum = |w: &dyn Fn(&PoolItem) -> f64| {
            let mut e = Expression::default();
            for (p, v) in usable.iter().zip(xf) {
                e.add_mul(w(p), *v);
            }
            e
        };
        for q in &bp.types {
            model.add_constraint(sum(&|p| (p.kind == q.kind) as u8 as f64).eq(q.count as f64));
        }
        for c in &bp.cells {
            let e = sum(&|p| in_cell(p, &c.code) as u8 as f64);
            model.add_constraint(e.clone().geq(c.min_items as f64));
            model.add_constraint(e.leq(c.max_items as f64));
        }
        if let Some(dt) = bp.difficulty {
            let e = sum(&|p| p.difficulty.unwrap_or(3.0));
            model.add_constraint(e.clone().geq(dt.min_mean * n));
            model.add_constraint(e.leq(dt.max_mean * n));
        }
        model.add_constraint(sum(&|p| seconds(p)).leq(bp.time_limit_minutes as f64 * 60.0));
        let groups: BTreeSet<&str> = usable
            .iter()
            .filter_map(|p| p.enemy_group.as_deref())
            .collect();
        for g in groups {
            model.add_constraint(
                sum(&|p| (p.enemy_group.as_deref() == Some(g)) as u8 as f64).leq(1.0),
            );
        }
        for th in &bp.theta {
            let e = sum(&|p| {
                let (a, b) = params(p);
                info(a, b, *th)
            });
            model.add_constraint((e - y).geq(0.0));
        }
    }
    for i in 0..usable.len() {
        let mut e = Expression::default();
        for xf in &x {
            e.add_mul(1.0, xf[i]);
        }
        model.add_constraint(e.leq(1.0));
    }
    let sol = model.solve().unwrap();
    let full = sol.value(y);
    assert!(
        (full - bound).abs() < 1e-6 * (1.0 + bound),
        "full LP {full} vs aggregated {bound}"
    );
}

#[test]
fn cells_and_types_short_only_together_are_found_by_the_flow_check() {
    // Areas 1 and 2 hold only single-choice items and need 2 each; a form takes only 3
    // single-choice items, so together they are one short. Each cell alone (2 ≤ 3) and
    // each type alone have enough.
    let mut pool = Vec::new();
    for i in 0..5 {
        pool.push(item(i, ItemKind::SingleChoice, "1.1", 3.0));
        pool.push(item(10 + i, ItemKind::SingleChoice, "2.1", 3.0));
        pool.push(item(20 + i, ItemKind::SingleChoice, "3.1", 3.0));
        pool.push(item(30 + i, ItemKind::TrueFalse, "3.2", 3.0));
    }
    let bp = blueprint(
        1,
        vec![
            cell("1", "甲", 2, 2),
            cell("2", "乙", 2, 2),
            cell("3", "丙", 2, 4),
        ],
        vec![
            quota(ItemKind::SingleChoice, 3),
            quota(ItemKind::TrueFalse, 3),
        ],
    );
    let d = diagnose(&bp, &pool).unwrap();
    assert_eq!(d.shortages.len(), 1, "{:?}", d.shortages);
    let s = &d.shortages[0];
    assert_eq!(s.kind, ShortageKind::Counts);
    assert_eq!((s.needed, s.available, s.short_by), (4.0, 3.0, 1.0));
    assert!(
        s.en.starts_with("work area 1 (甲) and work area 2 (乙) together need 4 items"),
        "{}",
        s.en
    );
}

#[test]
fn a_task_cell_inside_an_area_cell_counts_in_both() {
    // Area 1 takes 4 items, of which its task 1.2 takes 1 or 2; area 2 takes 2.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut pool = Vec::new();
    for i in 0..40 {
        let req = match i % 4 {
            0 | 1 => "1.1.1",
            2 => "1.2.1",
            _ => "2.1.1",
        };
        pool.push(
            item(i, ItemKind::SingleChoice, req, 3.0)
                .with_irt(rng.gen_range(0.5..2.0), rng.gen_range(-1.5..1.5)),
        );
    }
    let bp = blueprint(
        2,
        vec![
            cell("1", "甲", 4, 4),
            cell("1.2", "甲乙", 1, 2),
            cell("2", "乙", 2, 2),
        ],
        vec![quota(ItemKind::SingleChoice, 6)],
    );
    for solver in SolverChoice::available() {
        let a = assemble(&bp, &pool, &opts(solver)).unwrap();
        let errs = check(&bp, &pool, &a);
        assert!(errs.is_empty(), "{solver:?}: {errs:?}");
        for f in &a.forms {
            assert_eq!(f.stats.per_cell[0].assembled, 4);
            assert!((1..=2).contains(&f.stats.per_cell[1].assembled));
        }
    }
}

#[test]
fn pool_items_come_from_bank_items() {
    use xcert_assess::item::{Choice, Interaction, Item, ItemContent, ItemMeta, Scoring};
    let it = Item {
        meta: ItemMeta {
            ident: "SGCC-1".into(),
            requirements: vec!["2.1.3".into()],
            difficulty: Some(4.0),
            enemy_group: Some("g".into()),
            time_seconds: Some(75),
            ..ItemMeta::default()
        },
        content: ItemContent {
            kind: ItemKind::SingleChoice,
            stem: "<p>?</p>".into(),
            interaction: Interaction::Choice {
                choices: vec![Choice::new("A", "a"), Choice::new("B", "b")],
                correct: vec!["A".into()],
                shuffle: true,
            },
            points: 1.0,
            scoring: Scoring::AllOrNothing,
            explanation: None,
            media: vec![],
        },
    };
    let p = PoolItem::from_item(42, &it, 3);
    assert_eq!((p.id, p.kind, p.usage), (42, ItemKind::SingleChoice, 3));
    assert_eq!(p.requirements, vec!["2.1.3".to_string()]);
    assert_eq!((p.difficulty, p.time_seconds), (Some(4.0), Some(75)));
    assert_eq!(p.enemy_group.as_deref(), Some("g"));
    // uncalibrated: a = 1, b = 4 − 3
    assert_eq!(p.irt_or_derived(), Irt2pl { a: 1.0, b: 1.0 });
}
