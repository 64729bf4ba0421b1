//! The fast heuristic (启发式组卷): an instant preview and the MIP's starting incumbent.
//!
//! 1. Greedy construction: the form whose weakest θ point has the least information takes
//!    the next unit, the one adding most information there, among units that keep the form
//!    completable (type and cell counts, the difficulty band and the time limit checked
//!    against the most favourable rest of the pool).
//! 2. Repair: while a form breaks a hard constraint, the move (replace, add, drop, or
//!    exchange with another form) that most reduces the total violation; when none does,
//!    a seeded random move.
//! 3. Local search: replace a unit by an unused one of the same type signature, or exchange
//!    two units between forms, whenever all hard constraints still hold and the sorted
//!    information values of the forms touched get better (leximin: the weakest first).
//! 4. Iterated: seeded random perturbations followed by local search, keeping the best.
//!
//! Deterministic for a seed unless the deadline cuts it short.

use super::model::Model;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

const EPS: f64 = 1e-9;

/// Rounds of perturbation without improvement after which the search ends.
const STALE_ROUNDS: u32 = 200;

#[derive(Debug, Clone)]
struct Form {
    units: Vec<usize>,
    items: u32,
    types: Vec<i64>,
    cells: Vec<i64>,
    diff: f64,
    time: f64,
    info: Vec<f64>,
    groups: Vec<u16>,
    /// Σ_g max(0, groups[g] − 1)
    enemy_excess: i64,
}

