//! What a candidate sees: a form's items in a per-candidate order, options shuffled, and
//! no keys. The order comes from a seed stored with the candidate's attempt, so a
//! candidate who reconnects sees exactly the page they left.

use crate::item::{Choice, Interaction, ItemContent, ItemKind};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// An item as delivered: the candidate-facing parts only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveredItem {
    /// Position of the item in the form (stable key for responses).
    pub position: u32,
    pub kind: ItemKind,
    pub stem: String,
    pub points: f64,
    /// Options in the order this candidate sees them (choice, ordering).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// Matching: left column, in this candidate's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Choice>,
    /// Matching: right column, in this candidate's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Choice>,
    /// Text entry: number of blanks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub blanks: u32,
    /// Whether more than one option may be chosen.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_length: Option<u32>,
    /// Images the stem and options show (by content hash, served to signed-in users).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<crate::item::MediaRef>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One item of a form as given to [`deliver`]: its position in the form, the points the
/// form gives it, its testlet (kept together and in order), and its content.
pub struct FormEntry<'a> {
    pub position: u32,
    pub points: f64,
    pub testlet: Option<&'a str>,
    pub content: &'a ItemContent,
}

/// Shuffle `v` keeping `fixed` entries where they are.
fn shuffle_unfixed(v: &mut [Choice], rng: &mut ChaCha8Rng) {
    let free: Vec<usize> = (0..v.len()).filter(|i| !v[*i].fixed).collect();
    let mut moved: Vec<Choice> = free.iter().map(|i| v[*i].clone()).collect();
    moved.shuffle(rng);
    for (slot, c) in free.into_iter().zip(moved) {
        v[slot] = c;
    }
}

/// The candidate's view of a form. `shuffle_items` reorders items (testlets move as one
/// block, their items in order); options are shuffled where the item allows it. Theory
/// items only: practical tasks are scored at the site, not answered online.
pub fn deliver(entries: &[FormEntry<'_>], seed: u64, shuffle_items: bool) -> Vec<DeliveredItem> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Blocks: a testlet's items together, others alone, in form order.
    let mut blocks: Vec<Vec<&FormEntry<'_>>> = Vec::new();
    for e in entries.iter().filter(|e| e.content.kind.is_theory()) {
        match e.testlet {
            Some(t) => {
                if let Some(b) = blocks
                    .iter_mut()
                    .find(|b| b.first().and_then(|f| f.testlet) == Some(t))
                {
                    b.push(e);
                } else {
                    blocks.push(vec![e]);
                }
            }
            None => blocks.push(vec![e]),
        }
    }
    if shuffle_items {
        blocks.shuffle(&mut rng);
    }
    let mut out = Vec::with_capacity(entries.len());
    for e in blocks.into_iter().flatten() {
        let c = e.content;
        let mut d = DeliveredItem {
            position: e.position,
            kind: c.kind,
            stem: c.stem.clone(),
            points: e.points,
            choices: vec![],
            sources: vec![],
            targets: vec![],
            blanks: 0,
            multiple: false,
            expected_length: None,
            media: c.media.clone(),
        };
        match &c.interaction {
            Interaction::Choice {
                choices,
                correct,
                shuffle,
            } => {
                d.choices = choices.clone();
                // True/false keeps 对 before 错.
                if *shuffle && c.kind != ItemKind::TrueFalse {
                    shuffle_unfixed(&mut d.choices, &mut rng);
                }
                d.multiple = c.kind == ItemKind::MultipleChoice || correct.len() > 1;
            }
            Interaction::TextEntry { blanks } => d.blanks = blanks.len() as u32,
            Interaction::Match {
                sources,
                targets,
                shuffle,
                ..
            } => {
                d.sources = sources.clone();
                d.targets = targets.clone();
                if *shuffle {
                    shuffle_unfixed(&mut d.targets, &mut rng);
                }
            }
            Interaction::Order { choices, .. } => {
                // Ordering is always presented out of order, or the key would show.
                d.choices = choices.clone();
                shuffle_unfixed(&mut d.choices, &mut rng);
                if d.choices.len() > 1
                    && d.choices
                        .iter()
                        .map(|c| &c.id)
                        .eq(choices.iter().map(|c| &c.id))
                {
                    d.choices.rotate_left(1);
                }
            }
            Interaction::ExtendedText {
                expected_length, ..
            } => d.expected_length = *expected_length,
            Interaction::Practical { .. } => {}
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{Interaction, Scoring};

    fn content(n: usize) -> ItemContent {
        ItemContent {
            kind: ItemKind::SingleChoice,
            stem: format!("题{n}"),
            interaction: Interaction::Choice {
                choices: ["A", "B", "C", "D"]
                    .iter()
                    .map(|id| Choice::new(*id, *id))
                    .chain(std::iter::once(Choice {
                        id: "E".into(),
                        text: "以上都对".into(),
                        fixed: true,
                    }))
                    .collect(),
                correct: vec!["A".into()],
                shuffle: true,
            },
            points: 1.0,
            scoring: Scoring::AllOrNothing,
            explanation: Some("解析".into()),
            media: vec![],
        }
    }

    #[test]
    fn same_seed_same_view_other_seed_other_order_no_keys() {
        let items: Vec<ItemContent> = (0..20).map(content).collect();
        let entries: Vec<FormEntry> = items
            .iter()
            .enumerate()
            .map(|(i, c)| FormEntry {
                position: i as u32,
                points: 1.0,
                testlet: if (5..8).contains(&i) { Some("T") } else { None },
                content: c,
            })
            .collect();
        let a = deliver(&entries, 42, true);
        let b = deliver(&entries, 42, true);
        let c = deliver(&entries, 43, true);
        assert_eq!(a, b);
        assert_ne!(
            a.iter().map(|d| d.position).collect::<Vec<_>>(),
            c.iter().map(|d| d.position).collect::<Vec<_>>()
        );
        let mut pos: Vec<u32> = a.iter().map(|d| d.position).collect();
        // The testlet stays together and in order.
        let at = pos.iter().position(|p| *p == 5).unwrap();
        assert_eq!(&pos[at..at + 3], &[5, 6, 7]);
        pos.sort();
        assert_eq!(pos, (0..20).collect::<Vec<_>>(), "every item exactly once");
        for d in &a {
            assert_eq!(d.choices.last().unwrap().id, "E", "fixed option stays last");
            assert_eq!(d.choices.len(), 5);
        }
        let json = serde_json::to_string(&a).unwrap();
        assert!(!json.contains("correct") && !json.contains("解析"));
    }
}
