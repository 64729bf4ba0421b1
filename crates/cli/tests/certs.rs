//! Certificates from the command line, checked from outside: `xcert issue` killed with
//! SIGKILL mid-job and resumed (one certificate per candidate, contiguous numbers),
//! `xcert verify` before and after `xcert revoke`, a pass list with a bad row, and the
//! demo's issued certificates. Registry data comes from `xcert demo --no-serve`.

mod common;

use common::{Env, KillOnDrop, engines};
use std::process::Stdio;
use std::time::{Duration, Instant};
use xcert_credential::number::CertificateNumber;
use xcert_domain::ids::ResidentId;

/// The demo's TEO certificate the tests issue (初级 exists for it).
const CODE: &str = "SGCC-RPM";

/// A valid resident ID number, distinct for each `i` below 336,000 (Beijing 东城区,
/// born 2003, day and sequence from `i`).
fn id_number(i: usize) -> String {
    let day = i / 1000;
    let first17 = format!(
        "110101{}{:02}{:02}{:03}",
        2003 + day / 336,
        1 + (day % 336) / 28,
        1 + day % 28,
        i % 1000
    );
    let check = ResidentId::check_char(&first17).unwrap();
    format!("{first17}{check}")
}

/// A Chinese name for candidate `i` (surname and two given-name characters).
fn name(i: usize) -> String {
    const SURNAMES: [char; 12] = [
        '王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙',
    ];
    const GIVEN: [char; 16] = [
        '伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰', '涛', '明', '超',
        '霞',
    ];
    format!(
        "{}{}{}",
        SURNAMES[i % 12],
        GIVEN[(i / 12) % 16],
        GIVEN[(i / 192) % 16]
    )
}

/// A pass-list CSV of `n` candidates (header 姓名,身份证号,院校).
fn pass_list(n: usize) -> String {
    let mut s = String::from("姓名,身份证号,院校\n");
    for i in 0..n {
        s.push_str(&format!("{},{},国网技术学院\n", name(i), id_number(i)));
    }
    s
}

fn demo_env(engine: common::Engine) -> Env {
    let env = Env::new(engine);
    let o = env.ok(&["demo", "--no-serve"]);
    assert!(
        o.stderr.contains("demo certificates:"),
        "[{engine:?}] the demo printed no certificates line:\n{o}"
    );
    env
}