impl Form {
    fn min_info(&self) -> f64 {
        self.info.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

#[derive(Clone)]
struct State<'a> {
    m: &'a Model,
    forms: Vec<Form>,
    uses: Vec<u32>,
    /// Bit f set: the unit is in form f.
    member: Vec<u64>,
}

/// What the heuristic found.
pub(crate) struct Outcome {
    pub forms: Vec<Vec<usize>>,
    /// Hard constraints broken by the best forms found (empty: feasible).
    pub problems: Vec<String>,
    /// The deadline stopped it before its rounds were done.
    pub cut_short: bool,
}

impl<'a> State<'a> {
    fn new(m: &'a Model) -> State<'a> {
        let form = Form {
            units: Vec::new(),
            items: 0,
            types: vec![0; m.n_types()],
            cells: vec![0; m.n_cells()],
            diff: 0.0,
            time: 0.0,
            info: vec![0.0; m.theta.len()],
            groups: vec![0; m.groups.len()],
            enemy_excess: 0,
        };
        State {
            m,
            forms: vec![form; m.forms],
            uses: vec![0; m.units.len()],
            member: vec![0; m.units.len()],
        }
    }

    fn add(&mut self, f: usize, u: usize) {
        let un = &self.m.units[u];
        let fm = &mut self.forms[f];
        fm.units.push(u);
        fm.items += un.size;
        for &(t, k) in &un.types {
            fm.types[t] += k as i64;
        }
        for &(c, k) in &un.cells {
            fm.cells[c] += k as i64;
        }
        fm.diff += un.diff;
        fm.time += un.time;
        for (k, x) in un.info.iter().enumerate() {
            fm.info[k] += x;
        }
        for &g in &un.groups {
            if fm.groups[g] >= 1 {
                fm.enemy_excess += 1;
            }
            fm.groups[g] += 1;
        }
        self.uses[u] += 1;
        self.member[u] |= 1 << f;
    }

    fn remove(&mut self, f: usize, u: usize) {
        let un = &self.m.units[u];
        let fm = &mut self.forms[f];
        let pos = fm.units.iter().position(|x| *x == u).expect("unit in form");
        fm.units.swap_remove(pos);
        fm.items -= un.size;
        for &(t, k) in &un.types {
            fm.types[t] -= k as i64;
        }
        for &(c, k) in &un.cells {
            fm.cells[c] -= k as i64;
        }
        fm.diff -= un.diff;
        fm.time -= un.time;
        for (k, x) in un.info.iter().enumerate() {
            fm.info[k] -= x;
        }
        for &g in &un.groups {
            fm.groups[g] -= 1;
            if fm.groups[g] >= 1 {
                fm.enemy_excess -= 1;
            }
        }
        self.uses[u] -= 1;
        self.member[u] &= !(1 << f);
    }

    fn in_form(&self, u: usize, f: usize) -> bool {
        self.member[u] & (1 << f) != 0
    }

    fn free(&self, u: usize) -> bool {
        self.uses[u] < self.m.units[u].cap
    }

    /// Violation of form `f` if `out` left and `inn` joined (either may be absent).
    fn violation_after(&self, f: usize, out: Option<usize>, inn: Option<usize>) -> f64 {
        let m = self.m;
        let fm = &self.forms[f];
        let o = out.map(|u| &m.units[u]);
        let i = inn.map(|u| &m.units[u]);
        let mut v = 0.0;
        for t in 0..m.n_types() {
            let mut c = fm.types[t];
            if let Some(o) = o {
                c -= sparse(&o.types, t);
            }
            if let Some(i) = i {
                c += sparse(&i.types, t);
            }
            v += (c - m.type_need[t] as i64).abs() as f64 * 2.0;
        }
        for c in 0..m.n_cells() {
            let mut k = fm.cells[c];
            if let Some(o) = o {
                k -= sparse(&o.cells, c);
            }
            if let Some(i) = i {
                k += sparse(&i.cells, c);
            }
            v += ((m.cell_min[c] as i64 - k).max(0) + (k - m.cell_max[c] as i64).max(0)) as f64;
        }
        let d = fm.diff - o.map_or(0.0, |o| o.diff) + i.map_or(0.0, |i| i.diff);
        if let Some((lo, hi)) = m.diff_sum {
            v += ((lo - d).max(0.0) + (d - hi).max(0.0)) * 0.5;
        }
        let t = fm.time - o.map_or(0.0, |o| o.time) + i.map_or(0.0, |i| i.time);
        v += (t - m.time_limit).max(0.0) / 60.0;
        let mut ex = fm.enemy_excess;
        if let Some(o) = o {
            for &g in &o.groups {
                if fm.groups[g] >= 2 {
                    ex -= 1;
                }
            }
        }
        if let Some(i) = i {
            for &g in &i.groups {
                let mut c = fm.groups[g];
                if o.is_some_and(|o| o.groups.contains(&g)) {
                    c -= 1;
                }
                if c >= 1 {
                    ex += 1;
                }
            }
        }
        v + ex as f64 * 2.0
    }

    fn violation(&self, f: usize) -> f64 {
        self.violation_after(f, None, None)
    }

    /// Whether form `f` stays within every hard constraint when `out` leaves and `inn`
    /// joins; both share a type signature, and `f` is feasible now.
    fn swap_ok(&self, f: usize, out: usize, inn: usize) -> bool {
        let m = self.m;
        let fm = &self.forms[f];
        let (o, i) = (&m.units[out], &m.units[inn]);
        // cells: only those touched
        for &(c, k) in &i.cells {
            let after = fm.cells[c] + k as i64 - sparse(&o.cells, c);
            if after > m.cell_max[c] as i64 || after < m.cell_min[c] as i64 {
                return false;
            }
        }
        for &(c, k) in &o.cells {
            if sparse(&i.cells, c) == 0 && fm.cells[c] - (k as i64) < m.cell_min[c] as i64 {
                return false;
            }
        }
        if let Some((lo, hi)) = m.diff_sum {
            let d = fm.diff - o.diff + i.diff;
            if d < lo - EPS || d > hi + EPS {
                return false;
            }
        }
        if fm.time - o.time + i.time > m.time_limit + EPS {
            return false;
        }
        for &g in &i.groups {
            let c = fm.groups[g] as i64 - o.groups.contains(&g) as i64;
            if c >= 1 {
                return false;
            }
        }
        true
    }

    fn snapshot(&self) -> Vec<Vec<usize>> {
        self.forms.iter().map(|f| f.units.clone()).collect()
    }

    fn sorted_info(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.forms.iter().flat_map(|f| f.info.clone()).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    fn penalty(&self) -> f64 {
        self.forms
            .iter()
            .flat_map(|f| &f.units)
            .map(|&u| self.m.units[u].penalty)
            .sum()
    }
}

/// A repair move: (change in violation, unit out, unit in, the form an exchange takes from).
type RepairMove = (f64, Option<usize>, Option<usize>, Option<usize>);

/// An improving move: ((Δ weakest, Δ sum, −Δ penalty), unit in, the form an exchange
/// takes from).
type Improvement = ((f64, f64, f64), usize, Option<usize>);

fn sparse(v: &[(usize, u32)], k: usize) -> i64 {
    v.iter()
        .find(|(i, _)| *i == k)
        .map_or(0, |(_, c)| *c as i64)
}

/// Leximin comparison of two ascending vectors: is `new` better than `old`?
fn lex_better(new: &[f64], old: &[f64]) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    for (a, b) in new.iter().zip(old) {
        let tol = 1e-10 * (1.0 + b.abs());
        if *a > b + tol {
            return Greater;
        }
        if *a < b - tol {
            return Less;
        }
    }
    Equal
}

/// Per type: ascending per-item difficulty and time of the pool, as prefix sums, for
/// the optimistic completion checks.
struct Prefix {
    diff_low: Vec<Vec<f64>>,
    diff_high: Vec<Vec<f64>>,
    time_low: Vec<Vec<f64>>,
}

impl Prefix {
    fn new(m: &Model) -> Prefix {
        let nt = m.n_types();
        let mut d: Vec<Vec<f64>> = vec![Vec::new(); nt];
        let mut t: Vec<Vec<f64>> = vec![Vec::new(); nt];
        for u in &m.units {
            for &(ty, k) in &u.types {
                for _ in 0..k {
                    d[ty].push(u.diff / u.size as f64);
                    t[ty].push(u.time / u.size as f64);
                }
            }
        }
        let prefix = |mut v: Vec<f64>, rev: bool| {
            v.sort_by(f64::total_cmp);
            if rev {
                v.reverse();
            }
            let mut p = vec![0.0];
            for x in v {
                p.push(p.last().copied().unwrap_or(0.0) + x);
            }
            p
        };
        Prefix {
            diff_low: d.iter().cloned().map(|v| prefix(v, false)).collect(),
            diff_high: d.into_iter().map(|v| prefix(v, true)).collect(),
            time_low: t.into_iter().map(|v| prefix(v, false)).collect(),
        }
    }

