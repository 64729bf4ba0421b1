//! What changed between two submitted versions of a proposal (修改前后对比).

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};
use std::collections::{BTreeMap, BTreeSet};

/// A proposal as submitted: the facts a reviewer compares between versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: i64,
    pub name_zh: String,
    pub field: String,
    /// The applicant's statement (申报说明), free text.
    pub summary: String,
    pub standard_version: Option<i64>,
    pub bank_items: i64,
    /// Annex number (1..=7) → the file it holds.
    pub annexes: BTreeMap<u8, AnnexFile>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnexFile {
    pub file_name: String,
    /// Content hash (blake3 hex or sha256 hex, whichever the object store used).
    pub hash: String,
    pub size: i64,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A plain field changed (name_zh, field, standard_version, bank_items).
    Field {
        field: String,
        before: String,
        after: String,
    },
    /// The summary text changed: its lines, each marked.
    Text {
        field: String,
        lines: Vec<DiffLine>,
    },
    AnnexAdded {
        annex: u8,
        after: AnnexFile,
    },
    AnnexRemoved {
        annex: u8,
        before: AnnexFile,
    },
    /// Same slot, different content (a different hash).
    AnnexReplaced {
        annex: u8,
        before: AnnexFile,
        after: AnnexFile,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// "+", "-" or " " (unchanged context; at most 2 lines around each change are kept).
    pub tag: String,
    pub text: String,
}

/// Every change from `before` to `after`, in a stable order: fields, summary text, annexes
/// by number. A renamed file with the same hash is not a change.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<Change> {
    let mut changes = Vec::new();
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for (field, b, a) in [
        ("name_zh", before.name_zh.clone(), after.name_zh.clone()),
        ("field", before.field.clone(), after.field.clone()),
        (
            "standard_version",
            opt(before.standard_version),
            opt(after.standard_version),
        ),
        (
            "bank_items",
            before.bank_items.to_string(),
            after.bank_items.to_string(),
        ),
    ] {
        if b != a {
            changes.push(Change::Field {
                field: field.into(),
                before: b,
                after: a,
            });
        }
    }

    let lines = text_lines(&before.summary, &after.summary);
    if !lines.is_empty() {
        changes.push(Change::Text {
            field: "summary".into(),
            lines,
        });
    }

    let slots: BTreeSet<u8> = before
        .annexes
        .keys()
        .chain(after.annexes.keys())
        .copied()
        .collect();
    for annex in slots {
        match (before.annexes.get(&annex), after.annexes.get(&annex)) {
            (None, Some(a)) => changes.push(Change::AnnexAdded {
                annex,
                after: a.clone(),
            }),
            (Some(b), None) => changes.push(Change::AnnexRemoved {
                annex,
                before: b.clone(),
            }),
            // Hex case depends on who computed the hash, not on the content.
            (Some(b), Some(a)) if !b.hash.eq_ignore_ascii_case(&a.hash) => {
                changes.push(Change::AnnexReplaced {
                    annex,
                    before: b.clone(),
                    after: a.clone(),
                })
            }
            _ => {}
        }
    }
    changes
}

/// How many unchanged lines are kept on each side of a change.
const CONTEXT: usize = 2;