/// Start issuing `n` candidates, SIGKILL the process after its first chunk committed and
/// before the last; returns (job id, certificates committed when it died), or None when
/// the job finished before it could be killed.
fn issue_and_kill(env: &Env, n: usize, sref: &str) -> Option<(i64, i64)> {
    let file = env.write(&format!("pass-{n}.csv"), pass_list(n));
    let mut cmd = env.command(&[
        "issue",
        "--pass-list",
        file.to_str().unwrap(),
        "--certificate",
        CODE,
        "--level",
        "junior",
        "--session-ref",
        sref,
    ]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = KillOnDrop(cmd.spawn().expect("start xcert issue"));
    let job_sql = format!("SELECT COUNT(*) FROM issuance_jobs WHERE session_key = 'upload:{sref}'");
    let started = Instant::now();
    let mut job = None;
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "issuing {n} did not get going in 10 minutes"
        );
        if let Some(status) = child.0.try_wait().unwrap() {
            assert!(status.success(), "xcert issue failed: {status}");
            return None;
        }
        if job.is_none() && env.scalar(&job_sql) == 1 {
            job = Some(env.scalar(&format!(
                "SELECT id FROM issuance_jobs WHERE session_key = 'upload:{sref}'"
            )));
        }
        if let Some(id) = job {
            let done = env.scalar(&format!("SELECT done FROM issuance_jobs WHERE id = {id}"));
            if done > 0 {
                child.0.kill().unwrap();
                child.0.wait().unwrap();
                // What the database holds once the process is gone is what counts.
                let done = env.scalar(&format!("SELECT done FROM issuance_jobs WHERE id = {id}"));
                let state = env.text(&format!("SELECT state FROM issuance_jobs WHERE id = {id}"));
                if done >= n as i64 || state != "running" {
                    return None;
                }
                return Some((id, done));
            }
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

#[test]
fn a_killed_issuing_job_resumes_with_one_certificate_per_candidate_and_no_gap() {
    for engine in engines() {
        let env = demo_env(engine);
        // Chunks commit every 2,000 certificates: 3,000 candidates leave one chunk after
        // the first commit to kill in; more if the machine signs too fast for that.
        let mut killed = None;
        for (attempt, n) in [3000usize, 6000, 12000].into_iter().enumerate() {
            let sref = format!("kill-test-{attempt}");
            if let Some((job, done)) = issue_and_kill(&env, n, &sref) {
                killed = Some((job, done, n, sref));
                break;
            }
        }
        let Some((job, done_at_kill, n, sref)) = killed else {
            panic!("[{engine:?}] every issuing run finished before it could be killed");
        };
        eprintln!("[{engine:?}] killed job {job} of {n} at {done_at_kill} certificates");
        let n64 = n as i64;
        assert!(
            done_at_kill > 0 && done_at_kill < n64,
            "[{engine:?}] killed at {done_at_kill} of {n}"
        );
        let in_job = format!("FROM issued_certificates WHERE job_id = {job}");
        assert_eq!(
            env.scalar(&format!("SELECT COUNT(*) {in_job}")),
            done_at_kill,
            "[{engine:?}] committed certificates and the job's progress disagree"
        );

        let o = env.ok(&["issue", "--resume", &job.to_string()]);
        assert!(o.stdout.contains("done"), "[{engine:?}] resume:\n{o}");

        assert_eq!(env.scalar(&format!("SELECT COUNT(*) {in_job}")), n64);
        assert_eq!(
            env.scalar(&format!("SELECT COUNT(DISTINCT id_hash) {in_job}")),
            n64,
            "[{engine:?}] a candidate holds two certificates"
        );
        assert_eq!(
            env.scalar(&format!(
                "SELECT COUNT(*) FROM issued_certificates WHERE session_key = 'upload:{sref}'"
            )),
            n64,
            "[{engine:?}] certificates outside the job for the same assessment"
        );
        // Numbers: 4-digit year, level digit 1, 9-digit sequence, check character; the
        // job's sequences are one contiguous range.
        let min = env.scalar(&format!(
            "SELECT MIN(CAST(SUBSTR(number, 6, 9) AS BIGINT)) {in_job}"
        ));
        let max = env.scalar(&format!(
            "SELECT MAX(CAST(SUBSTR(number, 6, 9) AS BIGINT)) {in_job}"
        ));
        assert_eq!(max - min + 1, n64, "[{engine:?}] numbers {min}..={max}");
        for q in ["MIN", "MAX"] {
            let num = env.text(&format!("SELECT {q}(number) {in_job}"));
            let parsed = CertificateNumber::parse(&num)
                .unwrap_or_else(|e| panic!("[{engine:?}] {num} is not a valid number: {e:?}"));
            assert_eq!(parsed.level(), 1, "{num}");
        }
        assert_eq!(
            env.text(&format!("SELECT state FROM issuance_jobs WHERE id = {job}")),
            "done"
        );
        assert_eq!(
            env.scalar(&format!("SELECT done FROM issuance_jobs WHERE id = {job}")),
            n64
        );
        // Raw ID numbers are dropped once the job has signed.
        assert_eq!(
            env.scalar(&format!(
                "SELECT COUNT(*) FROM issuance_rows WHERE job_id = {job} AND id_number IS NOT NULL"
            )),
            0,
            "[{engine:?}] raw ID numbers kept after the job"
        );

        // Resuming a finished job changes nothing; issuing the same list again from the
        // same assessment gives nobody a second certificate.
        env.ok(&["issue", "--resume", &job.to_string()]);
        let file = env.path(&format!("pass-{n}.csv"));
        let again = env.run(&[
            "issue",
            "--pass-list",
            file.to_str().unwrap(),
            "--certificate",
            CODE,
            "--level",
            "junior",
            "--session-ref",
            &sref,
        ]);
        assert!(
            !again.ok(),
            "[{engine:?}] the same list issued twice:\n{again}"
        );
        assert_eq!(env.scalar(&format!("SELECT COUNT(*) {in_job}")), n64);
        assert_eq!(
            env.scalar(&format!(
                "SELECT COUNT(*) FROM issued_certificates WHERE session_key = 'upload:{sref}'"
            )),
            n64
        );
    }
}

#[test]
fn verify_says_valid_then_names_the_revocation_and_the_demo_shows_both() {
    for engine in engines() {
        let env = demo_env(engine);
        // The demo issued the passed candidates' certificates and revoked one.
        let issued = env.scalar("SELECT COUNT(*) FROM issued_certificates");
        assert!(issued >= 2, "[{engine:?}] demo issued {issued}");
        assert_eq!(
            env.scalar("SELECT COUNT(*) FROM issued_certificates WHERE state = 'revoked' AND state_reason IS NOT NULL"),
            1,
            "[{engine:?}] the demo revokes one certificate with a reason"
        );
        assert_eq!(
            env.text("SELECT state FROM issuance_jobs ORDER BY id LIMIT 1"),
            "done"
        );

        let number = env.text(
            "SELECT MIN(number) FROM issued_certificates WHERE state = 'active' AND person_id IS NOT NULL",
        );
        let json = env.text(&format!(
            "SELECT credential_json FROM issued_certificates WHERE number = '{number}'"
        ));
        let jwt = env.text(&format!(
            "SELECT credential_jwt FROM issued_certificates WHERE number = '{number}'"
        ));
        let jf = env.write("credential.json", &json);
        let tf = env.write("credential.jwt", &jwt);
        for f in [&jf, &tf] {
            let o = env.run(&["verify", f.to_str().unwrap()]);
            assert_eq!(o.code, Some(0), "[{engine:?}] verify {}:\n{o}", f.display());
            assert!(o.stdout.contains("VALID"), "[{engine:?}]\n{o}");
            assert!(!o.stdout.contains("NOT VALID"), "[{engine:?}]\n{o}");
        }

        let reason = "证书信息有误，经复核撤销";
        let o = env.ok(&["revoke", &number, "--reason", reason]);
        assert!(o.stdout.contains("revoked"), "[{engine:?}] revoke:\n{o}");
        assert_eq!(
            env.text(&format!(
                "SELECT state_reason FROM issued_certificates WHERE number = '{number}'"
            )),
            reason
        );
        for f in [&jf, &tf] {
            let o = env.run(&["verify", f.to_str().unwrap()]);
            assert_eq!(o.code, Some(1), "[{engine:?}] verify after revoke:\n{o}");
            assert!(o.stdout.contains("NOT VALID"), "[{engine:?}]\n{o}");
            assert!(
                o.stdout.contains("revoked") && o.stdout.contains("已被撤销"),
                "[{engine:?}] the output does not name the revocation:\n{o}"
            );
            let j = env.run(&["verify", f.to_str().unwrap(), "--json"]);
            assert_eq!(j.code, Some(1), "[{engine:?}]\n{j}");
            let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
            assert_eq!(v["ok"], false);
        }
        // Rotating the TEO's key keeps what the old key signed verifiable.
        let teo = env.text(&format!(
            "SELECT CAST(teo_id AS TEXT) FROM issued_certificates WHERE number = '{number}'"
        ));
        let o = env.ok(&["keys", "rotate", "--teo", &teo]);
        assert!(
            o.stdout.contains("#key-2")
                && o.stdout.contains("current")
                && o.stdout.contains("retired"),
            "[{engine:?}] keys rotate:\n{o}"
        );
        let other = env.text(&format!(
            "SELECT MAX(number) FROM issued_certificates WHERE state = 'active' AND key_id = 'key-1' AND number <> '{number}'"
        ));
        let old_json = env.text(&format!(
            "SELECT credential_json FROM issued_certificates WHERE number = '{other}'"
        ));
        let of = env.write("old-key.json", &old_json);
        let o = env.run(&["verify", of.to_str().unwrap()]);
        assert_eq!(
            o.code,
            Some(0),
            "[{engine:?}] signed by the retired key:\n{o}"
        );

        // Revocation is final.
        let o = env.run(&["revoke", &number, "--reinstate", "--reason", "误操作"]);
        assert!(
            !o.ok(),
            "[{engine:?}] a revoked certificate was reinstated:\n{o}"
        );

        // The demo's own revoked example verifies as revoked too.
        let demo_revoked = env.text(&format!(
            "SELECT credential_json FROM issued_certificates WHERE state = 'revoked' AND number <> '{number}'"
        ));
        let f = env.write("demo-revoked.json", &demo_revoked);
        let o = env.run(&["verify", f.to_str().unwrap()]);
        assert_eq!(
            o.code,
            Some(1),
            "[{engine:?}] the demo's revoked example:\n{o}"
        );
        assert!(o.stdout.contains("revoked"), "[{engine:?}]\n{o}");
    }
}

#[test]
fn a_pass_list_with_a_bad_row_names_it_and_writes_nothing() {
    for engine in engines() {
        let env = demo_env(engine);
        let jobs = env.scalar("SELECT COUNT(*) FROM issuance_jobs");
        let issued = env.scalar("SELECT COUNT(*) FROM issued_certificates");
        // Row 4 of the file (the third candidate): its ID number's check character is wrong.
        let mut text = pass_list(5);
        let good = id_number(2);
        let wrong = if good.ends_with('0') { '1' } else { '0' };
        let bad = format!("{}{wrong}", &good[..17]);
        text = text.replace(&good, &bad);
        let file = env.write("bad.csv", &text);
        let args = [
            "issue",
            "--pass-list",
            file.to_str().unwrap(),
            "--certificate",
            CODE,
            "--level",
            "junior",
            "--session-ref",
            "bad-row-test",
        ];
        for dry in [true, false] {
            let mut a = args.to_vec();
            if dry {
                a.push("--dry-run");
            }
            let o = env.run(&a);
            assert!(!o.ok(), "[{engine:?}] a bad pass list was accepted:\n{o}");
            assert!(
                o.stdout.contains("row 4 id_number"),
                "[{engine:?}] the bad row is not named:\n{o}"
            );
            assert!(o.all().contains("nothing was issued"), "[{engine:?}]\n{o}");
            assert_eq!(env.scalar("SELECT COUNT(*) FROM issuance_jobs"), jobs);
            assert_eq!(
                env.scalar("SELECT COUNT(*) FROM issued_certificates"),
                issued
            );
            assert_eq!(
                env.scalar(
                    "SELECT COUNT(*) FROM issued_certificates WHERE session_key = 'upload:bad-row-test'"
                ),
                0
            );
        }
    }
}

#[test]
fn bench_issue_counts_every_certificate_back() {
    // The bench makes (and removes) its own temporary data folder.
    let o = std::process::Command::new(common::BIN)
        .args(["bench", "issue", "--count", "500", "--json"])
        .env("XCERT_LOG", "warn")
        .env_remove("XCERT_DATABASE_URL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["count"], 500);
    assert_eq!(v["stored"], 500);
    for k in [
        "certificates_per_minute",
        "raw_signatures_per_minute",
        "ratio",
    ] {
        assert!(v[k].as_f64().unwrap() > 0.0, "{k}: {text}");
    }
}
