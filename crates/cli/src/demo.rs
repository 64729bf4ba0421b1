//! The demo data set: the State Grid TEO with its eleven power certificates, three more
//! TEOs, twelve pilot colleges in seven provinces, their provincial authorities, and
//! students — loaded through the same import path users have, plus one account per role —
//! the assessment data (see [`assessment`]), the certificates issued from it (see
//! [`certificates`]) and the declaration batches with the expert pool (see [`declaration`]).

mod assessment;
mod certificates;
mod declaration;

use anyhow::{Context, Result, bail};
use xcert_bulk::{ImportSet, Sheet};
use xcert_domain::access::{Principal, Role};
use xcert_store::{NewUser, Store};

const ORGANIZATIONS: &str = include_str!("../demo/organizations.csv");
const CERTIFICATES: &str = include_str!("../demo/certificates.csv");
const STANDARDS: &str = include_str!("../demo/standards.csv");
const PEOPLE: &str = include_str!("../demo/people.csv");

/// The demo accounts' password; the demo is a local showcase, never a deployment.
pub const DEMO_PASSWORD: &str = "xcert-demo";

pub struct Login {
    pub username: &'static str,
    pub role: Role,
    pub org: Option<&'static str>,
}

/// username, role, organization (Chinese name), display name
const ACCOUNTS: &[(&str, Role, Option<&str>, &str)] = &[
    ("admin", Role::MinistryAdmin, None, "教育部管理员"),
    (
        "shandong",
        Role::ProvinceAdmin,
        Some("山东省教育厅"),
        "山东省教育厅管理员",
    ),
    (
        "sgcc",
        Role::TeoStaff,
        Some("国家电网有限公司"),
        "国家电网证书管理员",
    ),
    (
        "hanyun",
        Role::TeoStaff,
        Some("北京翰云数智科技有限公司"),
        "翰云数智证书管理员",
    ),
    (
        "college",
        Role::CollegeStaff,
        Some("国网技术学院"),
        "国网技术学院教务员",
    ),
    ("examiner", Role::Examiner, None, "考评员"),
    ("expert", Role::ExpertReviewer, None, "评审专家"),
    ("candidate", Role::Candidate, None, "考生"),
];

/// Every demo row parsed into one import set (sheets in dependency order).
pub fn data_set() -> Result<ImportSet> {
    let mut all = ImportSet::default();
    for (sheet, text) in [
        (Sheet::Organizations, ORGANIZATIONS),
        (Sheet::Certificates, CERTIFICATES),
        (Sheet::Standards, STANDARDS),
        (Sheet::People, PEOPLE),
    ] {
        let s = xcert_bulk::read_csv(text.as_bytes(), Some(sheet))
            .map_err(|e| anyhow::anyhow!("demo {}: {}", sheet.key(), e.en()))?;
        all.organizations.extend(s.organizations);
        all.certificates.extend(s.certificates);
        all.standards.extend(s.standards);
        all.people.extend(s.people);
        all.errors.extend(s.errors);
        all.rows_read += s.rows_read;
    }
    Ok(all)
}

/// Load the demo unless it is already there; returns the logins.
pub async fn load(
    store: &Store,
    data_dir: &std::path::Path,
    web: &xcert_web::WebConfig,
) -> Result<Vec<Login>> {
    if store.user_by_username("admin").await?.is_none() {
        let set = data_set()?;
        let loader = Principal {
            user_id: 0,
            username: "demo-loader".into(),
            role: Role::MinistryAdmin,
            org_id: None,
            province: None,
            person_id: None,
        };
        let s = store.import_apply(&loader, &set, true).await?;
        if !s.committed {
            let first = s
                .errors
                .first()
                .map(|e| format!("{} row {} {}: {}", e.sheet, e.row, e.column, e.en))
                .unwrap_or_default();
            bail!(
                "demo data rejected ({} errors), first: {first}",
                s.errors.len()
            );
        }
        // The candidate account is 刘䶮, a relay protection student of 国网技术学院, who
        // finds an open relay protection exam waiting.
        let candidate_person = store
            .people_list(
                &xcert_domain::access::PeopleScope::All,
                Some(assessment::CANDIDATE_STUDENT_NO),
                None,
            )
            .await?
            .first()
            .map(|p| p.id);
        let mut tx = store.begin_write("demo-loader").await?;
        for (username, role, org, display) in ACCOUNTS {
            let org_id = match org {
                Some(name) => Some(
                    store
                        .org_find(name)
                        .await?
                        .with_context(|| format!("demo organization {name}"))?
                        .id,
                ),
                None => None,
            };
            let person_id = if *role == Role::Candidate {
                candidate_person
            } else {
                None
            };
            tx.user_create(&NewUser {
                username: username.to_string(),
                display_name: display.to_string(),
                password: DEMO_PASSWORD.into(),
                role: role.as_str().into(),
                org_id,
                person_id,
            })
            .await?;
        }
        tx.commit().await?;
        eprintln!(
            "demo data loaded: {} organizations, {} certificates, {} standards, {} students",
            s.organizations_created,
            s.certificates_created,
            s.standards_published,
            s.people_created
        );
        consolidation(store, data_dir).await?;
        assessment::load(store, web).await?;
        declaration::load(store).await?;
    }
    Ok(ACCOUNTS
        .iter()
        .map(|(u, r, o, _)| Login {
            username: u,
            role: *r,
            org: *o,
        })
        .collect())
}

