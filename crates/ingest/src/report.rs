//! The consolidation report (汇总报告): capacity and counts per unit and category, valid
//! records, exact and near duplicates, flags and annex completeness, computed from the
//! catalog. The JSON form of [`Report`] is documented in docs/INGEST.md.

use crate::engine::Record;
use crate::minhash::{self, Signature};
use crate::{Annex, Category, Flag, Kind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Annex candidates below this confidence make the annex "ambiguous", not "present".
pub const ANNEX_CONFIDENCE: f32 = 0.6;
/// Estimated Jaccard similarity from which two documents are near duplicates.
pub const NEAR_THRESHOLD: f64 = 0.8;

/// A catalog entry as the report sees it: its database id and record.
pub struct Entry {
    pub id: i64,
    pub record: Record,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileRef {
    pub id: i64,
    pub path: String,
    pub unit: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Totals {
    /// Catalog entries: files on disk and entries inside archives.
    pub files: u64,
    pub bytes: u64,
    /// Entries counted once per distinct content.
    pub distinct_files: u64,
    pub distinct_bytes: u64,
    /// Bytes that exact deduplication saves (size × (copies − 1)).
    pub saved_bytes: u64,
    /// Distinct contents without a disqualifying flag (有效记录).
    pub valid_records: u64,
    pub flagged_files: u64,
    pub archives_opened: u64,
    pub archive_entries: u64,
    pub hostile_archives: u64,
    pub duplicate_groups: u64,
    pub near_duplicate_groups: u64,
    pub empty_files: u64,
    pub hard_links: u64,
    pub missing_annexes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CategoryRow {
    pub category: Category,
    pub zh: String,
    pub en: String,
    pub files: u64,
    pub bytes: u64,
    pub valid_records: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UnitRow {
    pub unit: String,
    pub files: u64,
    pub bytes: u64,
    /// Distinct valid contents of this unit (a copy of another unit's file still counts
    /// here; the totals count it once).
    pub valid_records: u64,
    pub duplicates: u64,
    pub flagged: u64,
    /// Material categories this unit has sent nothing in ("other" is never required).
    pub missing_categories: Vec<Category>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cell {
    pub unit: String,
    pub category: Category,
    pub files: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DuplicateGroup {
    pub hash: String,
    pub size: u64,
    pub redundant_bytes: u64,
    pub files: Vec<FileRef>,
}

/// One distinct content in a near-duplicate group, with every path that holds it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NearMember {
    pub hash: String,
    pub size: u64,
    pub files: Vec<FileRef>,
    pub text_head: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NearGroup {
    /// Stable key (from the member hashes) under which a person's decision is kept.
    pub key: String,
    pub members: Vec<NearMember>,
    /// Pairs of member indexes with their estimated similarity.
    pub pairs: Vec<(usize, usize, f64)>,
    /// A person's decision: "keep_all", or "keep:<hash>" (the others are duplicates).
    pub decision: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FlagRow {
    pub id: i64,
    pub path: String,
    pub unit: String,
    pub flag: Flag,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnexState {
    Present,
    Ambiguous,
    Missing,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AnnexStatus {
    pub annex: Annex,
    pub number: u8,
    pub zh: String,
    pub state: AnnexState,
    pub files: Vec<FileRef>,
}

/// The seven annexes of one certificate proposal found in the materials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CertificateCompleteness {
    pub unit: String,
    pub certificate: String,
    pub annexes: Vec<AnnexStatus>,
    pub missing: Vec<Annex>,
    pub ambiguous: Vec<Annex>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub totals: Totals,
    pub categories: Vec<CategoryRow>,
    pub units: Vec<UnitRow>,
    pub cells: Vec<Cell>,
    pub duplicate_groups: Vec<DuplicateGroup>,
    pub near_duplicate_groups: Vec<NearGroup>,
    pub flags: Vec<FlagRow>,
    pub certificates: Vec<CertificateCompleteness>,
}

fn file_ref(e: &Entry) -> FileRef {
    FileRef {
        id: e.id,
        path: e.record.path.clone(),
        unit: e.record.unit.clone(),
    }
}

/// A hard link other than the first path of its file: the same bytes on disk, so not a
/// duplicate.
fn is_secondary_link(r: &Record) -> bool {
    r.flags
        .iter()
        .any(|f| f.flag == Flag::HardLink && f.detail.starts_with("same file as"))
}

fn is_valid(r: &Record) -> bool {
    r.hash.is_some() && !r.flags.iter().any(|f| f.flag.invalidates())
}

/// Build the report from every catalog entry of a run. `near_decisions` maps a near group's
/// key to a person's decision.
pub fn build(entries: &[Entry], near_decisions: &HashMap<String, String>) -> Report {
    // Archives whose entries are cataloged (at any depth) are containers, not records:
    // their content is counted through their entries.
    let mut paths: Vec<&str> = entries.iter().map(|e| e.record.path.as_str()).collect();
    paths.sort_unstable();
    let has_entries = |p: &str| {
        let prefix = format!("{p}/");
        let i = paths.partition_point(|x| *x < prefix.as_str());
        i < paths.len() && paths[i].starts_with(&prefix)
    };
    let opened: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e.record.kind.is_archive() && has_entries(&e.record.path))
        .map(|e| e.record.path.as_str())
        .collect();
    let records: Vec<&Entry> = entries
        .iter()
        .filter(|e| !(e.record.kind.is_archive() && opened.contains(e.record.path.as_str())))
        .collect();

    let mut t = Totals {
        archives_opened: opened.len() as u64,
        ..Totals::default()
    };
    let mut by_hash: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in &records {
        let r = &e.record;
        t.files += 1;
        t.bytes += r.size;
        if r.archive.is_some() {
            t.archive_entries += 1;
        }
        if !r.flags.is_empty() {
            t.flagged_files += 1;
        }
        if r.has_flag(Flag::HostileArchive) {
            t.hostile_archives += 1;
        }
        if r.kind == Kind::Empty || r.has_flag(Flag::Empty) {
            t.empty_files += 1;
        }
        if is_secondary_link(r) {
            t.hard_links += 1;
            continue;
        }
        if let Some(h) = r.hash.as_deref()
            && r.size > 0
        {
            by_hash.entry(h).or_default().push(e);
        }
    }

    // Exact duplicates and distinct contents.
    let mut duplicate_groups = Vec::new();
    let mut first_of_hash: HashMap<&str, i64> = HashMap::new();
    for (hash, group) in &by_hash {
        let size = group[0].record.size;
        t.distinct_files += 1;
        t.distinct_bytes += size;
        first_of_hash.insert(hash, group[0].id);
        if group.iter().any(|e| is_valid(&e.record)) {
            t.valid_records += 1;
        }
        if group.len() > 1 {
            let redundant = size * (group.len() as u64 - 1);
            t.saved_bytes += redundant;
            duplicate_groups.push(DuplicateGroup {
                hash: hash.to_string(),
                size,
                redundant_bytes: redundant,
                files: group.iter().map(|e| file_ref(e)).collect(),
            });
        }
    }
    duplicate_groups.sort_by(|a, b| {
        b.redundant_bytes
            .cmp(&a.redundant_bytes)
            .then_with(|| a.files[0].path.cmp(&b.files[0].path))
    });
    t.duplicate_groups = duplicate_groups.len() as u64;

    // Per category, unit and cell.
    let mut cats: BTreeMap<Category, CategoryRow> = Category::ALL
        .into_iter()
        .map(|c| {
            (
                c,
                CategoryRow {
                    category: c,
                    zh: c.zh().into(),
                    en: c.en().into(),
                    files: 0,
                    bytes: 0,
                    valid_records: 0,
                },
            )
        })
        .collect();
    let mut units: BTreeMap<&str, UnitRow> = BTreeMap::new();
    let mut cells: BTreeMap<(&str, Category), Cell> = BTreeMap::new();
    let mut seen_in_unit: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut seen_in_cat: BTreeSet<(Category, &str)> = BTreeSet::new();
    let mut unit_cats: BTreeMap<&str, BTreeSet<Category>> = BTreeMap::new();
    for e in &records {
        let r = &e.record;
        let c = cats.get_mut(&r.category).expect("all categories present");
        c.files += 1;
        c.bytes += r.size;
        let u = units.entry(r.unit.as_str()).or_insert_with(|| UnitRow {
            unit: r.unit.clone(),
            files: 0,
            bytes: 0,
            valid_records: 0,
            duplicates: 0,
            flagged: 0,
            missing_categories: Vec::new(),
        });
        u.files += 1;
        u.bytes += r.size;
        if !r.flags.is_empty() {
            u.flagged += 1;
        }
        unit_cats
            .entry(r.unit.as_str())
            .or_default()
            .insert(r.category);
        let cell = cells
            .entry((r.unit.as_str(), r.category))
            .or_insert_with(|| Cell {
                unit: r.unit.clone(),
                category: r.category,
                files: 0,
                bytes: 0,
            });
        cell.files += 1;
        cell.bytes += r.size;
        if is_secondary_link(r) {
            continue;
        }
        if let Some(h) = r.hash.as_deref() {
            if r.size > 0 && first_of_hash.get(h) != Some(&e.id) {
                u.duplicates += 1;
            }
            if is_valid(r) && r.size > 0 {
                if seen_in_unit.insert((r.unit.as_str(), h)) {
                    u.valid_records += 1;
                }
                if seen_in_cat.insert((r.category, h)) {
                    c.valid_records += 1;
                }
            }
        }
    }
    for (unit, row) in units.iter_mut() {
        let have = unit_cats.get(unit).cloned().unwrap_or_default();
        row.missing_categories = Category::ALL
            .into_iter()
            .filter(|c| *c != Category::Other && !have.contains(c))
            .collect();
    }

    // Near duplicates over distinct contents that carry a fingerprint.
    let mut sig_members: Vec<(&str, Signature)> = Vec::new();
    for (hash, group) in &by_hash {
        if let Some(sig) = group
            .iter()
            .find_map(|e| e.record.minhash.as_deref())
            .and_then(Signature::from_bytes)
        {
            sig_members.push((hash, sig));
        }
    }
    let sigs: Vec<(usize, Signature)> = sig_members
        .iter()
        .enumerate()
        .map(|(i, (_, s))| (i, s.clone()))
        .collect();
    let mut near_duplicate_groups = Vec::new();
    for g in minhash::near_duplicate_groups(&sigs, NEAR_THRESHOLD) {
        let hashes: Vec<&str> = g.members.iter().map(|&i| sig_members[i].0).collect();
        let position: HashMap<usize, usize> =
            g.members.iter().enumerate().map(|(p, &i)| (i, p)).collect();
        let mut key_input: Vec<&str> = hashes.clone();
        key_input.sort();
        let key = blake3::hash(key_input.join(",").as_bytes()).to_hex()[..16].to_string();
        let members = hashes
            .iter()
            .map(|h| {
                let group = &by_hash[h];
                NearMember {
                    hash: h.to_string(),
                    size: group[0].record.size,
                    files: group.iter().map(|e| file_ref(e)).collect(),
                    text_head: group[0].record.text_head.chars().take(400).collect(),
                }
            })
            .collect();
        let pairs = g
            .pairs
            .iter()
            .filter_map(|(a, b, s)| Some((*position.get(a)?, *position.get(b)?, *s)))
            .collect();
        near_duplicate_groups.push(NearGroup {
            decision: near_decisions.get(&key).cloned(),
            key,
            members,
            pairs,
        });
    }
    t.near_duplicate_groups = near_duplicate_groups.len() as u64;

    // Flags.
    let mut flags = Vec::new();
    for e in entries {
        for f in &e.record.flags {
            flags.push(FlagRow {
                id: e.id,
                path: e.record.path.clone(),
                unit: e.record.unit.clone(),
                flag: f.flag,
                detail: f.detail.clone(),
            });
        }
    }
    flags.sort_by(|a, b| a.flag.cmp(&b.flag).then_with(|| a.path.cmp(&b.path)));

    // Annex completeness per (unit, certificate).
    let mut proposals: BTreeMap<(&str, &str), Vec<&Entry>> = BTreeMap::new();
    for e in &records {
        if let (Some(_), Some(cert)) = (e.record.annex, e.record.certificate.as_deref()) {
            proposals
                .entry((e.record.unit.as_str(), cert))
                .or_default()
                .push(e);
        }
    }
    let mut certificates = Vec::new();
    for ((unit, cert), files) in proposals {
        let mut annexes = Vec::new();
        let mut missing = Vec::new();
        let mut ambiguous = Vec::new();
        for annex in Annex::ALL {
            let cands: Vec<&&Entry> = files
                .iter()
                .filter(|e| e.record.annex == Some(annex))
                .collect();
            let state = if cands.is_empty() {
                missing.push(annex);
                AnnexState::Missing
            } else if cands
                .iter()
                .any(|e| e.record.annex_confidence >= ANNEX_CONFIDENCE && is_valid(&e.record))
            {
                AnnexState::Present
            } else {
                ambiguous.push(annex);
                AnnexState::Ambiguous
            };
            annexes.push(AnnexStatus {
                annex,
                number: annex.number(),
                zh: annex.zh().into(),
                state,
                files: cands.iter().map(|e| file_ref(e)).collect(),
            });
        }
        t.missing_annexes += missing.len() as u64;
        certificates.push(CertificateCompleteness {
            unit: unit.to_string(),
            certificate: cert.to_string(),
            annexes,
            missing,
            ambiguous,
        });
    }

    Report {
        totals: t,
        categories: cats.into_values().collect(),
        units: units.into_values().collect(),
        cells: cells.into_values().collect(),
        duplicate_groups,
        near_duplicate_groups,
        flags,
        certificates,
    }
}

/// Bytes as people read them: GB with two decimals from 1 GB, MB below, KB below that.
pub fn human_bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    if f >= K * K * K {
        format!("{:.2} GB", f / (K * K * K))
    } else if f >= K * K {
        format!("{:.1} MB", f / (K * K))
    } else if f >= K {
        format!("{:.0} KB", f / K)
    } else {
        format!("{n} B")
    }
}
