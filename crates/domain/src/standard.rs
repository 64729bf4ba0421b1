//! Skill grade standards (职业技能等级标准) as a tree: work area (工作领域) →
//! work task (工作任务) → skill requirement (职业技能要求), each requirement at a level.
//!
//! A certificate's standard is versioned: a draft version is edited, publishing it
//! freezes it, and older versions stay readable.

use crate::FieldError;
use crate::framework::Level;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StandardTree {
    pub areas: Vec<WorkArea>,
}

/// 工作领域.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkArea {
    pub code: String,
    pub title: String,
    pub tasks: Vec<WorkTask>,
}

/// 工作任务.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkTask {
    pub code: String,
    pub title: String,
    pub requirements: Vec<SkillRequirement>,
}

/// 职业技能要求: one requirement at one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillRequirement {
    pub code: String,
    pub level: Level,
    pub text: String,
}

/// Lifecycle of one version of a standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Draft,
    Published,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Published => "published",
        }
    }
    pub fn parse(s: &str) -> Option<VersionStatus> {
        match s {
            "draft" => Some(VersionStatus::Draft),
            "published" => Some(VersionStatus::Published),
            _ => None,
        }
    }
}

const MAX_TITLE: usize = 200;
const MAX_REQUIREMENT: usize = 1000;

impl StandardTree {
    /// Give every node its outline code (`1`, `1.2`, `1.2.3`) from its position.
    pub fn renumber(&mut self) {
        for (i, a) in self.areas.iter_mut().enumerate() {
            a.code = format!("{}", i + 1);
            for (j, t) in a.tasks.iter_mut().enumerate() {
                t.code = format!("{}.{}", i + 1, j + 1);
                for (k, r) in t.requirements.iter_mut().enumerate() {
                    r.code = format!("{}.{}.{}", i + 1, j + 1, k + 1);
                }
            }
        }
    }

    pub fn requirement_count(&self) -> usize {
        self.areas
            .iter()
            .flat_map(|a| &a.tasks)
            .map(|t| t.requirements.len())
            .sum()
    }

    /// Requirements per level, in level order.
    pub fn count_by_level(&self) -> Vec<(Level, usize)> {
        Level::ALL
            .into_iter()
            .map(|l| {
                let n = self
                    .areas
                    .iter()
                    .flat_map(|a| &a.tasks)
                    .flat_map(|t| &t.requirements)
                    .filter(|r| r.level == l)
                    .count();
                (l, n)
            })
            .collect()
    }

    /// Levels used by requirements that the certificate does not offer.
    pub fn levels_outside(&self, offered: &[Level]) -> Vec<Level> {
        self.count_by_level()
            .into_iter()
            .filter(|(l, n)| *n > 0 && !offered.contains(l))
            .map(|(l, _)| l)
            .collect()
    }

    /// Check titles and texts: not blank, not too long, no empty work area.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        for a in &self.areas {
            check_text(&mut errs, &format!("area {}", a.code), &a.title, MAX_TITLE);
            if a.tasks.is_empty() {
                errs.push(FieldError::new(
                    format!("area {}", a.code),
                    "empty_area",
                    format!("work area \"{}\" has no work task", a.title),
                    format!("工作领域“{}”下没有工作任务", a.title),
                ));
            }
            for t in &a.tasks {
                check_text(&mut errs, &format!("task {}", t.code), &t.title, MAX_TITLE);
                for r in &t.requirements {
                    check_text(
                        &mut errs,
                        &format!("requirement {}", r.code),
                        &r.text,
                        MAX_REQUIREMENT,
                    );
                }
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Parse the outline format people edit in the page:
    ///
    /// ```text
    /// # 变电设备巡视            (work area)
    /// ## 设备巡视               (work task)
    /// - [初级] 能按巡视路线完成设备外观检查   (skill requirement at a level)
    /// ```
    ///
    /// Errors name the line (`line 7`) and say what is wrong there.
    pub fn parse_outline(text: &str) -> Result<StandardTree, Vec<FieldError>> {
        let mut tree = StandardTree::default();
        let mut errs = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let field = format!("line {}", i + 1);
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(title) = line.strip_prefix("##") {
                let Some(area) = tree.areas.last_mut() else {
                    errs.push(FieldError::new(
                        &field,
                        "task_without_area",
                        "a work task (##) must come after a work area (#)",
                        "工作任务（##）之前必须先有工作领域（#）",
                    ));
                    continue;
                };
                area.tasks.push(WorkTask {
                    code: String::new(),
                    title: title.trim().to_string(),
                    requirements: Vec::new(),
                });
            } else if let Some(title) = line.strip_prefix('#') {
                tree.areas.push(WorkArea {
                    code: String::new(),
                    title: title.trim().to_string(),
                    tasks: Vec::new(),
                });
            } else if let Some(rest) = line.strip_prefix('-').or_else(|| line.strip_prefix('*')) {
                let Some(task) = tree.areas.last_mut().and_then(|a| a.tasks.last_mut()) else {
                    errs.push(FieldError::new(
                        &field,
                        "requirement_without_task",
                        "a skill requirement (-) must come after a work task (##)",
                        "职业技能要求（-）之前必须先有工作任务（##）",
                    ));
                    continue;
                };
                match parse_level_prefix(rest.trim()) {
                    Some((level_text, body)) => match Level::parse(&field, level_text) {
                        Ok(level) => task.requirements.push(SkillRequirement {
                            code: String::new(),
                            level,
                            text: body.trim().to_string(),
                        }),
                        Err(e) => errs.push(e),
                    },
                    None => errs.push(FieldError::new(
                        &field,
                        "missing_level",
                        "a skill requirement must start with its level, e.g. \"- [初级] ...\"",
                        "职业技能要求必须以等级开头，例如“- [初级] ……”",
                    )),
                }
            } else {
                errs.push(FieldError::new(
                    &field,
                    "bad_line",
                    "start the line with # (work area), ## (work task) or - (skill requirement)",
                    "每行应以 #（工作领域）、##（工作任务）或 -（职业技能要求）开头",
                ));
            }
        }
        tree.renumber();
        if let Err(mut e) = tree.validate() {
            errs.append(&mut e);
        }
        if errs.is_empty() { Ok(tree) } else { Err(errs) }
    }

