//! Black-box tests of the `xcert` binary: every command run as a process against a
//! fresh data folder, on SQLite always and on PostgreSQL when `XCERT_TEST_PG_URL` is set
//! (a new database per test; an unreachable server fails the test).

mod common;

use common::{Engine, Env, engines, id_check, spawn_server};

/// A TEO and a college whose GB 32100 check characters are right.
const TEO_CODE: &str = "91350100M000100Y43";
const COLLEGE_CODE: &str = "91110108551385082Q";
/// TEO_CODE with a wrong check character.
const BAD_CODE: &str = "91350100M000100Y44";
const ORG_HEADER: &str = "kind,name_zh,name_en,credit_code,province,state,website";

fn teo_row() -> String {
    format!("teo,国家电网有限公司,State Grid,{TEO_CODE},北京市,active,")
}

fn college_row() -> String {
    format!("college,国网技术学院,,{COLLEGE_CODE},山东省,,")
}

/// A clean organizations CSV with the TEO and the college.
fn clean_orgs_csv(env: &Env) -> String {
    let p = env.write(
        "orgs.csv",
        format!("{ORG_HEADER}\n{}\n{}\n", teo_row(), college_row()),
    );
    p.display().to_string()
}

#[test]
fn help_lists_every_subcommand() {
    let o = std::process::Command::new(common::BIN)
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    for sub in [
        "serve", "demo", "migrate", "user", "import", "export", "audit", "template", "items",
        "analyze", "bench",
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "--help does not list `{sub}`:\n{text}"
        );
    }
}

#[test]
fn migrate_prints_the_schema_version() {
    for engine in engines() {
        let env = Env::new(engine);
        let o = env.ok(&["migrate"]);
        let v: i64 = o
            .stdout
            .split("schema version")
            .nth(1)
            .unwrap_or_else(|| panic!("[{engine:?}] no schema version in:\n{o}"))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("[{engine:?}] schema version is not a number ({e}):\n{o}"));
        assert!(v >= 1, "[{engine:?}] {o}");
        match engine {
            Engine::Sqlite => assert!(o.stdout.contains("SQLite"), "{o}"),
            Engine::Postgres => assert!(o.stdout.contains("postgres://"), "{o}"),
        }
        // Running it again is a no-op at the same version.
        let again = env.ok(&["migrate"]);
        assert_eq!(again.stdout, o.stdout, "[{engine:?}]");
    }
}

#[test]
fn user_add_and_list() {
    for engine in engines() {
        let env = Env::new(engine);
        let csv = clean_orgs_csv(&env);
        env.ok(&["import", &csv, "--yes"]);

        let o = env.run_with_stdin(
            &[
                "user",
                "add",
                "alice",
                "--role",
                "teo_staff",
                "--org",
                TEO_CODE,
                "--name",
                "Alice",
                "--password-stdin",
            ],
            "alice-password-1\n",
        );
        assert!(o.ok(), "[{engine:?}] user add:\n{o}");
        assert!(o.stdout.contains("created alice (teo_staff)"), "{o}");

        let list = env.ok(&["user", "list"]);
        let line = list
            .stdout
            .lines()
            .find(|l| l.starts_with("alice "))
            .unwrap_or_else(|| panic!("[{engine:?}] alice not listed:\n{list}"));
        assert!(
            line.contains("teo_staff") && line.contains("国家电网有限公司"),
            "{line}"
        );

        // A bad role names the role field.
        let o = env.run_with_stdin(
            &[
                "user",
                "add",
                "bob",
                "--role",
                "wizard",
                "--org",
                TEO_CODE,
                "--password-stdin",
            ],
            "bob-password-1\n",
        );
        assert!(!o.ok(), "[{engine:?}] bad role accepted:\n{o}");
        assert!(o.stderr.contains("role"), "[{engine:?}] {o}");

        // A TEO account without an organization names the organization field.
        let o = env.run_with_stdin(
            &[
                "user",
                "add",
                "carol",
                "--role",
                "teo_staff",
                "--password-stdin",
            ],
            "carol-password-1\n",
        );
        assert!(!o.ok(), "[{engine:?}] missing org accepted:\n{o}");
        assert!(o.stderr.contains("org_id"), "[{engine:?}] {o}");

        // An organization that does not exist is named.
        let o = env.run_with_stdin(
            &[
                "user",
                "add",
                "dave",
                "--role",
                "teo_staff",
                "--org",
                "91110000000000000X",
                "--password-stdin",
            ],
            "dave-password-1\n",
        );
        assert!(!o.ok(), "[{engine:?}] unknown org accepted:\n{o}");
        assert!(
            o.stderr.contains("organization") && o.stderr.contains("91110000000000000X"),
            "[{engine:?}] {o}"
        );

        // A short password is refused by name.
        let o = env.run_with_stdin(
            &[
                "user",
                "add",
                "erin",
                "--role",
                "examiner",
                "--password-stdin",
            ],
            "short\n",
        );
        assert!(!o.ok(), "[{engine:?}] short password accepted:\n{o}");
        assert!(o.stderr.contains("password"), "[{engine:?}] {o}");

        // None of the refused accounts exists.
        let list = env.ok(&["user", "list"]);
        assert_eq!(
            list.stdout.lines().filter(|l| !l.trim().is_empty()).count(),
            1,
            "[{engine:?}] {list}"
        );
    }
}

