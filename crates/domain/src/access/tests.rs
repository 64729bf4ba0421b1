use super::*;

const SD: &str = "山东省";
const JS: &str = "江苏省";

// The target world every action below refers to: TEO 1, college 10 in 山东省 with
// student 100, the 山东省 authority 20, an enterprise 30 in 山东省.
const TEO: i64 = 1;
const COLLEGE: i64 = 10;
const AUTHORITY: i64 = 20;
const ENTERPRISE: i64 = 30;
const STUDENT: i64 = 100;

fn principal(
    user_id: i64,
    role: Role,
    org_id: Option<i64>,
    province: Option<&str>,
    person_id: Option<i64>,
) -> Principal {
    Principal {
        user_id,
        username: format!("user{user_id}"),
        role,
        org_id,
        province: province.map(str::to_string),
        person_id,
    }
}

/// For each role, one principal whose scope is the target world ("own") and one whose
/// scope is elsewhere ("other"). Examiners, experts and candidates are given an
/// organization too, to show that membership alone grants them nothing.
fn principals(role: Role) -> (Principal, Principal) {
    use Role::*;
    match role {
        MinistryAdmin => (
            principal(1, role, None, None, None),
            principal(2, role, Some(99), Some(JS), None),
        ),
        ProvinceAdmin => (
            principal(3, role, Some(AUTHORITY), Some(SD), None),
            principal(4, role, Some(21), Some(JS), None),
        ),
        TeoStaff => (
            principal(5, role, Some(TEO), None, None),
            principal(6, role, Some(2), None, None),
        ),
        CollegeStaff => (
            principal(7, role, Some(COLLEGE), Some(SD), None),
            principal(8, role, Some(11), Some(JS), None),
        ),
        Examiner => (
            principal(9, role, Some(TEO), None, None),
            principal(10, role, Some(2), None, None),
        ),
        ExpertReviewer => (
            principal(11, role, Some(TEO), None, None),
            principal(12, role, None, None, None),
        ),
        Candidate => (
            principal(13, role, Some(COLLEGE), Some(SD), Some(STUDENT)),
            principal(14, role, Some(11), Some(JS), Some(101)),
        ),
    }
}