/// The changed lines of a text with their context; empty when the texts read the same.
fn text_lines(before: &str, after: &str) -> Vec<DiffLine> {
    // Browsers post CRLF and editors differ on the final newline; neither is a change a
    // reviewer should see.
    let norm = |s: &str| {
        let mut t = s.replace("\r\n", "\n");
        if !t.is_empty() && !t.ends_with('\n') {
            t.push('\n');
        }
        t
    };
    let (b, a) = (norm(before), norm(after));
    if b == a {
        return Vec::new();
    }
    let d = TextDiff::from_lines(&b, &a);
    d.grouped_ops(CONTEXT)
        .iter()
        .flatten()
        .flat_map(|op| d.iter_changes(op))
        .map(|c| DiffLine {
            tag: match c.tag() {
                ChangeTag::Equal => " ",
                ChangeTag::Delete => "-",
                ChangeTag::Insert => "+",
            }
            .into(),
            text: c.value().trim_end_matches('\n').to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, hash: &str) -> AnnexFile {
        AnnexFile {
            file_name: name.into(),
            hash: hash.into(),
            size: 1024,
        }
    }

    fn v1() -> Snapshot {
        Snapshot {
            version: 1,
            name_zh: "继电保护检修".into(),
            field: "能源动力与材料".into(),
            summary: "a\nb\nc\nd\ne\nf\ng\nh\ni\nj".into(),
            standard_version: Some(1),
            bank_items: 120,
            annexes: [
                (1, file("标准.docx", "aa11")),
                (3, file("考核方案.docx", "cc33")),
                (5, file("成本.xlsx", "ee55")),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn lines(spec: &[(&str, &str)]) -> Vec<DiffLine> {
        spec.iter()
            .map(|(t, s)| DiffLine {
                tag: t.to_string(),
                text: s.to_string(),
            })
            .collect()
    }

    #[test]
    fn identical_versions_have_no_changes() {
        let mut b = v1();
        assert!(diff(&v1(), &b).is_empty());
        // Only the version number, the line endings and a renamed file with the same
        // content differ.
        b.version = 2;
        b.summary = v1().summary.replace('\n', "\r\n") + "\r\n";
        b.annexes
            .insert(1, file("职业技能等级标准（终稿）.docx", "AA11"));
        assert!(diff(&v1(), &b).is_empty(), "{:?}", diff(&v1(), &b));
    }

    #[test]
    fn plain_fields_report_before_and_after() {
        let mut b = v1();
        b.field = "装备制造".into();
        b.standard_version = None;
        b.bank_items = 150;
        assert_eq!(
            diff(&v1(), &b),
            vec![
                Change::Field {
                    field: "field".into(),
                    before: "能源动力与材料".into(),
                    after: "装备制造".into(),
                },
                Change::Field {
                    field: "standard_version".into(),
                    before: "1".into(),
                    after: "".into(),
                },
                Change::Field {
                    field: "bank_items".into(),
                    before: "120".into(),
                    after: "150".into(),
                },
            ]
        );
    }

    #[test]
    fn summary_changes_keep_two_lines_of_context() {
        let mut b = v1();
        // Change "c" and "i": two hunks, each with up to two lines either side.
        b.summary = "a\nb\nC\nd\ne\nf\ng\nh\nI\nj".into();
        let d = diff(&v1(), &b);
        assert_eq!(d.len(), 1);
        let Change::Text { field, lines: got } = &d[0] else {
            panic!("{d:?}")
        };
        assert_eq!(field, "summary");
        assert_eq!(
            *got,
            lines(&[
                (" ", "a"),
                (" ", "b"),
                ("-", "c"),
                ("+", "C"),
                (" ", "d"),
                (" ", "e"),
                (" ", "g"),
                (" ", "h"),
                ("-", "i"),
                ("+", "I"),
                (" ", "j"),
            ])
        );
        // "f" lies three lines from either change, so it is left out.
        assert!(!got.iter().any(|l| l.text == "f"));
    }

    #[test]
    fn added_and_removed_summary_lines() {
        let mut a = v1();
        a.summary = "x\ny".into();
        let mut b = v1();
        b.summary = "x\nnew\ny".into();
        assert_eq!(
            diff(&a, &b),
            vec![Change::Text {
                field: "summary".into(),
                lines: lines(&[(" ", "x"), ("+", "new"), (" ", "y")]),
            }]
        );
        b.summary = String::new();
        assert_eq!(
            diff(&a, &b),
            vec![Change::Text {
                field: "summary".into(),
                lines: lines(&[("-", "x"), ("-", "y")]),
            }]
        );
    }

    #[test]
    fn annexes_added_removed_and_replaced_in_number_order() {
        let mut b = v1();
        b.annexes.remove(&1);
        b.annexes.insert(2, file("试点.docx", "bb22"));
        b.annexes.insert(5, file("成本.xlsx", "ee56"));
        b.annexes.insert(3, file("方案-改.docx", "cc33"));
        assert_eq!(
            diff(&v1(), &b),
            vec![
                Change::AnnexRemoved {
                    annex: 1,
                    before: file("标准.docx", "aa11"),
                },
                Change::AnnexAdded {
                    annex: 2,
                    after: file("试点.docx", "bb22"),
                },
                Change::AnnexReplaced {
                    annex: 5,
                    before: file("成本.xlsx", "ee55"),
                    after: file("成本.xlsx", "ee56"),
                },
            ]
        );
    }

    #[test]
    fn changes_come_fields_then_text_then_annexes() {
        let mut b = v1();
        b.annexes.clear();
        b.summary.push_str("\nk");
        b.name_zh = "继电保护检修（修订）".into();
        let kinds: Vec<String> = diff(&v1(), &b)
            .iter()
            .map(|c| {
                serde_json::to_value(c).unwrap()["kind"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "field",
                "text",
                "annex_removed",
                "annex_removed",
                "annex_removed"
            ]
        );
    }
}
