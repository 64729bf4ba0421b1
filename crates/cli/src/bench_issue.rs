//! `xcert bench issue`: how fast a TEO's certificates are signed and stored, against how
//! fast the same cores sign raw ed25519 messages. A fresh database gets one TEO with one
//! certificate (through the registry import), a synthetic pass list of N candidates is
//! read and checked like an upload, staged as a job and run; every stored certificate is
//! counted back.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use xcert_credential::keys::IssuerKey;
use xcert_domain::access::Principal;
use xcert_domain::ids::ResidentId;
use xcert_store::{IssuedFilter, JobState, Objects, Store};
use xcert_web::{AppState, WebConfig, issue};

const ORGANIZATIONS: &str = "kind,name_zh,name_en,credit_code,province,state,website
teo,国家电网有限公司,State Grid Corporation of China,91110000954255506N,北京市,active,http://www.sgcc.com.cn
";
const CERTIFICATES: &str = "code,name_zh,name_en,teo,levels,status,majors,posts,competitions,description
SGCC-RPM,继电保护检修,Relay Protection Maintenance,91110000954255506N,初级;中级;高级,published,电力系统继电保护技术,继电保护员,,持证人能够完成保护装置定值校验、二次回路检查和保护动作分析。
";
const STANDARDS: &str = "certificate_code,level,work_area,work_task,skill_requirement
SGCC-RPM,初级,保护装置检验,定值校验,能按照检验规程完成保护装置定值校验并规范填写记录。
SGCC-RPM,中级,保护装置检验,二次回路检查,能完成二次回路绝缘检查与接线正确性核对。
SGCC-RPM,高级,保护动作分析,故障录波分析,能根据故障录波和保护动作报告分析保护动作行为。
";
const CODE: &str = "SGCC-RPM";

#[derive(Debug, Serialize)]
pub struct Report {
    pub count: usize,
    pub database: String,
    pub threads: usize,
    /// Reading and checking the pass-list file (parse, ID check characters, lookup hashes).
    pub read_secs: f64,
    /// Creating the job: numbers and status slots reserved, rows staged.
    pub stage_secs: f64,
    /// Running the job: every credential signed (Data Integrity proof and JWT) and stored.
    pub run_secs: f64,
    pub certificates_per_minute: f64,
    /// Raw ed25519 signatures of 64-byte messages on the same threads.
    pub raw_secs: f64,
    pub raw_signatures_per_minute: f64,
    /// raw signatures per minute ÷ certificates per minute (each certificate carries two
    /// signatures, so 2 would mean signing is all the time spent).
    pub ratio: f64,
    pub stored: i64,
}

/// A valid resident ID number for candidate `i` (distinct for i below 3,360,000).
fn id_number(i: usize) -> Result<String> {
    let day = i / 1000;
    let first17 = format!(
        "110101{}{:02}{:02}{:03}",
        2000 + day / 336,
        1 + (day % 336) / 28,
        1 + day % 28,
        i % 1000
    );
    let check = ResidentId::check_char(&first17).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!("{first17}{check}"))
}

fn name(i: usize) -> String {
    const SURNAMES: [char; 16] = [
        '王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '马', '朱', '胡',
        '郭',
    ];
    const GIVEN: [char; 20] = [
        '伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰', '涛', '明', '超',
        '霞', '婷', '鹏', '䶮', '昊',
    ];
    format!(
        "{}{}{}",
        SURNAMES[i % 16],
        GIVEN[(i / 16) % 20],
        GIVEN[(i / 320) % 20]
    )
}

fn write_pass_list(path: &Path, n: usize) -> Result<()> {
    let mut s = String::with_capacity(n * 48 + 32);
    s.push_str("姓名,身份证号,院校\n");
    for i in 0..n {
        s.push_str(&format!("{},{},国网技术学院\n", name(i), id_number(i)?));
    }
    std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))
}

/// Sign `n` distinct 64-byte messages across `threads` threads; seconds taken.
fn raw_signing(n: usize, threads: usize) -> f64 {
    let key = IssuerKey::generate();
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let key = &key;
            s.spawn(move || {
                let mut msg = [0u8; 64];
                let mut acc = 0u8;
                for i in (t..n).step_by(threads) {
                    msg[..8].copy_from_slice(&(i as u64).to_le_bytes());
                    acc ^= key.sign(&msg)[0];
                }
                std::hint::black_box(acc);
            });
        }
    });
    started.elapsed().as_secs_f64()
}

