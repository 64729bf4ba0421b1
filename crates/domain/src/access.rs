//! Access control in one place: who may do what to which part of the registry.
//!
//! Every handler (page, API, CLI, import row) asks [`authorize`]; store queries that list
//! scoped data take a [`PeopleScope`] derived from the same principal, so a college's
//! staff cannot even see another college's students.

use crate::FieldError;
use crate::org::OrgKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 教育部管理员
    MinistryAdmin,
    /// 省级管理员
    ProvinceAdmin,
    /// 培训评价组织人员
    TeoStaff,
    /// 院校人员
    CollegeStaff,
    /// 考评员
    Examiner,
    /// 评审专家
    ExpertReviewer,
    /// 考生
    Candidate,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::MinistryAdmin,
        Role::ProvinceAdmin,
        Role::TeoStaff,
        Role::CollegeStaff,
        Role::Examiner,
        Role::ExpertReviewer,
        Role::Candidate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::MinistryAdmin => "ministry_admin",
            Role::ProvinceAdmin => "province_admin",
            Role::TeoStaff => "teo_staff",
            Role::CollegeStaff => "college_staff",
            Role::Examiner => "examiner",
            Role::ExpertReviewer => "expert_reviewer",
            Role::Candidate => "candidate",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Role::MinistryAdmin => "教育部管理员",
            Role::ProvinceAdmin => "省级管理员",
            Role::TeoStaff => "培训评价组织人员",
            Role::CollegeStaff => "院校人员",
            Role::Examiner => "考评员",
            Role::ExpertReviewer => "评审专家",
            Role::Candidate => "考生",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Role::MinistryAdmin => "Ministry admin",
            Role::ProvinceAdmin => "Province admin",
            Role::TeoStaff => "TEO staff",
            Role::CollegeStaff => "College staff",
            Role::Examiner => "Examiner",
            Role::ExpertReviewer => "Expert reviewer",
            Role::Candidate => "Candidate",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Role, FieldError> {
        let t = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == t || r.zh() == t || r.en().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "bad_role",
                    format!("unknown role \"{t}\""),
                    format!("无法识别的角色“{t}”"),
                )
            })
    }

    /// The kind of organization an account of this role must belong to, if any.
    pub fn org_kind(self) -> Option<OrgKind> {
        match self {
            Role::ProvinceAdmin => Some(OrgKind::ProvinceAuthority),
            Role::TeoStaff => Some(OrgKind::Teo),
            Role::CollegeStaff => Some(OrgKind::College),
            _ => None,
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::MinistryAdmin | Role::ProvinceAdmin)
    }
}

/// A signed-in user as the rules see them: role plus the scope the role is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// The TEO, college or provincial authority the account belongs to.
    pub org_id: Option<i64>,
    /// The province of that organization (for province admins and college staff).
    pub province: Option<String>,
    /// The person record of a candidate account.
    pub person_id: Option<i64>,
}

