//! Expert review: drawing experts from the pool without conflicts of interest (回避),
//! combining their totals by the batch's rule, and flagging outliers.

use crate::batch::CombineRule;
use crate::proposal::Refusal;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeSet;

/// An expert in the pool (专家库), as the draw sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolExpert {
    pub expert_id: i64,
    /// The organization the expert works for, when it is in the registry.
    pub org_id: Option<i64>,
    pub province: Option<String>,
    /// Fields (专业领域) the expert reviews, e.g. "能源动力与材料".
    pub fields: Vec<String>,
}

/// The applicant a draw is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub teo_id: i64,
    pub province: Option<String>,
    pub field: String,
}

/// Which ties exclude an expert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConflictRule {
    pub same_org: bool,
    pub same_province: bool,
}

/// Why an expert may not review an applicant, if they may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conflict {
    SameOrganization,
    SameProvince,
    /// Already drawn for this proposal.
    AlreadyDrawn,
}

pub fn conflict(e: &PoolExpert, a: &Applicant, rule: ConflictRule) -> Option<Conflict> {
    if rule.same_org && e.org_id == Some(a.teo_id) {
        return Some(Conflict::SameOrganization);
    }
    if rule.same_province
        && let (Some(ep), Some(ap)) = (&e.province, &a.province)
        && !ep.trim().is_empty()
        && ep.trim() == ap.trim()
    {
        return Some(Conflict::SameProvince);
    }
    None
}

/// Draw `n` experts for an applicant, at random with `seed` (ChaCha8, so a draw can be
/// replayed and audited), never one with a conflict or one in `already`. Experts whose
/// fields include the applicant's field are drawn first; others fill the remaining seats.
/// Refused (code "pool_too_small") when fewer than `n` eligible experts exist, saying how
/// many were eligible and how many were excluded for each reason.
pub fn draw(
    pool: &[PoolExpert],
    applicant: &Applicant,
    rule: ConflictRule,
    n: usize,
    already: &[i64],
    seed: u64,
) -> Result<Vec<i64>, Refusal> {
    let mut seen = BTreeSet::new();
    let (mut same_org, mut same_province, mut drawn) = (0usize, 0usize, 0usize);
    let mut in_field = Vec::new();
    let mut others = Vec::new();
    for e in pool {
        // A pool listed twice must not seat one expert twice.
        if !seen.insert(e.expert_id) {
            continue;
        }
        if already.contains(&e.expert_id) {
            drawn += 1;
            continue;
        }
        match conflict(e, applicant, rule) {
            Some(Conflict::SameOrganization) => same_org += 1,
            Some(Conflict::SameProvince) => same_province += 1,
            Some(Conflict::AlreadyDrawn) => drawn += 1,
            None if e.fields.iter().any(|f| f.trim() == applicant.field.trim()) => {
                in_field.push(e.expert_id)
            }
            None => others.push(e.expert_id),
        }
    }
    let eligible = in_field.len() + others.len();
    if eligible < n {
        return Err(Refusal::new(
            "pool_too_small",
            format!(
                "{n} expert(s) are needed but only {eligible} are eligible \
                 ({same_org} excluded for the same organization, {same_province} for the same \
                 province, {drawn} already drawn)"
            ),
            format!(
                "需要 {n} 位专家，但只有 {eligible} 位可抽取\
                 （{same_org} 位因同一单位回避，{same_province} 位因同一省份回避，{drawn} 位已抽取）"
            ),
        ));
    }
    // Sorting first makes the draw depend on the pool's members and the seed only, not on
    // the order the store happened to return them in.
    in_field.sort_unstable();
    others.sort_unstable();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    in_field.shuffle(&mut rng);
    others.shuffle(&mut rng);
    Ok(in_field.into_iter().chain(others).take(n).collect())
}

/// The combined score of the experts' totals by `rule`; `None` for no totals.
/// TrimmedMean with fewer than 3 totals falls back to the mean.
pub fn combine(rule: CombineRule, totals: &[f64]) -> Option<f64> {
    if totals.is_empty() {
        return None;
    }
    let mut sorted = totals.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(match rule {
        CombineRule::TrimmedMean if sorted.len() >= 3 => mean(&sorted[1..sorted.len() - 1]),
        CombineRule::Mean | CombineRule::TrimmedMean => mean(&sorted),
        CombineRule::Median => median_of_sorted(&sorted),
    })
}