pub async fn run(
    count: usize,
    database_url: Option<&str>,
    who: &Principal,
) -> Result<(Report, std::path::PathBuf)> {
    if count == 0 {
        bail!("--count must be at least 1");
    }
    let dir = std::env::temp_dir().join(format!(
        "xcert-bench-issue-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    ));
    std::fs::create_dir_all(&dir)?;
    let url = database_url
        .map(str::to_string)
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("xcert.db").display()));
    let store = Store::open(&url, Objects::local(&dir.join("objects"))?)
        .await
        .with_context(|| format!("opening database {}", xcert_store::redact_url(&url)))?;
    if store.org_find("91110000954255506N").await?.is_some() {
        bail!("the bench needs an empty database");
    }

    let mut set = xcert_bulk::ImportSet::default();
    for (sheet, text) in [
        (xcert_bulk::Sheet::Organizations, ORGANIZATIONS),
        (xcert_bulk::Sheet::Certificates, CERTIFICATES),
        (xcert_bulk::Sheet::Standards, STANDARDS),
    ] {
        let s = xcert_bulk::read_csv(text.as_bytes(), Some(sheet))
            .map_err(|e| anyhow::anyhow!("bench {}: {}", sheet.key(), e.en()))?;
        set.organizations.extend(s.organizations);
        set.certificates.extend(s.certificates);
        set.standards.extend(s.standards);
        set.errors.extend(s.errors);
    }
    let s = store.import_apply(who, &set, true).await?;
    if !s.committed {
        bail!("bench registry data rejected: {:?}", s.errors.first());
    }

    let web = WebConfig {
        base_url: "http://127.0.0.1:8080".into(),
        secure_cookies: false,
        staging_dir: dir.join("ingest-uploads"),
        master_key: xcert_web::MasterKey::generate(),
    };
    let st = AppState::new(store, web);
    let ctx = crate::items::context(who);
    // The TEO's key is created before the clock starts.
    let teo = st
        .store
        .org_find("91110000954255506N")
        .await?
        .context("bench TEO")?;
    issue::issuer(&st, teo.id, &who.username)
        .await
        .map_err(crate::items::err)?;

    let file = dir.join("pass-list.csv");
    {
        let f = file.clone();
        tokio::task::spawn_blocking(move || write_pass_list(&f, count)).await??;
    }
    let bytes = std::fs::read(&file)?;

    let t = Instant::now();
    let (list, preview) =
        issue::preview_upload(&st, &ctx, CODE, "junior", "bench", "pass-list.csv", &bytes)
            .await
            .map_err(crate::items::err)?;
    let read_secs = t.elapsed().as_secs_f64();
    if !preview.errors.is_empty() {
        bail!(
            "synthetic pass list has errors: {:?}",
            preview.errors.first()
        );
    }
    let t = Instant::now();
    let job = issue::create_job(&st, &ctx, list)
        .await
        .map_err(crate::items::err)?;
    let stage_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let job = issue::run_job(&st, job.id, &|_, _| {})
        .await
        .map_err(crate::items::err)?;
    let run_secs = t.elapsed().as_secs_f64();
    if job.state != JobState::Done {
        bail!("bench job ended {}", job.state.as_str());
    }
    let (_, stored) = st
        .store
        .issued_list(&IssuedFilter {
            job_id: Some(job.id),
            limit: Some(1),
            ..Default::default()
        })
        .await?;

    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let raw_secs = tokio::task::spawn_blocking(move || raw_signing(count, threads)).await?;
    let certificates_per_minute = count as f64 / run_secs * 60.0;
    let raw_signatures_per_minute = count as f64 / raw_secs * 60.0;
    let report = Report {
        count,
        database: xcert_store::redact_url(&url),
        threads,
        read_secs,
        stage_secs,
        run_secs,
        certificates_per_minute,
        raw_secs,
        raw_signatures_per_minute,
        ratio: raw_signatures_per_minute / certificates_per_minute,
        stored,
    };
    if stored != count as i64 {
        bail!("{stored} certificates stored of {count}");
    }
    Ok((report, dir))
}

pub fn print(r: &Report) {
    println!(
        "xcert bench issue: {} certificates, {}, {} threads\n",
        r.count, r.database, r.threads
    );
    println!("| step | time | rate |");
    println!("|---|---:|---:|");
    println!(
        "| read and check the pass list | {:.2} s | {:.0} rows/s |",
        r.read_secs,
        r.count as f64 / r.read_secs
    );
    println!(
        "| stage the job (numbers, slots, rows) | {:.2} s | {:.0} rows/s |",
        r.stage_secs,
        r.count as f64 / r.stage_secs
    );
    println!(
        "| sign (proof + JWT) and store | {:.2} s | {:.0} certificates/min |",
        r.run_secs, r.certificates_per_minute
    );
    println!(
        "| raw ed25519, 64-byte messages | {:.2} s | {:.0} signatures/min |",
        r.raw_secs, r.raw_signatures_per_minute
    );
    println!(
        "\nraw signatures ÷ certificates per minute: {:.1} (each certificate carries 2 signatures); stored {} of {}",
        r.ratio, r.stored, r.count
    );
}