/// Something a principal wants to do, carrying the facts of the target the rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    /// Create an organization of a kind, in a province (if it has one).
    CreateOrganization {
        kind: OrgKind,
        province: Option<&'a str>,
    },
    /// Edit an organization's profile (not a TEO's lifecycle state).
    UpdateOrganization {
        org_id: i64,
        kind: OrgKind,
        province: Option<&'a str>,
    },
    /// Suspend, limit, or retire a TEO.
    ChangeTeoState,
    /// Create a certificate owned by a TEO.
    CreateCertificate { teo_id: i64 },
    /// Edit a certificate and its skill standard.
    UpdateCertificate { teo_id: i64 },
    /// Publish, suspend or withdraw a certificate in the national catalogue.
    SetCertificateStatus,
    /// Create or edit a student of a college.
    ManagePerson {
        college_id: i64,
        province: Option<&'a str>,
    },
    /// See a student's record.
    ViewPerson {
        college_id: i64,
        province: Option<&'a str>,
        person_id: i64,
    },
    /// Create an account of a role for an organization, or manage one (reset its
    /// password, deactivate it): the same scope decides both.
    CreateUser {
        role: Role,
        org_id: Option<i64>,
        province: Option<&'a str>,
    },
    /// List accounts.
    ViewUsers,
    /// Browse the audit log.
    ViewAudit,
    /// Use the bulk import page at all (each row is then authorized on its own).
    Import,
    /// Download registry exports.
    Export,
    /// Run material consolidation (材料汇总) for an organization, or see its runs,
    /// catalog and report. `None`: a run of the ministry's own.
    Ingest { org_id: Option<i64> },
    /// Keep a certificate's question bank (题库): items, imports, blueprints, assembled
    /// forms, item analysis. Items carry their keys, so only the owning TEO and the
    /// ministry may see them.
    ManageItemBank { teo_id: i64 },
    /// Schedule and run a certificate's exam sessions (考核计划): forms, examiners,
    /// candidates, results.
    ManageExamSession { teo_id: i64 },
    /// See an exam session and its results: its TEO, the college hosting the exam site
    /// (考核站点), and that college's provincial authority.
    ViewExamSession {
        teo_id: i64,
        site_college_id: Option<i64>,
        site_province: Option<&'a str>,
    },
    /// Register a student for a session, or enter a student's training (process) score:
    /// the session's TEO, or the staff of the student's own college when it hosts the site.
    RegisterCandidate {
        teo_id: i64,
        site_college_id: Option<i64>,
        student_college_id: i64,
    },
    /// Score practical tasks and mark written answers in a session: the examiners
    /// (考评员) assigned to it. `assigned` is whether the principal is one of them.
    ScoreSession { assigned: bool },
    /// Take one's own theory test and see one's own results.
    OwnAttempt { person_id: i64 },
    /// Issue a TEO's certificates to candidates (证书发放) and change them afterwards:
    /// suspend, revoke, reinstate, correct; rotate its signing keys.
    IssueCertificates { teo_id: i64 },
    /// See issued certificates: their TEO, and the college whose students hold them.
    ViewIssued {
        teo_id: i64,
        college_id: Option<i64>,
    },
    /// Run declaration batches (申报批次): open and advance them, formal check, draw
    /// experts, send modification opinions, verify, deliberate, publish; keep the expert pool.
    ManageBatches,
    /// Prepare and submit a TEO's application (申报): proposals, annexes, units, tasks.
    Declare { teo_id: i64 },
    /// See an application: its TEO, and the people given a task in it (`has_task`).
    ViewApplication { teo_id: i64, has_task: bool },
    /// Hand in one's own task of a task breakdown (`assignee`: the task is the principal's).
    WorkOnTask { assignee: bool },
    /// Score a proposal as one of the experts drawn for it (`assigned`).
    ReviewProposal { assigned: bool },
}

/// Why an action was refused, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub en: String,
    pub zh: String,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

fn deny(en: &str, zh: &str) -> Result<(), Denied> {
    Err(Denied {
        en: en.into(),
        zh: zh.into(),
    })
}

fn allow_if(ok: bool, en: &str, zh: &str) -> Result<(), Denied> {
    if ok { Ok(()) } else { deny(en, zh) }
}

