//! The data item analysis works on: a scored matrix (persons × items) and, for choice
//! items, the option each person chose with the key.
//!
//! Two kinds of blank are kept apart. *Not presented* (未呈现: the item was not on this
//! person's form) is stored as NaN in the score matrix and [`NOT_PRESENTED`] in the
//! choice matrix; item statistics then use only the persons who had the item. *Omitted*
//! (未作答: the item was shown but left blank) scores 0 and is its own row of a
//! distractor table.

use serde::{Deserialize, Serialize};

/// Choice-matrix cell of an item the person was not given.
pub const NOT_PRESENTED: u16 = u16::MAX;
/// Choice-matrix cell of an item shown but left blank.
pub const OMITTED: u16 = 0;
/// Options a choice item may have: the cell is a bit set of option indices in a `u16`,
/// all bits set meaning "not presented", so at most 15.
pub const MAX_OPTIONS: usize = 15;

/// Scores of persons on items, row-major (one row per person), `f32`, NaN where the
/// item was not presented to the person.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreMatrix {
    item_ids: Vec<String>,
    max_points: Vec<f64>,
    n_persons: usize,
    cells: Vec<f32>,
}

/// Why a matrix could not be built from the parts given (a programming error of the
/// caller more than bad user input; readers report user errors with positions).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ShapeError(pub String);

impl ScoreMatrix {
    /// `cells.len()` must be persons × items; each max must be positive and finite;
    /// each presented score must lie in 0..=max.
    pub fn new(
        item_ids: Vec<String>,
        max_points: Vec<f64>,
        cells: Vec<f32>,
    ) -> Result<ScoreMatrix, ShapeError> {
        let k = item_ids.len();
        if max_points.len() != k {
            return Err(ShapeError(format!(
                "{} items but {} maximum scores",
                k,
                max_points.len()
            )));
        }
        if let Some((j, m)) = max_points
            .iter()
            .enumerate()
            .find(|(_, m)| !(m.is_finite() && **m > 0.0))
        {
            return Err(ShapeError(format!(
                "item {} has maximum score {m}; it must be positive",
                item_ids[j]
            )));
        }
        if k == 0 {
            if !cells.is_empty() {
                return Err(ShapeError("cells given for no items".into()));
            }
            return Ok(ScoreMatrix {
                item_ids,
                max_points,
                n_persons: 0,
                cells,
            });
        }
        if !cells.len().is_multiple_of(k) {
            return Err(ShapeError(format!(
                "{} cells do not make whole rows of {k} items",
                cells.len()
            )));
        }
        for (i, x) in cells.iter().enumerate() {
            let j = i % k;
            if !(x.is_nan() || *x >= 0.0 && f64::from(*x) <= max_points[j] + 1e-6) {
                return Err(ShapeError(format!(
                    "person {} item {}: score {x} is outside 0..={}",
                    i / k,
                    item_ids[j],
                    max_points[j]
                )));
            }
        }
        Ok(ScoreMatrix {
            n_persons: cells.len() / k,
            item_ids,
            max_points,
            cells,
        })
    }

    /// Dichotomous data given as response patterns with how many persons gave each
    /// (the form published data sets such as LSAT take): every item scores 0/1.
    pub fn from_patterns(
        item_ids: Vec<String>,
        patterns: &[(&[u8], usize)],
    ) -> Result<ScoreMatrix, ShapeError> {
        let k = item_ids.len();
        let mut cells = Vec::with_capacity(patterns.iter().map(|p| p.1).sum::<usize>() * k);
        for (pattern, count) in patterns {
            if pattern.len() != k {
                return Err(ShapeError(format!(
                    "pattern of {} responses for {k} items",
                    pattern.len()
                )));
            }
            for _ in 0..*count {
                cells.extend(pattern.iter().map(|&x| f32::from(x)));
            }
        }
        ScoreMatrix::new(item_ids, vec![1.0; k], cells)
    }

    pub fn n_persons(&self) -> usize {
        self.n_persons
    }

    pub fn n_items(&self) -> usize {
        self.item_ids.len()
    }

    pub fn item_ids(&self) -> &[String] {
        &self.item_ids
    }

    pub fn max_points(&self) -> &[f64] {
        &self.max_points
    }

    /// The scores of one person, NaN where not presented.
    pub fn row(&self, person: usize) -> &[f32] {
        let k = self.n_items();
        &self.cells[person * k..(person + 1) * k]
    }

    /// The score, `None` when not presented.
    pub fn get(&self, person: usize, item: usize) -> Option<f32> {
        let x = self.cells[person * self.n_items() + item];
        (!x.is_nan()).then_some(x)
    }

    /// All cells, row-major.
    pub fn cells(&self) -> &[f32] {
        &self.cells
    }

    /// True when any cell is "not presented".
    pub fn has_not_presented(&self) -> bool {
        self.cells.iter().any(|x| x.is_nan())
    }
}

/// How a multiple-response item earns points: the bank's own rule.
pub use crate::item::Scoring as ChoiceScoring;

