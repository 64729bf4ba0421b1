//! The lead unit's task breakdown (任务分解): every entry and form of an application
//! assigned to a unit and a person with a deadline.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Open,
    Done,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Open => "open",
            TaskState::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<TaskState> {
        match s.trim() {
            "open" => Some(TaskState::Open),
            "done" => Some(TaskState::Done),
            _ => None,
        }
    }
}

/// A task as the progress view needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFact {
    pub unit: String,
    pub state: TaskState,
    pub deadline: NaiveDate,
}

/// An open task past its deadline (the deadline day itself is not overdue).
pub fn is_overdue(state: TaskState, deadline: NaiveDate, today: NaiveDate) -> bool {
    state == TaskState::Open && today > deadline
}

/// Progress of one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitProgress {
    pub unit: String,
    pub total: usize,
    pub done: usize,
    pub overdue: usize,
    /// Whole percent done, rounded down (0 for no tasks).
    pub percent: u32,
}

/// Progress per unit, units sorted by most overdue first, then by name.
pub fn progress(tasks: &[TaskFact], today: NaiveDate) -> Vec<UnitProgress> {
    let mut by_unit: BTreeMap<&str, UnitProgress> = BTreeMap::new();
    for t in tasks {
        let p = by_unit
            .entry(t.unit.as_str())
            .or_insert_with(|| UnitProgress {
                unit: t.unit.clone(),
                total: 0,
                done: 0,
                overdue: 0,
                percent: 0,
            });
        p.total += 1;
        p.done += usize::from(t.state == TaskState::Done);
        p.overdue += usize::from(is_overdue(t.state, t.deadline, today));
    }
    let mut out: Vec<UnitProgress> = by_unit
        .into_values()
        .map(|mut p| {
            // Integer division rounds down, so 2 of 3 shows 66, never an early 67.
            p.percent = (p.done * 100).checked_div(p.total).unwrap_or(0) as u32;
            p
        })
        .collect();
    out.sort_by(|a, b| b.overdue.cmp(&a.overdue).then_with(|| a.unit.cmp(&b.unit)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn task(unit: &str, state: TaskState, deadline: u32) -> TaskFact {
        TaskFact {
            unit: unit.into(),
            state,
            deadline: day(deadline),
        }
    }

    #[test]
    fn only_open_tasks_past_their_deadline_are_overdue() {
        assert!(!is_overdue(TaskState::Open, day(10), day(10)));
        assert!(is_overdue(TaskState::Open, day(10), day(11)));
        assert!(!is_overdue(TaskState::Done, day(10), day(11)));
        assert!(!is_overdue(TaskState::Open, day(10), day(9)));
        assert_eq!(TaskState::parse(" done "), Some(TaskState::Done));
        assert_eq!(
            TaskState::parse(TaskState::Open.as_str()),
            Some(TaskState::Open)
        );
        assert_eq!(TaskState::parse("closed"), None);
    }

    #[test]
    fn progress_per_unit_most_overdue_first() {
        use TaskState::{Done, Open};
        let tasks = [
            task("牵头单位", Done, 5),
            task("牵头单位", Open, 20),
            task("牵头单位", Done, 9),
            task("乙院校", Open, 3),
            task("甲企业", Open, 4),
            task("甲企业", Open, 8),
            task("甲企业", Done, 1),
            task("丙企业", Open, 6),
        ];
        let p = progress(&tasks, day(10));
        let rows: Vec<(&str, usize, usize, usize, u32)> = p
            .iter()
            .map(|u| (u.unit.as_str(), u.total, u.done, u.overdue, u.percent))
            .collect();
        assert_eq!(
            rows,
            [
                ("甲企业", 3, 1, 2, 33),
                // Tied on one overdue task: by name ("丙" U+4E19 sorts before "乙" U+4E59).
                ("丙企业", 1, 0, 1, 0),
                ("乙院校", 1, 0, 1, 0),
                ("牵头单位", 3, 2, 0, 66),
            ]
        );
        assert!(progress(&[], day(10)).is_empty());
        let all_done = progress(&[task("甲", Done, 1), task("甲", Done, 2)], day(10));
        assert_eq!(all_done[0].percent, 100);
    }
}