/// The single access rule. `None` is the public (no login).
pub fn authorize(who: Option<&Principal>, action: &Action<'_>) -> Result<(), Denied> {
    let Some(p) = who else {
        return deny("sign in first", "请先登录");
    };
    let own_org = |id: i64| p.org_id == Some(id);
    let own_province = |prov: Option<&str>| prov.is_some() && p.province.as_deref() == prov;
    use Action::*;
    use Role::*;
    if p.role == MinistryAdmin {
        return Ok(());
    }
    match (p.role, action) {
        (ProvinceAdmin, CreateOrganization { kind, province })
        | (ProvinceAdmin, UpdateOrganization { kind, province, .. }) => allow_if(
            matches!(kind, OrgKind::College | OrgKind::Enterprise) && own_province(*province),
            "a province admin manages colleges and enterprises of its own province only",
            "省级管理员只能管理本省的院校和企业",
        ),
        (TeoStaff, UpdateOrganization { org_id, .. }) => allow_if(
            own_org(*org_id),
            "TEO staff may edit their own organization only",
            "培训评价组织人员只能修改本组织信息",
        ),
        (CollegeStaff, UpdateOrganization { org_id, .. }) => allow_if(
            own_org(*org_id),
            "college staff may edit their own college only",
            "院校人员只能修改本校信息",
        ),
        (TeoStaff, CreateCertificate { teo_id }) | (TeoStaff, UpdateCertificate { teo_id }) => {
            allow_if(
                own_org(*teo_id),
                "TEO staff may change their own TEO's certificates only",
                "培训评价组织人员只能修改本组织的证书",
            )
        }
        (ProvinceAdmin, ManagePerson { province, .. }) => allow_if(
            own_province(*province),
            "a province admin manages students of its own province's colleges only",
            "省级管理员只能管理本省院校的学生",
        ),
        (ProvinceAdmin, ViewPerson { province, .. }) => allow_if(
            own_province(*province),
            "a province admin sees students of its own province's colleges only",
            "省级管理员只能查看本省院校的学生",
        ),
        (CollegeStaff, ManagePerson { college_id, .. })
        | (CollegeStaff, ViewPerson { college_id, .. }) => allow_if(
            own_org(*college_id),
            "college staff may handle their own college's students only",
            "院校人员只能处理本校学生",
        ),
        (Candidate, ViewPerson { person_id, .. }) => allow_if(
            p.person_id == Some(*person_id),
            "candidates see their own record only",
            "考生只能查看本人信息",
        ),
        (ProvinceAdmin, CreateUser { role, province, .. }) => allow_if(
            matches!(role, CollegeStaff | Examiner | Candidate) && own_province(*province),
            "a province admin creates college staff, examiner and candidate accounts of its own province only",
            "省级管理员只能为本省创建院校人员、考评员和考生账号",
        ),
        (TeoStaff, CreateUser { role, org_id, .. }) => allow_if(
            matches!(role, TeoStaff | Examiner) && org_id.is_some_and(own_org),
            "TEO staff create staff and examiner accounts of their own TEO only",
            "培训评价组织人员只能为本组织创建人员和考评员账号",
        ),
        (CollegeStaff, CreateUser { role, org_id, .. }) => allow_if(
            matches!(role, CollegeStaff | Candidate) && org_id.is_some_and(own_org),
            "college staff create staff and candidate accounts of their own college only",
            "院校人员只能为本校创建人员和考生账号",
        ),
        (ProvinceAdmin | TeoStaff | CollegeStaff, ViewUsers) => Ok(()),
        (ProvinceAdmin, ViewAudit) => Ok(()),
        (ProvinceAdmin | TeoStaff | CollegeStaff, Import | Export) => Ok(()),
        // A TEO's lead unit (its own staff, or a lead college's) consolidates its materials.
        (TeoStaff | CollegeStaff, Ingest { org_id }) => allow_if(
            org_id.is_some_and(&own_org),
            "only your organization's consolidation runs",
            "只能处理本单位的材料汇总",
        ),
        (TeoStaff, ManageItemBank { teo_id }) | (TeoStaff, ManageExamSession { teo_id }) => {
            allow_if(
                own_org(*teo_id),
                "TEO staff keep their own TEO's question banks and exams only",
                "培训评价组织人员只能管理本组织的题库和考核",
            )
        }
        (TeoStaff, ViewExamSession { teo_id, .. })
        | (TeoStaff, RegisterCandidate { teo_id, .. }) => allow_if(
            own_org(*teo_id),
            "TEO staff see their own TEO's exam sessions only",
            "培训评价组织人员只能查看本组织的考核",
        ),
        (
            CollegeStaff,
            ViewExamSession {
                site_college_id, ..
            },
        ) => allow_if(
            site_college_id.is_some_and(&own_org),
            "college staff see the sessions held at their own college only",
            "院校人员只能查看在本校举行的考核",
        ),
        (ProvinceAdmin, ViewExamSession { site_province, .. }) => allow_if(
            own_province(*site_province),
            "a province admin sees the sessions held in its own province only",
            "省级管理员只能查看本省举行的考核",
        ),
        (
            CollegeStaff,
            RegisterCandidate {
                site_college_id,
                student_college_id,
                ..
            },
        ) => allow_if(
            own_org(*student_college_id) && site_college_id.is_some_and(&own_org),
            "college staff register their own students for sessions at their own college only",
            "院校人员只能为本校学生报名在本校举行的考核",
        ),
        (Examiner, ScoreSession { assigned }) => allow_if(
            *assigned,
            "only the examiners assigned to this session score it",
            "只有被指派到本场考核的考评员才能评分",
        ),
        (TeoStaff, IssueCertificates { teo_id }) => allow_if(
            own_org(*teo_id),
            "TEO staff issue and change their own TEO's certificates only",
            "培训评价组织人员只能发放和变更本组织的证书",
        ),
        (TeoStaff, ViewIssued { teo_id, .. }) => allow_if(
            own_org(*teo_id),
            "TEO staff see their own TEO's issued certificates only",
            "培训评价组织人员只能查看本组织发放的证书",
        ),
        (CollegeStaff, ViewIssued { college_id, .. }) => allow_if(
            college_id.is_some_and(own_org),
            "college staff see their own students' certificates only",
            "院校人员只能查看本校学生的证书",
        ),
        (TeoStaff, Declare { teo_id }) => allow_if(
            own_org(*teo_id),
            "TEO staff prepare their own TEO's application only",
            "培训评价组织人员只能填报本组织的申报",
        ),
        (_, ViewApplication { teo_id, has_task }) => allow_if(
            *has_task || (p.role == TeoStaff && own_org(*teo_id)),
            "only the applying TEO and the people given a task in it see an application",
            "只有申报组织和承担任务的人员可以查看申报",
        ),
        (_, WorkOnTask { assignee }) => allow_if(
            *assignee,
            "only the person a task is assigned to hands it in",
            "只有任务的承担人可以提交该任务",
        ),
        (ExpertReviewer, ReviewProposal { assigned }) => allow_if(
            *assigned,
            "only the experts drawn for a proposal score it",
            "只有被抽取的评审专家可以为该申报评分",
        ),
        (Candidate, OwnAttempt { person_id }) => allow_if(
            p.person_id == Some(*person_id),
            "candidates take and see their own exams only",
            "考生只能参加和查看本人的考试",
        ),
        _ => deny("your role may not do this", "您的角色无权执行此操作"),
    }
}