/// A choice item's options and key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceKey {
    /// Option ids in order (`A`, `B`, …); at most [`MAX_OPTIONS`].
    pub options: Vec<String>,
    /// Bit set of the key's option indices (never 0).
    pub key: u16,
    pub scoring: ChoiceScoring,
}

impl ChoiceKey {
    /// Indices of the key options.
    pub fn key_indices(&self) -> Vec<usize> {
        (0..self.options.len())
            .filter(|i| self.key & (1 << i) != 0)
            .collect()
    }

    /// The key as text, e.g. `B` or `AC`.
    pub fn key_text(&self) -> String {
        self.set_text(self.key)
    }

    /// A choice cell as text: option ids joined, `""` when omitted.
    pub fn set_text(&self, set: u16) -> String {
        let ids: Vec<&str> = (0..self.options.len())
            .filter(|i| set & (1 << i) != 0)
            .map(|i| self.options[i].as_str())
            .collect();
        if ids.iter().all(|s| s.chars().count() == 1) {
            ids.concat()
        } else {
            ids.join(";")
        }
    }

    /// True when more than one option is keyed (a multiple-response item).
    pub fn is_multiple(&self) -> bool {
        self.key.count_ones() > 1
    }

    /// Points for a chosen set (not [`NOT_PRESENTED`]).
    pub fn score(&self, chosen: u16, points: f64) -> f64 {
        if chosen == self.key {
            return points;
        }
        match self.scoring {
            ChoiceScoring::AllOrNothing => 0.0,
            ChoiceScoring::Partial => {
                if chosen & !self.key != 0 {
                    0.0
                } else {
                    points * f64::from((chosen & self.key).count_ones())
                        / f64::from(self.key.count_ones())
                }
            }
        }
    }
}

/// The option set each person chose, row-major like [`ScoreMatrix`]: a bit per option,
/// [`OMITTED`] for a blank, [`NOT_PRESENTED`] when the item was not on the form.
/// Items that are not choice items have no key and only `NOT_PRESENTED`/`OMITTED` cells.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceMatrix {
    keys: Vec<Option<ChoiceKey>>,
    n_persons: usize,
    cells: Vec<u16>,
}

impl ChoiceMatrix {
    pub fn new(keys: Vec<Option<ChoiceKey>>, cells: Vec<u16>) -> Result<ChoiceMatrix, ShapeError> {
        let k = keys.len();
        if k == 0 || !cells.len().is_multiple_of(k) {
            return Err(ShapeError(format!(
                "{} cells do not make whole rows of {k} items",
                cells.len()
            )));
        }
        for (j, key) in keys.iter().enumerate() {
            if let Some(key) = key {
                if key.options.is_empty() || key.options.len() > MAX_OPTIONS {
                    return Err(ShapeError(format!(
                        "item {j} has {} options (1..={MAX_OPTIONS} allowed)",
                        key.options.len()
                    )));
                }
                let all = (1u32 << key.options.len()) - 1;
                if key.key == 0 || u32::from(key.key) & !all != 0 {
                    return Err(ShapeError(format!(
                        "item {j}: key is not among its options"
                    )));
                }
            }
        }
        for (i, &c) in cells.iter().enumerate() {
            let j = i % k;
            if c == NOT_PRESENTED {
                continue;
            }
            let n_opt = keys[j].as_ref().map_or(0, |key| key.options.len());
            if u32::from(c) >> n_opt != 0 {
                return Err(ShapeError(format!(
                    "person {} item {j}: choice {c:#x} is beyond the item's {n_opt} options",
                    i / k
                )));
            }
        }
        Ok(ChoiceMatrix {
            n_persons: cells.len() / k,
            keys,
            cells,
        })
    }

    pub fn n_persons(&self) -> usize {
        self.n_persons
    }

    pub fn n_items(&self) -> usize {
        self.keys.len()
    }

    pub fn keys(&self) -> &[Option<ChoiceKey>] {
        &self.keys
    }

    pub fn row(&self, person: usize) -> &[u16] {
        let k = self.n_items();
        &self.cells[person * k..(person + 1) * k]
    }

    /// Score every cell by its key ([`ChoiceKey::score`]); not presented stays NaN.
    /// Every item must be a choice item.
    pub fn score(
        &self,
        item_ids: Vec<String>,
        max_points: Vec<f64>,
    ) -> Result<ScoreMatrix, ShapeError> {
        let k = self.n_items();
        if item_ids.len() != k || max_points.len() != k {
            return Err(ShapeError(format!(
                "{k} choice items but {} ids and {} maximum scores",
                item_ids.len(),
                max_points.len()
            )));
        }
        let keys: Vec<&ChoiceKey> = self
            .keys
            .iter()
            .enumerate()
            .map(|(j, key)| {
                key.as_ref()
                    .ok_or_else(|| ShapeError(format!("item {} has no key", item_ids[j])))
            })
            .collect::<Result<_, _>>()?;
        let cells = self
            .cells
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let j = i % k;
                if c == NOT_PRESENTED {
                    f32::NAN
                } else {
                    keys[j].score(c, max_points[j]) as f32
                }
            })
            .collect();
        ScoreMatrix::new(item_ids, max_points, cells)
    }
}