#[test]
fn csv_import_rejects_bad_rows_and_writes_nothing() {
    for engine in engines() {
        let env = Env::new(engine);
        let bad = env.write(
            "bad.csv",
            format!(
                "{ORG_HEADER}\n{}\ncollege,国网技术学院,,{BAD_CODE},山东省,,\n",
                teo_row()
            ),
        );
        let o = env.run(&["import", bad.to_str().unwrap(), "--yes"]);
        assert_eq!(o.code, Some(1), "[{engine:?}] {o}");
        let line = o
            .stdout
            .lines()
            .find(|l| l.contains("row 3"))
            .unwrap_or_else(|| panic!("[{engine:?}] row 3 not named:\n{o}"));
        assert!(line.contains("column credit_code"), "{line}");
        assert!(!o.stdout.contains("row 2"), "[{engine:?}] {o}");
        assert!(o.stderr.contains("nothing was written"), "{o}");

        // Nothing was written: the good row alone is still new.
        let good = env.write("good.csv", format!("{ORG_HEADER}\n{}\n", teo_row()));
        let o = env.ok(&["import", good.to_str().unwrap(), "--dry-run"]);
        assert!(
            o.stdout.contains("organizations: 1 new, 0 updated"),
            "[{engine:?}] {o}"
        );
        assert!(o.stderr.contains("dry run"), "{o}");
        assert_eq!(env.scalar("SELECT COUNT(*) FROM organizations"), 0);

        // Without --yes and without a terminal, nothing is applied either.
        let o = env.run(&["import", good.to_str().unwrap()]);
        assert!(!o.ok(), "[{engine:?}] applied without --yes:\n{o}");
        assert!(o.stderr.contains("--yes"), "{o}");
        assert_eq!(env.scalar("SELECT COUNT(*) FROM organizations"), 0);

        // A clean file is written with --yes ...
        let csv = clean_orgs_csv(&env);
        let o = env.ok(&["import", &csv, "--yes"]);
        assert!(
            o.stdout.contains("organizations: 2 new, 0 updated"),
            "[{engine:?}] {o}"
        );
        assert!(o.stdout.contains("2 records written"), "[{engine:?}] {o}");
        assert_eq!(env.scalar("SELECT COUNT(*) FROM organizations"), 2);

        // ... and importing it again updates rather than duplicates.
        let o = env.ok(&["import", &csv, "--yes"]);
        assert!(
            o.stdout.contains("organizations: 0 new, 2 updated"),
            "[{engine:?}] {o}"
        );
        assert_eq!(env.scalar("SELECT COUNT(*) FROM organizations"), 2);

        // --json gives the same preview as data.
        let o = env.ok(&["import", &csv, "--dry-run", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&o.stdout)
            .unwrap_or_else(|e| panic!("[{engine:?}] --json is not JSON ({e}):\n{o}"));
        assert_eq!(v["organizations_updated"], 2, "{v}");
        assert_eq!(v["organizations_created"], 0, "{v}");
        assert_eq!(v["committed"], false, "{v}");
    }
}

fn people_xlsx(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("people").unwrap();
    for (c, h) in [
        "name",
        "id_number",
        "college",
        "student_no",
        "major",
        "phone",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

#[test]
fn xlsx_import_names_the_bad_id_number() {
    // 11010519491231002X is valid; any other last character is not.
    assert_eq!(id_check("11010519491231002"), 'X');
    let good_first = "37010220040315241";
    let good_id = format!("{good_first}{}", id_check(good_first));
    let bad_id = "110105194912310020";
    for engine in engines() {
        let env = Env::new(engine);
        let csv = clean_orgs_csv(&env);
        env.ok(&["import", &csv, "--yes"]);

        let xlsx = env.write(
            "people.xlsx",
            people_xlsx(&[
                [
                    "张三",
                    &good_id,
                    COLLEGE_CODE,
                    "2023010101",
                    "供用电技术",
                    "13800138000",
                ],
                [
                    "李四",
                    bad_id,
                    COLLEGE_CODE,
                    "2023010102",
                    "供用电技术",
                    "13800138001",
                ],
            ]),
        );
        let o = env.run(&["import", xlsx.to_str().unwrap(), "--yes"]);
        assert_eq!(o.code, Some(1), "[{engine:?}] {o}");
        let line = o
            .stdout
            .lines()
            .find(|l| l.contains("row 3"))
            .unwrap_or_else(|| panic!("[{engine:?}] row 3 not named:\n{o}"));
        assert!(
            line.contains("people") && line.contains("column id_number"),
            "{line}"
        );
        assert!(!o.stdout.contains("row 2"), "[{engine:?}] {o}");
        // The ID number itself is never echoed.
        assert!(!o.all().contains(bad_id), "[{engine:?}] {o}");
        assert_eq!(env.scalar("SELECT COUNT(*) FROM people"), 0);

        // The good row alone goes in.
        let xlsx = env.write(
            "people-good.xlsx",
            people_xlsx(&[["张三", &good_id, COLLEGE_CODE, "2023010101", "", ""]]),
        );
        let o = env.ok(&["import", xlsx.to_str().unwrap(), "--yes"]);
        assert!(
            o.stdout.contains("people:        1 new"),
            "[{engine:?}] {o}"
        );
        assert_eq!(env.scalar("SELECT COUNT(*) FROM people"), 1);
    }
}

#[test]
fn export_writes_an_xlsx() {
    for engine in engines() {
        let env = Env::new(engine);
        let csv = clean_orgs_csv(&env);
        env.ok(&["import", &csv, "--yes"]);
        let out = env.path("out.xlsx");
        let o = env.ok(&["export", "-o", out.to_str().unwrap()]);
        assert!(o.stdout.contains("wrote"), "{o}");
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.starts_with(b"PK"), "[{engine:?}] export is not a zip");
        // The export reads back as an import of the same registry: two updates, no errors.
        let o = env.ok(&["import", out.to_str().unwrap(), "--dry-run"]);
        assert!(
            o.stdout.contains("organizations: 0 new, 2 updated"),
            "[{engine:?}] {o}"
        );
    }
}

#[test]
fn template_writes_an_xlsx() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.xlsx");
    let o = std::process::Command::new(common::BIN)
        .args(["template", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert!(std::fs::read(&out).unwrap().starts_with(b"PK"));
}

#[test]
fn audit_verify_detects_tampering() {
    for engine in engines() {
        let env = Env::new(engine);
        let csv = clean_orgs_csv(&env);
        env.ok(&["import", &csv, "--yes"]);
        let o = env.run_with_stdin(
            &[
                "user",
                "add",
                "alice",
                "--role",
                "teo_staff",
                "--org",
                TEO_CODE,
                "--password-stdin",
            ],
            "alice-password-1\n",
        );
        assert!(o.ok(), "{o}");

        let o = env.ok(&["audit", "verify"]);
        assert!(o.stdout.contains("intact"), "[{engine:?}] {o}");
        let n = env.scalar("SELECT COUNT(*) FROM audit_log");
        assert!(n >= 3, "[{engine:?}] only {n} audit entries");
        assert!(o.stdout.contains(&format!("{n} entries")), "{o}");

        assert_eq!(
            env.exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"),
            1
        );
        let o = env.run(&["audit", "verify"]);
        assert_eq!(o.code, Some(1), "[{engine:?}] {o}");
        assert!(o.stdout.contains("BROKEN"), "[{engine:?}] {o}");
    }
}

#[test]
fn demo_loads_once() {
    for engine in engines() {
        let env = Env::new(engine);
        let o = env.ok(&["demo", "--no-serve"]);
        for user in [
            "admin",
            "shandong",
            "sgcc",
            "hanyun",
            "college",
            "examiner",
            "expert",
            "candidate",
        ] {
            assert!(
                o.stdout.lines().any(|l| l.trim_start().starts_with(user)),
                "[{engine:?}] login {user} not printed:\n{o}"
            );
        }
        assert!(o.stdout.contains("xcert-demo"), "{o}");
        assert!(o.stderr.contains("demo data loaded"), "{o}");
        let counts = |env: &Env| {
            [
                "users",
                "organizations",
                "certificates",
                "people",
                "audit_log",
                "items",
                "item_versions",
                "blueprints",
                "assemblies",
                "forms",
                "exam_sessions",
                "exam_candidates",
                "exam_responses",
                "practical_scores",
                "exam_results",
                "analysis_reports",
            ]
            .map(|t| env.scalar(&format!("SELECT COUNT(*) FROM {t}")))
        };
        let first = counts(&env);
        // One account per role, two TEO examiners, forty candidates (demo/assessment.rs).
        assert_eq!(first[0], 8 + 2 + 40 + 10, "[{engine:?}] users");
        assert!(first[2] >= 11, "[{engine:?}] certificates");

        let again = env.ok(&["demo", "--no-serve"]);
        assert!(again.stdout.contains("admin"), "{again}");
        assert!(!again.stderr.contains("demo data loaded"), "{again}");
        assert_eq!(
            counts(&env),
            first,
            "[{engine:?}] the demo was loaded twice"
        );
        let o = env.ok(&["audit", "verify"]);
        assert!(o.stdout.contains("intact"), "[{engine:?}] {o}");
    }
}

#[test]
fn serve_answers_the_catalogue_api() {
    for engine in engines() {
        let env = Env::new(engine);
        env.ok(&["demo", "--no-serve"]);
        let server = spawn_server(env.command(&["serve", "--port", "0"]));
        let base = server.base.clone();
        let (status, body) = common::block_on(async {
            let r = reqwest::Client::new()
                .get(format!("{base}/api/v1/certificates"))
                .query(&[("q", "继电保护")])
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.text().await.unwrap())
        });
        assert_eq!(
            status,
            200,
            "[{engine:?}] {body}\n--- server stderr ---\n{}",
            server.stderr()
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let codes: Vec<&str> = v["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items: {v}"))
            .iter()
            .filter_map(|i| i["code"].as_str())
            .collect();
        assert!(codes.contains(&"SGCC-RPM"), "[{engine:?}] {codes:?}");
        assert!(
            codes.iter().all(|c| c.starts_with("SGCC-")),
            "[{engine:?}] unrelated results for 继电保护: {codes:?}"
        );
        drop(server);
    }
}

#[test]
fn reimporting_an_export_adds_no_standard_versions_and_candidates_link_to_students() {
    for engine in engines() {
        let env = Env::new(engine);
        env.ok(&["demo", "--no-serve"]);
        let versions = env.scalar("SELECT COUNT(*) FROM standard_versions");
        let out = env.path("all.xlsx");
        env.ok(&["export", "-o", out.to_str().unwrap(), "--include-ids"]);
        let o = env.ok(&["import", out.to_str().unwrap(), "--yes"]);
        assert!(
            o.stdout
                .contains("standards:     0 published, 18 unchanged"),
            "[{engine:?}] {o}"
        );
        assert!(
            o.stdout.contains("people:        0 new, 100 updated"),
            "[{engine:?}] {o}"
        );
        assert_eq!(
            env.scalar("SELECT COUNT(*) FROM standard_versions"),
            versions,
            "[{engine:?}] no new versions"
        );

        // A candidate account is linked to a student by the student's ID number.
        let (id_number, person_id) = {
            let id = env.scalar("SELECT MIN(id) FROM people");
            let raw = env.text(&format!("SELECT id_number FROM people WHERE id = {id}"));
            (raw, id)
        };
        let o = env.run_with_stdin(
            &[
                "user",
                "add",
                "stu1",
                "--role",
                "candidate",
                "--person",
                &id_number,
                "--password-stdin",
            ],
            "a-long-password\n",
        );
        assert!(o.ok(), "[{engine:?}] {o}");
        assert_eq!(
            env.scalar("SELECT person_id FROM users WHERE username = 'stu1'"),
            person_id
        );
        let o = env.run_with_stdin(
            &[
                "user",
                "add",
                "stu2",
                "--role",
                "candidate",
                "--password-stdin",
            ],
            "a-long-password\n",
        );
        assert!(!o.ok() && o.all().contains("person_id"), "[{engine:?}] {o}");
    }
}

/// The bank from the command line: a GIFT file with one broken question is previewed with
/// its line, nothing written without --yes, then imported; exported as QTI 3.0 and read
/// back by the importer with nothing to change.
#[test]
fn items_import_and_export_a_bank() {
    for engine in engines() {
        let env = Env::new(engine);
        let orgs = clean_orgs_csv(&env);
        env.ok(&["import", &orgs, "--yes"]);
        let certs = env.write(
            "certs.csv",
            format!(
                "code,name_zh,name_en,teo,levels,status,majors,posts,competitions,description\nTST-GIFT,继电保护,,{TEO_CODE},初级,published,,,,\n"
            ),
        );
        env.ok(&["import", certs.to_str().unwrap(), "--yes"]);
        let gift = env.write(
            "bank.gift",
            "// 继电保护题库\n::Q1:: 继电保护的基本要求不包括 {=美观性 ~选择性 ~速动性 ~可靠性}\n\n::Q2:: 停电检修时应先验电后挂接地线。{T}\n\n::Q3:: 电流的单位是 {=安培 =A}\n\n::Q4:: 不完整的题目 {=甲 ~乙\n",
        );
        let o = env.run(&[
            "items",
            "import",
            "--certificate",
            "TST-GIFT",
            gift.to_str().unwrap(),
        ]);
        assert!(o.ok(), "{}", o.all());
        assert!(o.stdout.contains("3 items to import"), "{}", o.all());
        assert!(
            o.all().contains("line 8"),
            "the broken question is named by its line: {}",
            o.all()
        );
        assert_eq!(
            env.scalar("SELECT COUNT(*) FROM items"),
            0,
            "no --yes, nothing written"
        );
        let o = env.ok(&[
            "items",
            "import",
            "--certificate",
            "TST-GIFT",
            gift.to_str().unwrap(),
            "--yes",
            "--status",
            "approved",
        ]);
        assert!(o.stdout.contains("3 new"), "{}", o.all());
        assert_eq!(
            env.scalar("SELECT COUNT(*) FROM items WHERE review_status = 'approved'"),
            3
        );
        let out = env.path("bank-qti3.zip");
        env.ok(&[
            "items",
            "export",
            "--certificate",
            "TST-GIFT",
            "--format",
            "qti3",
            "-o",
            out.to_str().unwrap(),
        ]);
        let o = env.ok(&[
            "items",
            "import",
            "--certificate",
            "TST-GIFT",
            out.to_str().unwrap(),
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(v["unchanged"], 3, "{v}");
        assert_eq!(v["errors"], 0);
        // A certificate that does not exist is named.
        let o = env.run(&[
            "items",
            "import",
            "--certificate",
            "NOPE-1",
            gift.to_str().unwrap(),
        ]);
        assert!(!o.ok() && o.all().contains("NOPE-1"), "{}", o.all());
    }
}