    fn get(p: &[f64], k: i64) -> f64 {
        if k <= 0 {
            0.0
        } else {
            let k = (k as usize).min(p.len() - 1);
            p[k]
        }
    }
}

/// Run the heuristic until its rounds are done, its weakest form reaches `target`, or
/// `deadline`.
pub(crate) fn run(m: &Model, seed: u64, rounds: u32, target: f64, deadline: Instant) -> Outcome {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut st = State::new(m);
    construct(&mut st);
    let mut feasible = repair(&mut st, &mut rng, deadline);
    let mut cut_short = false;
    if feasible {
        let ranked = Ranked::new(m);
        let mut dirty = vec![true; m.forms];
        local_search(&mut st, &ranked, &mut dirty, deadline);
        let mut best = st.clone();
        let mut best_key = (best.sorted_info(), best.penalty());
        let mut stale = 0;
        for _ in 0..rounds {
            if best_key.0.first().is_some_and(|v| *v >= target) {
                break;
            }
            if Instant::now() >= deadline {
                cut_short = true;
                break;
            }
            perturb(&mut st, &mut rng, &mut dirty);
            local_search(&mut st, &ranked, &mut dirty, deadline);
            let key = (st.sorted_info(), st.penalty());
            let better = match lex_better(&key.0, &best_key.0) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Equal => key.1 < best_key.1 - EPS,
                std::cmp::Ordering::Less => false,
            };
            if better {
                best = st.clone();
                best_key = key;
                stale = 0;
            } else {
                st = best.clone();
                dirty.fill(false);
                stale += 1;
                if stale > STALE_ROUNDS {
                    break;
                }
            }
        }
        st = best;
        // Units freed along the way may help forms the rounds did not touch.
        dirty.fill(true);
        local_search(&mut st, &ranked, &mut dirty, deadline);
    } else if Instant::now() >= deadline {
        cut_short = true;
    }
    let forms = st.snapshot();
    let problems = m.violations(&forms);
    feasible &= problems.is_empty();
    debug_assert!(feasible || !problems.is_empty());
    Outcome {
        forms,
        problems,
        cut_short,
    }
}

/// The completion check for adding `u` to form `f` (see the module comment).
fn can_complete(st: &State<'_>, pre: &Prefix, f: usize, u: usize) -> bool {
    let m = st.m;
    let fm = &st.forms[f];
    let un = &m.units[u];
    let n = m.items_per_form as i64;
    let items = fm.items as i64 + un.size as i64;
    if items > n {
        return false;
    }
    for &(t, k) in &un.types {
        if fm.types[t] + k as i64 > m.type_need[t] as i64 {
            return false;
        }
    }
    for &(c, k) in &un.cells {
        if fm.cells[c] + k as i64 > m.cell_max[c] as i64 {
            return false;
        }
    }
    for &g in &un.groups {
        if fm.groups[g] > 0 {
            return false;
        }
    }
    let rest = n - items;
    if m.cells_disjoint {
        let mut owed = 0;
        for c in 0..m.n_cells() {
            let have = fm.cells[c] + sparse(&un.cells, c);
            owed += (m.cell_min[c] as i64 - have).max(0);
        }
        if owed > rest {
            return false;
        }
    }
    let mut d_lo = fm.diff + un.diff;
    let mut d_hi = d_lo;
    let mut t_lo = fm.time + un.time;
    for t in 0..m.n_types() {
        let r = m.type_need[t] as i64 - fm.types[t] - sparse(&un.types, t);
        d_lo += Prefix::get(&pre.diff_low[t], r);
        d_hi += Prefix::get(&pre.diff_high[t], r);
        t_lo += Prefix::get(&pre.time_low[t], r);
    }
    if let Some((lo, hi)) = m.diff_sum
        && (d_lo > hi + EPS || d_hi < lo - EPS)
    {
        return false;
    }
    t_lo <= m.time_limit + EPS
}

fn construct(st: &mut State<'_>) {
    let m = st.m;
    let pre = Prefix::new(m);
    let n = m.items_per_form;
    loop {
        // The incomplete form with the least information at its weakest point.
        let Some(f) = (0..m.forms)
            .filter(|&f| st.forms[f].items < n)
            .min_by(|&a, &b| {
                st.forms[a]
                    .min_info()
                    .total_cmp(&st.forms[b].min_info())
                    .then(a.cmp(&b))
            })
        else {
            return;
        };
        let fm = &st.forms[f];
        let weak = (0..m.theta.len())
            .min_by(|&a, &b| fm.info[a].total_cmp(&fm.info[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        let score = |u: usize| {
            let un = &m.units[u];
            let side: f64 = un.info.iter().sum();
            (un.info[weak] + 0.05 * side) / un.size as f64 - 1e-6 * un.penalty
        };
        let mut best: Option<(f64, usize)> = None;
        for u in 0..m.units.len() {
            if !st.free(u) || st.in_form(u, f) || !can_complete(st, &pre, f, u) {
                continue;
            }
            let s = score(u);
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, u));
            }
        }
        if best.is_none() {
            // Nothing keeps the form completable: take the unit that breaks least
            // (type and item counts kept), for the repair to mend.
            for u in 0..m.units.len() {
                if !st.free(u) || st.in_form(u, f) {
                    continue;
                }
                let un = &m.units[u];
                if st.forms[f].items + un.size > n
                    || un
                        .types
                        .iter()
                        .any(|&(t, k)| st.forms[f].types[t] + k as i64 > m.type_need[t] as i64)
                {
                    continue;
                }
                let s = -st.violation_after(f, None, Some(u)) + 1e-3 * score(u);
                if best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, u));
                }
            }
        }
        match best {
            Some((_, u)) => st.add(f, u),
            None => return, // the form stays short; the repair reports it
        }
    }
}