/// Which students a principal can see; store queries filter by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeopleScope {
    All,
    Province(String),
    College(i64),
    Person(i64),
    Nothing,
}

/// Which accounts a principal can list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserScope {
    All,
    Province(String),
    Org(i64),
    Nothing,
}

impl Principal {
    pub fn people_scope(&self) -> PeopleScope {
        match (self.role, self.org_id, &self.province, self.person_id) {
            (Role::MinistryAdmin, ..) => PeopleScope::All,
            (Role::ProvinceAdmin, _, Some(p), _) => PeopleScope::Province(p.clone()),
            (Role::CollegeStaff, Some(id), ..) => PeopleScope::College(id),
            (Role::Candidate, _, _, Some(id)) => PeopleScope::Person(id),
            _ => PeopleScope::Nothing,
        }
    }

    pub fn user_scope(&self) -> UserScope {
        match (self.role, self.org_id, &self.province) {
            (Role::MinistryAdmin, ..) => UserScope::All,
            (Role::ProvinceAdmin, _, Some(p)) => UserScope::Province(p.clone()),
            (Role::TeoStaff | Role::CollegeStaff, Some(id), _) => UserScope::Org(id),
            _ => UserScope::Nothing,
        }
    }

    /// Whether this principal can see draft (unpublished) certificates of a TEO.
    pub fn sees_drafts_of(&self, teo_id: i64) -> bool {
        self.role == Role::MinistryAdmin
            || (self.role == Role::TeoStaff && self.org_id == Some(teo_id))
    }
}

#[cfg(test)]
mod tests;