/// A finished material consolidation run over a generated tree of declaration materials
/// (sixteen units, State Grid's certificates with some annexes missing), so the report page
/// has something to show.
async fn consolidation(store: &Store, data_dir: &std::path::Path) -> Result<()> {
    let tree = data_dir.join("demo-materials").join("第四批申报材料");
    if !tree.exists() {
        std::fs::create_dir_all(&tree)?;
        let spec = xcert_ingest::corpus::CorpusSpec {
            seed: 4,
            total_bytes: 24 << 20,
            ..Default::default()
        };
        let t = tree.clone();
        tokio::task::spawn_blocking(move || xcert_ingest::corpus::generate(&t, &spec, &mut |_| {}))
            .await??;
    }
    let org_id = store.org_find("91110000954255506N").await?.map(|o| o.id);
    let mut tx = store.begin_write("demo-loader").await?;
    let id = tx
        .ingest_run_create(&xcert_store::NewRun {
            org_id,
            batch: Some("第四批".into()),
            title: "第四批申报材料汇总".into(),
            sources: vec![xcert_ingest::engine::Source {
                path: std::path::absolute(&tree)?,
                unit: None,
            }],
            options: xcert_store::RunOptions::default(),
        })
        .await?;
    tx.commit().await?;
    let outcome = store
        .ingest_execute(
            id,
            std::sync::Arc::new(|_: &xcert_ingest::engine::Progress| {}),
            std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        )
        .await?;
    if let Some(r) = outcome.report {
        eprintln!(
            "demo consolidation run: {} files, {} duplicate groups, {} missing annexes",
            r.totals.files, r.totals.duplicate_groups, r.totals.missing_annexes
        );
    }
    Ok(())
}

pub fn print_logins(logins: &[Login], url: Option<&str>) {
    if let Some(u) = url {
        println!("\n  Open {u} in a browser. Sign in at {u}/login with:");
    } else {
        println!("\n  Demo accounts:");
    }
    for l in logins {
        println!(
            "    {:<10} / {DEMO_PASSWORD}   {} ({}){}",
            l.username,
            l.role.zh(),
            l.role.en(),
            l.org.map(|o| format!(" · {o}")).unwrap_or_default()
        );
    }
    let u = url.unwrap_or("");
    println!(
        "\n  To try assessment: candidate takes the open relay protection exam at {u}/exam;\n  sgcc keeps the question banks at {u}/admin/bank and the sessions at {u}/admin/exams\n  (a finished one with results and item analysis); examiner scores at {u}/admin/exams."
    );
    println!(
        "\n  To try certificates: sgcc issued the finished session's (job at {u}/admin/issuance,\n  certificates at {u}/admin/issued, one revoked); `candidate` has none yet (their exam is\n  still open), but the passed candidates sign in as s<student no> / {DEMO_PASSWORD} (the load\n  names one) and see theirs at {u}/my/certificates; anyone checks a number at {u}/verify."
    );
    println!(
        "\n  To try declaration and review: the fourth batch is published ({u}/declare, its statistics\n  and shortlist); in the open fifth, sgcc prepares State Grid's application (annexes still\n  missing, tasks for its units), college hands in its tasks at {u}/my/tasks, admin runs the\n  stages at {u}/declare and keeps the expert pool (expert, expert02…expert11 / {DEMO_PASSWORD})."
    );
    println!();
}

pub async fn export(store: &Store, who: &Principal, include_ids: bool) -> Result<Vec<u8>> {
    xcert_web::service::export_for(store, who, include_ids)
        .await
        .map_err(|e| anyhow::anyhow!(e.message("en")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_files_parse_cleanly() {
        let s = super::data_set().unwrap();
        assert!(s.errors.is_empty(), "{:?}", s.errors.first());
        assert_eq!(
            s.certificates
                .iter()
                .filter(|c| c.cert.code.as_str().starts_with("SGCC-"))
                .count(),
            11
        );
        assert!(
            s.organizations
                .iter()
                .filter(|o| o.org.kind == xcert_domain::org::OrgKind::College)
                .count()
                >= 12
        );
        assert!(s.standards.len() == s.certificates.len());
    }
}