/// Reduce the total violation to zero; false when it cannot.
fn repair(st: &mut State<'_>, rng: &mut ChaCha8Rng, deadline: Instant) -> bool {
    let m = st.m;
    let nu = m.units.len();
    let mut stalls = 0;
    let max_iter = 20 * m.forms * m.items_per_form as usize + 200;
    for iter in 0..max_iter {
        let viol: Vec<f64> = (0..m.forms).map(|f| st.violation(f)).collect();
        let Some(f) = (0..m.forms)
            .filter(|&f| viol[f] > EPS)
            .max_by(|&a, &b| viol[a].total_cmp(&viol[b]).then(b.cmp(&a)))
        else {
            return true;
        };
        if iter % 64 == 0 && Instant::now() >= deadline {
            return false;
        }
        let v0 = viol[f];
        // (delta, out, inn, other form for an exchange)
        let mut best: Option<RepairMove> = None;
        let mut consider = |d: f64, o: Option<usize>, i: Option<usize>, g: Option<usize>| {
            if best.is_none_or(|b| d < b.0 - EPS) {
                best = Some((d, o, i, g));
            }
        };
        let units = st.forms[f].units.clone();
        let type_off = (0..m.n_types()).any(|t| st.forms[f].types[t] != m.type_need[t] as i64);
        for b in 0..nu {
            if st.in_form(b, f) {
                continue;
            }
            let free = st.free(b);
            if free {
                consider(
                    st.violation_after(f, None, Some(b)) - v0,
                    None,
                    Some(b),
                    None,
                );
            }
            for &a in &units {
                if !type_off && m.units[a].sig != m.units[b].sig {
                    continue;
                }
                let d = st.violation_after(f, Some(a), Some(b)) - v0;
                if free {
                    consider(d, Some(a), Some(b), None);
                }
                // exchange with a form holding b
                let mut holders = st.member[b];
                while holders != 0 {
                    let g = holders.trailing_zeros() as usize;
                    holders &= holders - 1;
                    if st.in_form(a, g) {
                        continue;
                    }
                    let dg = st.violation_after(g, Some(b), Some(a)) - viol[g];
                    consider(d + dg, Some(a), Some(b), Some(g));
                }
            }
        }
        for &a in &units {
            consider(
                st.violation_after(f, Some(a), None) - v0,
                Some(a),
                None,
                None,
            );
        }
        match best {
            Some((d, o, i, g)) if d < -EPS => {
                apply(st, f, o, i, g);
                stalls = 0;
            }
            _ => {
                stalls += 1;
                if stalls > 30 || units.is_empty() {
                    return false;
                }
                // random kick: replace a random unit of f by a random free unit
                let a = units[rng.gen_range(0..units.len())];
                let cands: Vec<usize> = (0..nu)
                    .filter(|&b| st.free(b) && !st.in_form(b, f))
                    .collect();
                if cands.is_empty() {
                    return false;
                }
                let b = cands[rng.gen_range(0..cands.len())];
                apply(st, f, Some(a), Some(b), None);
            }
        }
    }
    (0..m.forms).all(|f| st.violation(f) <= EPS)
}