/// For each total, whether it lies more than `threshold` points from the median of all
/// totals. The median ignores one wild score among three or more, while measuring each
/// against "the others" would, with three experts, let the wild one drag a sound score out
/// with it. Fewer than 3 totals: nothing is flagged (no way to tell which one is off).
pub fn outliers(totals: &[f64], threshold: f64) -> Vec<bool> {
    if totals.len() < 3 {
        return vec![false; totals.len()];
    }
    let mut sorted = totals.to_vec();
    sorted.sort_by(f64::total_cmp);
    let m = median_of_sorted(&sorted);
    totals.iter().map(|t| (t - m).abs() > threshold).collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The median of a sorted, non-empty slice; an even count gives the mean of the middle two.
fn median_of_sorted(xs: &[f64]) -> f64 {
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expert(id: i64, org: Option<i64>, province: &str, fields: &[&str]) -> PoolExpert {
        PoolExpert {
            expert_id: id,
            org_id: org,
            province: (!province.is_empty()).then(|| province.to_string()),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn applicant() -> Applicant {
        Applicant {
            teo_id: 7,
            province: Some("北京".into()),
            field: "能源动力与材料".into(),
        }
    }

    const BOTH: ConflictRule = ConflictRule {
        same_org: true,
        same_province: true,
    };

    /// 40 experts: ids 1..=40; every 5th works for the applicant, every 3rd is in Beijing,
    /// every even one reviews the applicant's field.
    fn pool() -> Vec<PoolExpert> {
        (1..=40)
            .map(|id| {
                let org = if id % 5 == 0 { Some(7) } else { Some(100 + id) };
                let province = if id % 3 == 0 { "北京" } else { "江苏" };
                let fields: &[&str] = if id % 2 == 0 {
                    &["能源动力与材料", "装备制造"]
                } else {
                    &["电子与信息"]
                };
                expert(id, org, province, fields)
            })
            .collect()
    }

    #[test]
    fn conflicts_follow_the_rule() {
        let a = applicant();
        let e = expert(1, Some(7), "北京", &[]);
        assert_eq!(conflict(&e, &a, BOTH), Some(Conflict::SameOrganization));
        let rule = ConflictRule {
            same_org: false,
            same_province: true,
        };
        assert_eq!(conflict(&e, &a, rule), Some(Conflict::SameProvince));
        let none = ConflictRule {
            same_org: false,
            same_province: false,
        };
        assert_eq!(conflict(&e, &a, none), None);
        assert_eq!(
            conflict(&expert(2, Some(8), " 北京 ", &[]), &a, BOTH),
            Some(Conflict::SameProvince)
        );
        assert_eq!(conflict(&expert(3, None, "", &[]), &a, BOTH), None);
        let nowhere = Applicant {
            province: None,
            ..applicant()
        };
        assert_eq!(
            conflict(&expert(4, None, "北京", &[]), &nowhere, BOTH),
            None
        );
    }

    #[test]
    fn draws_never_seat_a_conflicted_or_already_drawn_expert() {
        let pool = pool();
        let a = applicant();
        let already = [2, 4];
        for seed in 0..500 {
            let d = draw(&pool, &a, BOTH, 5, &already, seed).unwrap();
            assert_eq!(d.len(), 5);
            let unique: BTreeSet<i64> = d.iter().copied().collect();
            assert_eq!(unique.len(), 5, "seed {seed}: {d:?}");
            for id in &d {
                assert!(id % 5 != 0, "seed {seed}: same organization {id}");
                assert!(id % 3 != 0, "seed {seed}: same province {id}");
                assert!(!already.contains(id), "seed {seed}: already drawn {id}");
            }
        }
    }

    #[test]
    fn experts_in_the_applicants_field_come_first() {
        let pool = pool();
        let a = applicant();
        // Eligible and in field: even, not a multiple of 3 or 5 → 2, 4, 8, 14, 16, 22, 26,
        // 28, 32, 34, 38 (11 of them).
        for seed in 0..100 {
            let d = draw(&pool, &a, BOTH, 11, &[], seed).unwrap();
            assert!(d.iter().all(|id| id % 2 == 0), "seed {seed}: {d:?}");
            let d = draw(&pool, &a, BOTH, 13, &[], seed).unwrap();
            assert!(d[..11].iter().all(|id| id % 2 == 0), "seed {seed}: {d:?}");
            assert!(d[11..].iter().all(|id| id % 2 == 1), "seed {seed}: {d:?}");
        }
    }

    #[test]
    fn a_seed_replays_its_draw_and_other_seeds_differ() {
        let pool = pool();
        let a = applicant();
        let first = draw(&pool, &a, BOTH, 5, &[], 42).unwrap();
        assert_eq!(draw(&pool, &a, BOTH, 5, &[], 42).unwrap(), first);
        // The order the pool comes in does not matter.
        let mut reversed = pool.clone();
        reversed.reverse();
        assert_eq!(draw(&reversed, &a, BOTH, 5, &[], 42).unwrap(), first);
        let differing = (0..50)
            .filter(|s| draw(&pool, &a, BOTH, 5, &[], *s).unwrap() != first)
            .count();
        assert!(differing >= 45, "only {differing} of 50 seeds differ");
    }

    #[test]
    fn a_small_pool_is_refused_with_the_counts() {
        let pool = vec![
            expert(1, Some(7), "江苏", &[]),
            expert(2, Some(8), "北京", &[]),
            expert(3, Some(9), "北京", &[]),
            expert(4, Some(10), "江苏", &[]),
            expert(5, None, "", &["能源动力与材料"]),
            expert(6, None, "上海", &[]),
            // Listed twice: counted once.
            expert(6, None, "上海", &[]),
        ];
        let e = draw(&pool, &applicant(), BOTH, 3, &[4], 1).unwrap_err();
        assert_eq!(e.code, "pool_too_small");
        assert_eq!(
            e.en,
            "3 expert(s) are needed but only 2 are eligible (1 excluded for the same \
             organization, 2 for the same province, 1 already drawn)"
        );
        assert_eq!(
            e.zh,
            "需要 3 位专家，但只有 2 位可抽取（1 位因同一单位回避，2 位因同一省份回避，1 位已抽取）"
        );
        let mut d = draw(&pool, &applicant(), BOTH, 2, &[4], 1).unwrap();
        assert_eq!(d[0], 5, "the expert in the field comes first");
        d.sort();
        assert_eq!(d, [5, 6]);
        assert!(
            draw(&pool, &applicant(), BOTH, 0, &[], 1)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn combining_by_each_rule() {
        let t = [70.0, 80.0, 90.0, 60.0, 95.0];
        // (70 + 80 + 90 + 60 + 95) / 5 = 395 / 5
        assert_eq!(combine(CombineRule::Mean, &t), Some(79.0));
        // Without 95 and 60: (70 + 80 + 90) / 3
        assert_eq!(combine(CombineRule::TrimmedMean, &t), Some(80.0));
        assert_eq!(combine(CombineRule::Median, &t), Some(80.0));
        // Even count: the mean of 70 and 80.
        assert_eq!(
            combine(CombineRule::Median, &[90.0, 70.0, 60.0, 80.0]),
            Some(75.0)
        );
        // Two totals cannot be trimmed.
        assert_eq!(combine(CombineRule::TrimmedMean, &[70.0, 90.0]), Some(80.0));
        // Three: only the middle one is left.
        assert_eq!(
            combine(CombineRule::TrimmedMean, &[99.0, 10.0, 71.5]),
            Some(71.5)
        );
        for rule in CombineRule::ALL {
            assert_eq!(combine(rule, &[]), None);
            assert_eq!(combine(rule, &[88.5]), Some(88.5));
        }
    }

    #[test]
    fn outliers_are_measured_against_the_median() {
        // Median of 40, 70, 72, 75 is 71: only 40 (31 away) is flagged.
        assert_eq!(
            outliers(&[70.0, 72.0, 75.0, 40.0], 15.0),
            [false, false, false, true]
        );
        // Three experts, one wild: the median 80 flags 40 and leaves 90 (10 away).
        assert_eq!(outliers(&[90.0, 80.0, 40.0], 15.0), [false, false, true]);
        // Median 77.5: 92.5 is exactly 15 away (not flagged), 93 is 15.5 away.
        assert_eq!(
            outliers(&[70.0, 75.0, 80.0, 92.5], 15.0),
            [false, false, false, false]
        );
        assert_eq!(
            outliers(&[70.0, 75.0, 80.0, 93.0], 15.0),
            [false, false, false, true]
        );
        assert_eq!(outliers(&[10.0, 90.0], 5.0), [false, false]);
        assert!(outliers(&[], 5.0).is_empty());
    }
}