/// Every variant by name; no wildcard, so a new variant will not compile until it is
/// added here and given rows in the matrix.
fn variant(a: &Action<'_>) -> &'static str {
    match a {
        Action::CreateOrganization { .. } => "CreateOrganization",
        Action::UpdateOrganization { .. } => "UpdateOrganization",
        Action::ChangeTeoState => "ChangeTeoState",
        Action::CreateCertificate { .. } => "CreateCertificate",
        Action::UpdateCertificate { .. } => "UpdateCertificate",
        Action::SetCertificateStatus => "SetCertificateStatus",
        Action::ManagePerson { .. } => "ManagePerson",
        Action::ViewPerson { .. } => "ViewPerson",
        Action::CreateUser { .. } => "CreateUser",
        Action::ViewUsers => "ViewUsers",
        Action::ViewAudit => "ViewAudit",
        Action::Import => "Import",
        Action::Export => "Export",
        Action::Ingest { .. } => "Ingest",
        Action::ManageItemBank { .. } => "ManageItemBank",
        Action::ManageExamSession { .. } => "ManageExamSession",
        Action::ViewExamSession { .. } => "ViewExamSession",
        Action::RegisterCandidate { .. } => "RegisterCandidate",
        Action::ScoreSession { .. } => "ScoreSession",
        Action::OwnAttempt { .. } => "OwnAttempt",
        Action::IssueCertificates { .. } => "IssueCertificates",
        Action::ViewIssued { .. } => "ViewIssued",
        Action::ManageBatches => "ManageBatches",
        Action::Declare { .. } => "Declare",
        Action::ViewApplication { .. } => "ViewApplication",
        Action::WorkOnTask { .. } => "WorkOnTask",
        Action::ReviewProposal { .. } => "ReviewProposal",
    }
}
const VARIANTS: usize = 27;

/// Column order of the expectation strings.
const COLUMNS: [Option<Role>; 8] = [
    None,
    Some(Role::MinistryAdmin),
    Some(Role::ProvinceAdmin),
    Some(Role::TeoStaff),
    Some(Role::CollegeStaff),
    Some(Role::Examiner),
    Some(Role::ExpertReviewer),
    Some(Role::Candidate),
];

/// One row per action on the target world. Each cell is two characters, own scope
/// then other scope: `Y` allowed, `-` denied. Kept unformatted so the columns line up.
#[rustfmt::skip]
fn matrix() -> Vec<(&'static str, &'static str, Action<'static>)> {
    use Action::*;
    use OrgKind::*;
    use Role::{Candidate as Cand, CollegeStaff as ColStaff, Examiner as Exam};
    vec![
        //  PUB MIN PRV TEO COL EXM EXP CND
        // Only the ministry selects TEOs and sets up provincial authorities; a province
        // admin adds colleges and enterprises of its own province.
        ("-- YY Y- -- -- -- -- --", "create college", CreateOrganization { kind: College, province: Some(SD) }),
        ("-- YY Y- -- -- -- -- --", "create enterprise", CreateOrganization { kind: Enterprise, province: Some(SD) }),
        ("-- YY -- -- -- -- -- --", "create enterprise, no province", CreateOrganization { kind: Enterprise, province: None }),
        ("-- YY -- -- -- -- -- --", "create TEO", CreateOrganization { kind: Teo, province: None }),
        ("-- YY -- -- -- -- -- --", "create authority", CreateOrganization { kind: ProvinceAuthority, province: Some(SD) }),
        // Profiles: the province admin for its colleges and enterprises, staff for their own organization.
        ("-- YY Y- -- Y- -- -- --", "update college", UpdateOrganization { org_id: COLLEGE, kind: College, province: Some(SD) }),
        ("-- YY Y- -- -- -- -- --", "update enterprise", UpdateOrganization { org_id: ENTERPRISE, kind: Enterprise, province: Some(SD) }),
        ("-- YY -- Y- -- -- -- --", "update TEO", UpdateOrganization { org_id: TEO, kind: Teo, province: None }),
        ("-- YY -- -- -- -- -- --", "update authority", UpdateOrganization { org_id: AUTHORITY, kind: ProvinceAuthority, province: Some(SD) }),
        // TEO supervision and the national catalogue belong to the ministry.
        ("-- YY -- -- -- -- -- --", "change TEO state", ChangeTeoState),
        ("-- YY -- -- -- -- -- --", "set certificate status", SetCertificateStatus),
        // A TEO's staff change only that TEO's certificates.
        ("-- YY -- Y- -- -- -- --", "create certificate", CreateCertificate { teo_id: TEO }),
        ("-- YY -- Y- -- -- -- --", "update certificate", UpdateCertificate { teo_id: TEO }),
        // Students: their college, their province's admin, and (to view) the student.
        ("-- YY Y- -- Y- -- -- --", "manage student", ManagePerson { college_id: COLLEGE, province: Some(SD) }),
        ("-- YY Y- -- Y- -- -- Y-", "view student", ViewPerson { college_id: COLLEGE, province: Some(SD), person_id: STUDENT }),
        // Accounts: each creator only the roles and the scope its rule names.
        ("-- YY -- Y- -- -- -- --", "create TEO staff", CreateUser { role: Role::TeoStaff, org_id: Some(TEO), province: None }),
        ("-- YY -- Y- -- -- -- --", "create TEO examiner", CreateUser { role: Exam, org_id: Some(TEO), province: None }),
        ("-- YY Y- -- -- -- -- --", "create provincial examiner", CreateUser { role: Exam, org_id: None, province: Some(SD) }),
        ("-- YY Y- -- Y- -- -- --", "create college staff", CreateUser { role: ColStaff, org_id: Some(COLLEGE), province: Some(SD) }),
        ("-- YY Y- -- Y- -- -- --", "create candidate", CreateUser { role: Cand, org_id: Some(COLLEGE), province: Some(SD) }),
        ("-- YY -- -- -- -- -- --", "create province admin", CreateUser { role: Role::ProvinceAdmin, org_id: Some(AUTHORITY), province: Some(SD) }),
        ("-- YY -- -- -- -- -- --", "create ministry admin", CreateUser { role: Role::MinistryAdmin, org_id: None, province: None }),
        ("-- YY -- -- -- -- -- --", "create expert reviewer", CreateUser { role: Role::ExpertReviewer, org_id: None, province: None }),
        // Unscoped actions; what is then listed is narrowed by user_scope/people_scope.
        ("-- YY YY YY YY -- -- --", "view users", ViewUsers),
        ("-- YY YY -- -- -- -- --", "view audit", ViewAudit),
        ("-- YY YY YY YY -- -- --", "import", Import),
        ("-- YY YY YY YY -- -- --", "export", Export),
        // Material consolidation: the lead unit's own runs; runs without an organization are the ministry's.
        ("-- YY -- Y- -- -- -- --", "consolidate TEO materials", Ingest { org_id: Some(TEO) }),
        ("-- YY -- -- Y- -- -- --", "consolidate college materials", Ingest { org_id: Some(COLLEGE) }),
        ("-- YY -- -- -- -- -- --", "consolidate without organization", Ingest { org_id: None }),
        // Assessment: the bank and the sessions belong to the certificate's TEO.
        ("-- YY -- Y- -- -- -- --", "keep the question bank", ManageItemBank { teo_id: TEO }),
        ("-- YY -- Y- -- -- -- --", "run exam sessions", ManageExamSession { teo_id: TEO }),
        // A session is seen by its TEO, the hosting college and that college's province.
        ("-- YY Y- Y- Y- -- -- --", "view a session at a college", ViewExamSession { teo_id: TEO, site_college_id: Some(COLLEGE), site_province: Some(SD) }),
        ("-- YY -- Y- -- -- -- --", "view a session without a site", ViewExamSession { teo_id: TEO, site_college_id: None, site_province: None }),
        // Registration: the TEO any student, a college its own students at its own site.
        ("-- YY -- Y- Y- -- -- --", "register own student at own site", RegisterCandidate { teo_id: TEO, site_college_id: Some(COLLEGE), student_college_id: COLLEGE }),
        ("-- YY -- Y- -- -- -- --", "register another college's student", RegisterCandidate { teo_id: TEO, site_college_id: Some(COLLEGE), student_college_id: 11 }),
        ("-- YY -- Y- -- -- -- --", "register at another site", RegisterCandidate { teo_id: TEO, site_college_id: Some(11), student_college_id: COLLEGE }),
        // Scoring needs the assignment, whatever the examiner's organization.
        ("-- YY -- -- -- YY -- --", "score an assigned session", ScoreSession { assigned: true }),
        ("-- YY -- -- -- -- -- --", "score an unassigned session", ScoreSession { assigned: false }),
        ("-- YY -- -- -- -- -- Y-", "own attempt", OwnAttempt { person_id: STUDENT }),
        // Certificates: issued and changed by their TEO; seen by it and the holders' college.
        ("-- YY -- Y- -- -- -- --", "issue certificates", IssueCertificates { teo_id: TEO }),
        ("-- YY -- Y- Y- -- -- --", "view issued certificates", ViewIssued { teo_id: TEO, college_id: Some(COLLEGE) }),
        ("-- YY -- Y- -- -- -- --", "view issued without college", ViewIssued { teo_id: TEO, college_id: None }),
        // Declaration: the ministry runs batches; a TEO prepares its own application, whose
        // tasks its units' people hand in; experts score what they were drawn for.
        ("-- YY -- -- -- -- -- --", "manage batches", ManageBatches),
        ("-- YY -- Y- -- -- -- --", "declare", Declare { teo_id: TEO }),
        ("-- YY -- Y- -- -- -- --", "view application", ViewApplication { teo_id: TEO, has_task: false }),
        ("-- YY YY YY YY YY YY YY", "view application with a task", ViewApplication { teo_id: TEO, has_task: true }),
        ("-- YY YY YY YY YY YY YY", "hand in own task", WorkOnTask { assignee: true }),
        ("-- YY -- -- -- -- -- --", "hand in another's task", WorkOnTask { assignee: false }),
        ("-- YY -- -- -- -- YY --", "score an assigned proposal", ReviewProposal { assigned: true }),
        ("-- YY -- -- -- -- -- --", "score an unassigned proposal", ReviewProposal { assigned: false }),
    ]
}

#[test]
fn authorize_matrix() {
    let rows = matrix();
    let mut covered: Vec<&str> = rows.iter().map(|(_, _, a)| variant(a)).collect();
    covered.sort();
    covered.dedup();
    assert_eq!(covered.len(), VARIANTS, "every Action variant has a row");

    let mut failures = Vec::new();
    for (expect, name, action) in &rows {
        let cells: Vec<&str> = expect.split_whitespace().collect();
        assert_eq!(cells.len(), COLUMNS.len(), "{name}: one cell per column");
        for (col, cell) in COLUMNS.iter().zip(cells) {
            let cell: Vec<char> = cell.chars().collect();
            let cases: Vec<(&str, Option<Principal>, char)> = match col {
                None => vec![("public", None, cell[0]), ("public", None, cell[1])],
                Some(role) => {
                    let (own, other) = principals(*role);
                    vec![("own", Some(own), cell[0]), ("other", Some(other), cell[1])]
                }
            };
            for (scope, who, want) in cases {
                let got = authorize(who.as_ref(), action);
                if let Err(d) = &got {
                    assert!(!d.en.is_empty() && !d.zh.is_empty(), "{name}: empty reason");
                }
                let role = col.map_or("public", |r| r.as_str());
                if got.is_ok() != (want == 'Y') {
                    failures.push(format!(
                        "{name} / {role} ({scope}): expected {}, got {got:?}",
                        if want == 'Y' { "allow" } else { "deny" }
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn denial_reasons_match_the_rule() {
    let (teo_other, _) = principals(Role::TeoStaff);
    let e = authorize(None, &Action::Export).unwrap_err();
    assert_eq!(e.zh, "请先登录");
    let e = authorize(
        Some(&principals(Role::TeoStaff).1),
        &Action::UpdateCertificate { teo_id: TEO },
    )
    .unwrap_err();
    assert!(e.en.contains("own TEO's certificates"), "{e}");
    let e = authorize(Some(&teo_other), &Action::ChangeTeoState).unwrap_err();
    assert_eq!(e.en, "your role may not do this");
}

#[test]
fn scopes_of_each_principal() {
    use Role::*;
    // (role, own/other) → (people scope, user scope, sees drafts of TEO 1)
    let expect = |role: Role, own: bool| -> (PeopleScope, UserScope, bool) {
        match (role, own) {
            (MinistryAdmin, _) => (PeopleScope::All, UserScope::All, true),
            (ProvinceAdmin, true) => (
                PeopleScope::Province(SD.into()),
                UserScope::Province(SD.into()),
                false,
            ),
            (ProvinceAdmin, false) => (
                PeopleScope::Province(JS.into()),
                UserScope::Province(JS.into()),
                false,
            ),
            (TeoStaff, true) => (PeopleScope::Nothing, UserScope::Org(TEO), true),
            (TeoStaff, false) => (PeopleScope::Nothing, UserScope::Org(2), false),
            (CollegeStaff, true) => (
                PeopleScope::College(COLLEGE),
                UserScope::Org(COLLEGE),
                false,
            ),
            (CollegeStaff, false) => (PeopleScope::College(11), UserScope::Org(11), false),
            (Examiner | ExpertReviewer, _) => (PeopleScope::Nothing, UserScope::Nothing, false),
            (Candidate, true) => (PeopleScope::Person(STUDENT), UserScope::Nothing, false),
            (Candidate, false) => (PeopleScope::Person(101), UserScope::Nothing, false),
        }
    };
    for role in Role::ALL {
        let (own, other) = principals(role);
        for (p, is_own) in [(own, true), (other, false)] {
            let (people, users, drafts) = expect(role, is_own);
            assert_eq!(p.people_scope(), people, "{role:?} own={is_own}");
            assert_eq!(p.user_scope(), users, "{role:?} own={is_own}");
            assert_eq!(p.sees_drafts_of(TEO), drafts, "{role:?} own={is_own}");
        }
    }

    // A scoped role whose scope is missing sees nothing rather than everything.
    let unbound = |role| principal(50, role, None, None, None);
    for role in [ProvinceAdmin, CollegeStaff, TeoStaff, Candidate] {
        assert_eq!(
            unbound(role).people_scope(),
            PeopleScope::Nothing,
            "{role:?}"
        );
        assert_eq!(unbound(role).user_scope(), UserScope::Nothing, "{role:?}");
        assert!(!unbound(role).sees_drafts_of(TEO), "{role:?}");
    }
    // Unbound principals are refused scoped actions too.
    let view = Action::ViewPerson {
        college_id: COLLEGE,
        province: Some(SD),
        person_id: STUDENT,
    };
    for role in [ProvinceAdmin, CollegeStaff, Candidate] {
        assert!(authorize(Some(&unbound(role)), &view).is_err(), "{role:?}");
    }
    // A province is never matched by an absent province on either side.
    let manage = Action::ManagePerson {
        college_id: COLLEGE,
        province: None,
    };
    assert!(authorize(Some(&unbound(ProvinceAdmin)), &manage).is_err());
}