fn apply(st: &mut State<'_>, f: usize, o: Option<usize>, i: Option<usize>, g: Option<usize>) {
    if let Some(a) = o {
        st.remove(f, a);
    }
    match (g, i) {
        (Some(g), Some(b)) => {
            st.remove(g, b);
            if let Some(a) = o {
                st.add(g, a);
            }
            st.add(f, b);
        }
        (None, Some(b)) => st.add(f, b),
        _ => {}
    }
}

/// Units of each type signature sorted by information at each θ point, best first.
struct Ranked {
    /// [sig][k] → units
    lists: Vec<Vec<Vec<usize>>>,
}

impl Ranked {
    fn new(m: &Model) -> Ranked {
        let lists = m
            .by_sig
            .iter()
            .map(|us| {
                (0..m.theta.len())
                    .map(|k| {
                        let mut v = us.clone();
                        v.sort_by(|&a, &b| {
                            m.units[b].info[k]
                                .total_cmp(&m.units[a].info[k])
                                .then(a.cmp(&b))
                        });
                        v
                    })
                    .collect()
            })
            .collect();
        Ranked { lists }
    }
}

/// Improving replace and exchange moves until none is left (or the deadline).
///
/// A move can only improve (leximin) the forms it touches if the weaker of them does not
/// lose at its weakest θ point, so from each form f the candidates for replacing unit a are
/// scanned best-first at f's weakest point and the scan stops at the first one worse than
/// a there. Exchanges are found from the weaker form of the pair.
///
/// Only forms marked in `dirty` are scanned (a form is marked again when a move touches
/// it), so after a perturbation the search costs what the perturbation touched.
fn local_search(st: &mut State<'_>, ranked: &Ranked, dirty: &mut [bool], deadline: Instant) {
    let m = st.m;
    let k = m.theta.len();
    let mut old = Vec::with_capacity(2 * k);
    let mut new = Vec::with_capacity(2 * k);
    loop {
        let mut improved = false;
        let mut order: Vec<usize> = (0..m.forms).filter(|&f| dirty[f]).collect();
        order.sort_by(|&a, &b| {
            st.forms[a]
                .min_info()
                .total_cmp(&st.forms[b].min_info())
                .then(a.cmp(&b))
        });
        for &f in &order {
            if Instant::now() >= deadline {
                return;
            }
            dirty[f] = false;
            let units = st.forms[f].units.clone();
            for a in units {
                if !st.in_form(a, f) {
                    continue;
                }
                let ua = &m.units[a];
                let fi = &st.forms[f].info;
                let weak = (0..k)
                    .min_by(|&x, &y| fi[x].total_cmp(&fi[y]).then(x.cmp(&y)))
                    .unwrap_or(0);
                let floor = ua.info[weak] - 1e-12 * (1.0 + ua.info[weak].abs());
                // best move for a: (Δmin, Δsum, -Δpenalty), inn, other form
                let mut best: Option<Improvement> = None;
                for &b in &ranked.lists[ua.sig][weak] {
                    let ub = &m.units[b];
                    if ub.info[weak] < floor {
                        break;
                    }
                    if b == a || st.in_form(b, f) {
                        continue;
                    }
                    let free = st.free(b);
                    let mut holders = st.member[b];
                    if !free && holders == 0 {
                        continue;
                    }
                    if !st.swap_ok(f, a, b) {
                        continue;
                    }
                    let ff = &st.forms[f];
                    if free {
                        old.clear();
                        new.clear();
                        for kk in 0..k {
                            old.push(ff.info[kk]);
                            new.push(ff.info[kk] - ua.info[kk] + ub.info[kk]);
                        }
                        old.sort_by(f64::total_cmp);
                        new.sort_by(f64::total_cmp);
                        let ord = lex_better(&new, &old);
                        let dpen = ub.penalty - ua.penalty;
                        if ord == std::cmp::Ordering::Greater
                            || (ord == std::cmp::Ordering::Equal && dpen < -EPS)
                        {
                            let key = (
                                new[0] - old[0],
                                new.iter().sum::<f64>() - old.iter().sum::<f64>(),
                                -dpen,
                            );
                            if best.as_ref().is_none_or(|(bk, _, _)| key_gt(key, *bk)) {
                                best = Some((key, b, None));
                            }
                        }
                    }
                    while holders != 0 {
                        let g = holders.trailing_zeros() as usize;
                        holders &= holders - 1;
                        if st.in_form(a, g) || !st.swap_ok(g, b, a) {
                            continue;
                        }
                        let gg = &st.forms[g];
                        old.clear();
                        new.clear();
                        for kk in 0..k {
                            old.push(ff.info[kk]);
                            old.push(gg.info[kk]);
                            new.push(ff.info[kk] - ua.info[kk] + ub.info[kk]);
                            new.push(gg.info[kk] - ub.info[kk] + ua.info[kk]);
                        }
                        old.sort_by(f64::total_cmp);
                        new.sort_by(f64::total_cmp);
                        if lex_better(&new, &old) == std::cmp::Ordering::Greater {
                            let key = (new[0] - old[0], 0.0, 0.0);
                            if best.as_ref().is_none_or(|(bk, _, _)| key_gt(key, *bk)) {
                                best = Some((key, b, Some(g)));
                            }
                        }
                    }
                }
                if let Some((_, b, g)) = best {
                    apply(st, f, Some(a), Some(b), g);
                    dirty[f] = true;
                    if let Some(g) = g {
                        dirty[g] = true;
                    }
                    improved = true;
                }
            }
        }
        if !improved {
            return;
        }
    }
}