    /// The outline format that [`StandardTree::parse_outline`] reads.
    pub fn to_outline(&self) -> String {
        let mut out = String::new();
        for a in &self.areas {
            out.push_str(&format!("# {}\n", a.title));
            for t in &a.tasks {
                out.push_str(&format!("## {}\n", t.title));
                for r in &t.requirements {
                    out.push_str(&format!("- [{}] {}\n", r.level.zh(), r.text));
                }
            }
        }
        out
    }
}

/// `[初级] text`, `【初级】text`, `初级: text` or `初级：text`.
fn parse_level_prefix(s: &str) -> Option<(&str, &str)> {
    for (open, close) in [("[", "]"), ("【", "】")] {
        if let Some(rest) = s.strip_prefix(open) {
            return rest.split_once(close);
        }
    }
    s.split_once([':', '：'])
}

fn check_text(errs: &mut Vec<FieldError>, field: &str, v: &str, max: usize) {
    if v.trim().is_empty() {
        errs.push(FieldError::required(field));
    } else if v.chars().count() > max {
        errs.push(FieldError::new(
            field,
            "too_long",
            format!("must be at most {max} characters"),
            format!("不能超过 {max} 个字符"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTLINE: &str = "# 变电设备巡视\n## 设备巡视\n- [初级] 能按巡视路线完成设备外观检查\n- 中级：能发现并记录设备缺陷\n# 倒闸操作\n## 操作票\n- 【高级】能审核复杂倒闸操作票\n";

    #[test]
    fn outline_round_trips_and_numbers_nodes() {
        let t = StandardTree::parse_outline(OUTLINE).unwrap();
        assert_eq!(t.areas.len(), 2);
        assert_eq!(t.areas[0].tasks[0].requirements[1].code, "1.1.2");
        assert_eq!(
            t.areas[0].tasks[0].requirements[1].level,
            Level::Intermediate
        );
        assert_eq!(t.areas[1].tasks[0].requirements[0].level, Level::Senior);
        let again = StandardTree::parse_outline(&t.to_outline()).unwrap();
        assert_eq!(again, t);
        assert_eq!(
            t.count_by_level(),
            vec![
                (Level::Junior, 1),
                (Level::Intermediate, 1),
                (Level::Senior, 1)
            ]
        );
        assert_eq!(
            t.levels_outside(&[Level::Junior, Level::Intermediate]),
            vec![Level::Senior]
        );
    }

    #[test]
    fn outline_errors_name_the_line() {
        let errs = StandardTree::parse_outline("## 任务\n# 领域\n- 没有等级\n随便写").unwrap_err();
        let lines: Vec<_> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("line 1", "task_without_area"),
                ("line 3", "requirement_without_task"),
                ("line 4", "bad_line"),
                ("area 1", "empty_area"),
            ]
        );
    }
}
