//! A batch's figures (批次统计): how many applied and how many were shortlisted, by field
//! and by province. Defined as the ministry counts them (seed 002 §6: 984 proposals from
//! 602 units became 355 certificates from 270 organizations, 36 %).

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One submitted proposal as the statistics see it. Drafts never reach here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalFact {
    pub teo_id: i64,
    pub application_id: i64,
    pub province: Option<String>,
    pub field: String,
    /// Approved in deliberation (shortlisted once published).
    pub shortlisted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The field or province ("" shown as "未填" / "none" by the page).
    pub key: String,
    pub proposals: usize,
    pub shortlisted: usize,
    /// shortlisted / proposals, 0..=1 (0 when no proposals).
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchStats {
    /// Applications with at least one submitted proposal.
    pub applications: usize,
    /// Distinct organizations that applied (申报单位).
    pub units: usize,
    /// Submitted proposals (申报证书数).
    pub proposals: usize,
    /// Shortlisted certificates (入围证书数).
    pub shortlisted: usize,
    /// Distinct organizations with at least one shortlisted certificate (入围组织数).
    pub shortlisted_units: usize,
    /// shortlisted / proposals (0 when none).
    pub pass_rate: f64,
    /// By field, most proposals first (ties by key).
    pub by_field: Vec<Group>,
    /// By province, most proposals first (ties by key).
    pub by_province: Vec<Group>,
}

pub fn batch_stats(facts: &[ProposalFact]) -> BatchStats {
    let distinct = |f: &dyn Fn(&ProposalFact) -> Option<i64>| -> usize {
        facts.iter().filter_map(f).collect::<BTreeSet<i64>>().len()
    };
    let proposals = facts.len();
    let shortlisted = facts.iter().filter(|f| f.shortlisted).count();
    BatchStats {
        applications: distinct(&|f| Some(f.application_id)),
        units: distinct(&|f| Some(f.teo_id)),
        proposals,
        shortlisted,
        shortlisted_units: distinct(&|f| f.shortlisted.then_some(f.teo_id)),
        pass_rate: rate(shortlisted, proposals),
        by_field: groups(facts, |f| f.field.trim()),
        by_province: groups(facts, |f| f.province.as_deref().unwrap_or("").trim()),
    }
}

fn rate(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Facts grouped by `key`, most proposals first, ties by key.
fn groups<'a>(facts: &'a [ProposalFact], key: impl Fn(&'a ProposalFact) -> &'a str) -> Vec<Group> {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in facts {
        let c = counts.entry(key(f)).or_default();
        c.0 += 1;
        c.1 += usize::from(f.shortlisted);
    }
    let mut out: Vec<Group> = counts
        .into_iter()
        .map(|(k, (proposals, shortlisted))| Group {
            key: k.to_string(),
            proposals,
            shortlisted,
            rate: rate(shortlisted, proposals),
        })
        .collect();
    // The map already orders by key and the sort is stable, so ties stay in key order.
    out.sort_by_key(|g| std::cmp::Reverse(g.proposals));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(teo: i64, app: i64, province: Option<&str>, field: &str, ok: bool) -> ProposalFact {
        ProposalFact {
            teo_id: teo,
            application_id: app,
            province: province.map(str::to_string),
            field: field.into(),
            shortlisted: ok,
        }
    }

    fn summary(g: &[Group]) -> Vec<(&str, usize, usize)> {
        g.iter()
            .map(|g| (g.key.as_str(), g.proposals, g.shortlisted))
            .collect()
    }

    #[test]
    fn a_small_batch_counted_by_hand() {
        let facts = [
            fact(1, 10, Some("北京"), "装备制造", true),
            fact(1, 10, Some("北京"), "电子与信息", false),
            fact(1, 11, Some("北京"), "装备制造", true),
            fact(2, 20, Some("江苏"), "电子与信息", false),
            fact(2, 20, Some("江苏"), "装备制造", false),
            fact(3, 30, None, "电子与信息", true),
            fact(4, 40, Some("上海"), "财经商贸", false),
            fact(4, 40, Some("上海"), "装备制造", false),
        ];
        let s = batch_stats(&facts);
        assert_eq!(s.applications, 5);
        assert_eq!(s.units, 4);
        assert_eq!(s.proposals, 8);
        assert_eq!(s.shortlisted, 3);
        assert_eq!(s.shortlisted_units, 2);
        assert_eq!(s.pass_rate, 0.375);
        assert_eq!(
            summary(&s.by_field),
            [("装备制造", 4, 2), ("电子与信息", 3, 1), ("财经商贸", 1, 0)]
        );
        assert_eq!(s.by_field[0].rate, 0.5);
        // 北京 3; 上海 and 江苏 tie on 2 and sort by key; the blank province last.
        assert_eq!(
            summary(&s.by_province),
            [("北京", 3, 2), ("上海", 2, 0), ("江苏", 2, 0), ("", 1, 1)]
        );
        assert_eq!(s.by_province[3].rate, 1.0);
    }

    #[test]
    fn an_empty_batch_has_zero_rates() {
        let s = batch_stats(&[]);
        assert_eq!(s.proposals, 0);
        assert_eq!(s.pass_rate, 0.0);
        assert!(s.by_field.is_empty() && s.by_province.is_empty());
    }

    /// Shaped like the fourth batch (seed 002 §6): 984 proposals from 602 organizations,
    /// 355 shortlisted from 270 organizations.
    #[test]
    fn the_fourth_batch_shape_gives_36_percent() {
        let fields = ["装备制造", "电子与信息", "财经商贸", "医药卫生"];
        let mut facts = Vec::new();
        // Every organization one proposal; the first 270 of them shortlisted.
        for org in 0..602 {
            facts.push(fact(
                org,
                org,
                Some("北京"),
                fields[org as usize % 4],
                org < 270,
            ));
        }
        // 382 more proposals from the shortlisted organizations, 85 of them shortlisted.
        for k in 0..382 {
            let org = k % 270;
            facts.push(fact(org, org, Some("江苏"), fields[k as usize % 4], k < 85));
        }
        let s = batch_stats(&facts);
        assert_eq!(s.proposals, 984);
        assert_eq!(s.units, 602);
        assert_eq!(s.applications, 602);
        assert_eq!(s.shortlisted, 355);
        assert_eq!(s.shortlisted_units, 270);
        assert_eq!((s.pass_rate * 100.0).round() / 100.0, 0.36);
        assert!((s.pass_rate - 0.3608).abs() < 1e-4, "{}", s.pass_rate);
        assert_eq!(s.by_field.iter().map(|g| g.proposals).sum::<usize>(), 984);
        assert_eq!(
            summary(&s.by_province),
            [("北京", 602, 270), ("江苏", 382, 85)]
        );
    }
}