fn key_gt(a: (f64, f64, f64), b: (f64, f64, f64)) -> bool {
    let tol = 1e-12;
    if (a.0 - b.0).abs() > tol {
        return a.0 > b.0;
    }
    if (a.1 - b.1).abs() > tol {
        return a.1 > b.1;
    }
    a.2 > b.2 + tol
}

/// A few seeded random feasible moves, mostly around the weakest form.
fn perturb(st: &mut State<'_>, rng: &mut ChaCha8Rng, dirty: &mut [bool]) {
    let m = st.m;
    let steps = (m.items_per_form as usize / 8).clamp(2, 8);
    let weakest = (0..m.forms)
        .min_by(|&a, &b| st.forms[a].min_info().total_cmp(&st.forms[b].min_info()))
        .unwrap_or(0);
    for s in 0..steps {
        let f = if s % 2 == 0 {
            weakest
        } else {
            rng.gen_range(0..m.forms)
        };
        let units = &st.forms[f].units;
        if units.is_empty() {
            continue;
        }
        let a = units[rng.gen_range(0..units.len())];
        let peers = &m.by_sig[m.units[a].sig];
        for _ in 0..20 {
            let b = peers[rng.gen_range(0..peers.len())];
            if b == a || st.in_form(b, f) || !st.swap_ok(f, a, b) {
                continue;
            }
            if st.free(b) {
                apply(st, f, Some(a), Some(b), None);
                dirty[f] = true;
                break;
            }
            let holders = st.member[b];
            if holders != 0 {
                let g = holders.trailing_zeros() as usize;
                if !st.in_form(a, g) && st.swap_ok(g, b, a) {
                    apply(st, f, Some(a), Some(b), Some(g));
                    dirty[f] = true;
                    dirty[g] = true;
                    break;
                }
            }
        }
    }
}
