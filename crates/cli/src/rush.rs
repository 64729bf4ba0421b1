//! `xcert bench exam-rush`: thousands of candidates starting, autosaving and submitting
//! a theory exam at once, against a real `xcert serve` on loopback, then every answer
//! counted back from the database.
//!
//! The setup (bank, form, session, students, accounts, registrations) goes straight
//! into the store; the load goes through HTTP exactly as candidates' browsers send it.
//! The run is bounded: a fixed number of candidates, each with a fixed number of saves.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use xcert_assess::item::ReviewStatus;
use xcert_assess::item::{Choice, Interaction, Item, ItemContent, ItemKind, ItemMeta, Scoring};
use xcert_domain::framework::Level;
use xcert_store::{NewForm, NewSession, NewUser, Store};

#[derive(Debug, Clone)]
pub struct RushOptions {
    pub candidates: usize,
    pub items: usize,
    pub saves: usize,
    /// Time between one candidate's saves.
    pub interval: Duration,
    /// Candidates arrive spread over this long.
    pub ramp: Duration,
    /// Final submissions spread over this long (0: all at the same moment).
    pub submit_spread: Duration,
    pub seed: u64,
}

/// Latency summary of one kind of request, milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct OpStats {
    pub op: String,
    pub requests: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RushReport {
    pub engine: String,
    pub candidates: usize,
    pub items: usize,
    pub saves_per_candidate: usize,
    pub elapsed_s: f64,
    pub requests_per_s: f64,
    pub ops: Vec<OpStats>,
    /// Answers the clients had acknowledged, and how many of them the database holds.
    pub answers_sent: usize,
    pub answers_found: usize,
    pub answers_lost: usize,
    pub attempts_submitted: usize,
    pub setup_s: f64,
}

struct Candidate {
    attempt: i64,
    token: String,
}

/// A tiny deterministic generator (SplitMix64) for think times and choices: the run must
/// be the same from one machine to the next.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

fn id_number(seq: usize) -> String {
    // Birth dates 1990-01-01 onward, sequence numbers in the 3 digits before the check.
    let day = 1 + (seq % 28);
    let month = 1 + (seq / 28) % 12;
    let year = 1990 + (seq / 336) % 20;
    let order = seq % 1000;
    let first17 = format!("110105{year:04}{month:02}{day:02}{order:03}");
    let c = xcert_domain::ids::ResidentId::check_char(&first17).unwrap_or('0');
    format!("{first17}{c}")
}

/// Bank, form, session, students, accounts and registrations, straight into the store.
async fn setup(store: &Store, o: &RushOptions) -> Result<Vec<Candidate>> {
    use xcert_domain::org::OrganizationInput;
    if store.user_by_username("rush-teo").await?.is_some() {
        bail!("the database already holds an exam-rush setup: give an empty database");
    }
    let mut tx = store.begin_write("exam-rush").await?;
    let teo = tx
        .org_create(
            &OrganizationInput {
                kind: "teo".into(),
                name_zh: "压测培训评价组织".into(),
                credit_code: "91350100M000100Y43".into(),
                ..Default::default()
            }
            .parse()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        )
        .await?;
    let college = tx
        .org_create(
            &OrganizationInput {
                kind: "college".into(),
                name_zh: "压测职业技术学院".into(),
                credit_code: "914403001922038216".into(),
                province: "山东省".into(),
                ..Default::default()
            }
            .parse()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        )
        .await?;
    let cert = tx
        .certificate_create(
            teo.id,
            &xcert_domain::certificate::CertificateInput {
                code: "RUSH-1".into(),
                name_zh: "压测证书".into(),
                levels: "初级".into(),
                status: "published".into(),
                ..Default::default()
            }
            .parse()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        )
        .await?;
    let tree = xcert_domain::standard::StandardTree::parse_outline(
        "# 设备巡视\n## 设备巡视\n- [初级] 能完成设备巡视\n",
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    tx.standard_save_draft(&cert.code, &tree, None).await?;
    tx.standard_publish(&cert.code).await?;
    let mut form_items = Vec::new();
    for i in 0..o.items {
        let item = Item {
            meta: ItemMeta {
                ident: format!("R{i:04}"),
                requirements: vec!["1.1.1".into()],
                level: Some(Level::Junior),
                difficulty: Some(3.0),
                ..Default::default()
            },
            content: ItemContent {
                kind: ItemKind::SingleChoice,
                stem: format!("<p>第 {} 题：设备巡视时首先应做什么？</p>", i + 1),
                interaction: Interaction::Choice {
                    choices: ["A", "B", "C", "D"]
                        .iter()
                        .map(|c| Choice::new(*c, format!("选项 {c}")))
                        .collect(),
                    correct: vec!["A".into()],
                    shuffle: true,
                },
                points: 1.0,
                scoring: Scoring::AllOrNothing,
                explanation: None,
                media: vec![],
            },
        };
        let (row, _) = tx
            .item_upsert(cert.id, &item, Some(ReviewStatus::Approved), None)
            .await?;
        form_items.push((row.id, row.current_version, 1.0));
    }
    let form = tx
        .form_create(&NewForm {
            certificate_id: cert.id,
            blueprint_id: None,
            level: Level::Junior,
            code: "RUSH-1-J-1".into(),
            title: "压测试卷".into(),
            time_limit_minutes: 90,
            items: form_items,
            assembly: json!({"method": "manual"}),
        })
        .await?;
    let now = chrono::Utc::now();
    let session = tx
        .session_create(&NewSession {
            certificate_id: cert.id,
            level: Level::Junior,
            title: "压测考核".into(),
            site_org_id: Some(college.id),
            site_name: "压测考核站点".into(),
            opens_at: (now - chrono::Duration::minutes(1))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            closes_at: (now + chrono::Duration::hours(4))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            duration_minutes: 120,
            shuffle_items: true,
            disagreement_points: 10.0,
            form_ids: vec![form.id],
            task_item_ids: vec![],
            examiner_ids: vec![],
            rule: Default::default(),
        })
        .await?;
    tx.user_create(&NewUser {
        username: "rush-teo".into(),
        display_name: "压测".into(),
        password: "exam-rush-not-for-login".into(),
        role: "teo_staff".into(),
        org_id: Some(teo.id),
        person_id: None,
    })
    .await?;
    tx.commit().await?;

    // Students and their accounts in transactions of 200, as a bulk import would.
    let mut out = Vec::with_capacity(o.candidates);
    let mut i = 0;
    while i < o.candidates {
        let mut tx = store.begin_write("exam-rush").await?;
        let end = (i + 200).min(o.candidates);
        for k in i..end {
            let person = tx
                .person_create(
                    college.id,
                    &xcert_domain::person::PersonInput {
                        name: format!("考生{k:05}"),
                        id_number: id_number(k),
                        student_no: format!("R{k:05}"),
                        ..Default::default()
                    }
                    .parse()
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?,
                )
                .await?;
            let user = tx
                .user_create(&NewUser {
                    username: format!("rush{k:05}"),
                    display_name: person.name.clone(),
                    password: "exam-rush-not-for-login".into(),
                    role: "candidate".into(),
                    org_id: None,
                    person_id: Some(person.id),
                })
                .await?;
            let (cand, _) = tx.candidate_register(session.id, person.id).await?;
            out.push((cand.id, user.id));
        }
        tx.commit().await?;
        i = end;
    }
    let mut cands = Vec::with_capacity(out.len());
    for (attempt, user) in out {
        let (token, _) = store.session_issue(user).await?;
        cands.push(Candidate { attempt, token });
    }
    Ok(cands)
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// One candidate's whole exam; returns the answers the server acknowledged, by position,
/// and the latencies of each request.
async fn candidate(
    client: reqwest::Client,
    base: Arc<String>,
    c: Candidate,
    o: Arc<RushOptions>,
    index: usize,
) -> (BTreeMap<i64, String>, Vec<(&'static str, f64, bool)>) {
    let mut rng = Mix(o.seed ^ (index as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut lat = Vec::new();
    let mut acked: BTreeMap<i64, String> = BTreeMap::new();
    let ramp = o.ramp.as_millis() as u64;
    tokio::time::sleep(Duration::from_millis(
        ramp * index as u64 / o.candidates.max(1) as u64,
    ))
    .await;
    let t = Instant::now();
    let r = client
        .post(format!("{base}/api/v1/attempts/{}/start", c.attempt))
        .bearer_auth(&c.token)
        .send()
        .await;
    let view: Option<Value> = match r {
        Ok(r) if r.status().is_success() => r.json().await.ok(),
        _ => None,
    };
    lat.push(("start", t.elapsed().as_secs_f64() * 1000.0, view.is_some()));
    let Some(view) = view else {
        return (acked, lat);
    };
    // The items in this candidate's order, with the options they were shown.
    let items: Vec<(i64, Vec<String>)> = view["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    (
                        i["position"].as_i64().unwrap_or(0),
                        i["choices"]
                            .as_array()
                            .map(|c| {
                                c.iter()
                                    .filter_map(|x| x["id"].as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let per_save = items.len().div_ceil(o.saves.max(1) + 1);
    let mut chunks = items.chunks(per_save.max(1));
    let interval = o.interval.as_millis() as u64;
    for _ in 0..o.saves {
        tokio::time::sleep(Duration::from_millis(
            interval / 2 + rng.below(interval.max(1)),
        ))
        .await;
        let answers = chunks.next().map(|c| pick(c, &mut rng)).unwrap_or_default();
        let t = Instant::now();
        let r = client
            .put(format!("{base}/api/v1/attempts/{}/answers", c.attempt))
            .bearer_auth(&c.token)
            .json(&json!({"answers": answers}))
            .send()
            .await;
        let ok = matches!(&r, Ok(r) if r.status().is_success());
        lat.push(("save", t.elapsed().as_secs_f64() * 1000.0, ok));
        if ok {
            for (k, v) in answers {
                acked.insert(k.parse().unwrap_or(0), v.to_string());
            }
        }
    }
    let spread = o.submit_spread.as_millis() as u64;
    tokio::time::sleep(Duration::from_millis(rng.below(spread.max(1)))).await;
    // The last answers travel with the submit, as the page sends them.
    let rest: Vec<(i64, Vec<String>)> = chunks.flatten().cloned().collect();
    let last = pick(&rest, &mut rng);
    let t = Instant::now();
    let r = client
        .post(format!("{base}/api/v1/attempts/{}/submit", c.attempt))
        .bearer_auth(&c.token)
        .json(&json!({"answers": last}))
        .send()
        .await;
    let ok = matches!(&r, Ok(r) if r.status().is_success());
    lat.push(("submit", t.elapsed().as_secs_f64() * 1000.0, ok));
    if ok {
        for (k, v) in last {
            acked.insert(k.parse().unwrap_or(0), v.to_string());
        }
    }
    (acked, lat)
}

/// One answer per item of `chunk`: one of the options the candidate was shown.
fn pick(chunk: &[(i64, Vec<String>)], rng: &mut Mix) -> BTreeMap<String, Value> {
    chunk
        .iter()
        .map(|(pos, choices)| {
            let ch = choices
                .get(rng.below(choices.len() as u64) as usize)
                .cloned()
                .unwrap_or_else(|| "A".into());
            (pos.to_string(), json!({"choice": [ch]}))
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Run the rush against a fresh database (`database_url`, or SQLite in `data_dir`).
pub async fn run(
    exe: &std::path::Path,
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    o: RushOptions,
) -> Result<RushReport> {
    std::fs::create_dir_all(data_dir)?;
    let objects = xcert_store::Objects::local(&data_dir.join("objects"))?;
    let url = database_url
        .map(str::to_string)
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("xcert.db").display()));
    let store = Store::open(&url, objects).await?;
    let engine = match store.backend() {
        xcert_store::Backend::Sqlite => "sqlite",
        xcert_store::Backend::Postgres => "postgres",
    };
    let t0 = Instant::now();
    eprintln!(
        "exam-rush: setting up {} candidates on {engine} …",
        o.candidates
    );
    let cands = setup(&store, &o).await?;
    let setup_s = t0.elapsed().as_secs_f64();
    let port = free_port()?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        "serve",
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--data-dir",
    ])
    .arg(data_dir)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    if let Some(u) = database_url {
        cmd.args(["--database-url", u]);
    }
    let _server = Server(cmd.spawn().context("starting xcert serve")?);
    let base = Arc::new(format!("http://127.0.0.1:{port}"));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.candidates)
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut up = false;
    for _ in 0..200 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !up {
        bail!("xcert serve did not come up on port {port}");
    }
    eprintln!("exam-rush: {} candidates start …", o.candidates);
    let o = Arc::new(o);
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(cands.len());
    for (i, c) in cands.into_iter().enumerate() {
        tasks.push((
            c.attempt,
            tokio::spawn(candidate(client.clone(), base.clone(), c, o.clone(), i)),
        ));
    }
    let mut expected: Vec<(i64, BTreeMap<i64, String>)> = Vec::new();
    let mut lat: Vec<(&'static str, f64, bool)> = Vec::new();
    for (attempt, task) in tasks {
        let (acked, l) = task.await?;
        expected.push((attempt, acked));
        lat.extend(l);
    }
    let elapsed = t.elapsed().as_secs_f64();
    // Count every acknowledged answer back from the database.
    let mut sent = 0;
    let mut found = 0;
    let mut submitted = 0;
    for (attempt, acked) in &expected {
        let rows = store.responses(*attempt).await?;
        let have: BTreeMap<i64, String> = rows
            .iter()
            .map(|r| {
                (
                    r.position,
                    serde_json::to_string(&r.response).unwrap_or_default(),
                )
            })
            .collect();
        sent += acked.len();
        found += acked
            .iter()
            .filter(|(pos, v)| {
                have.get(pos).is_some_and(|h| {
                    serde_json::from_str::<Value>(h).ok() == serde_json::from_str::<Value>(v).ok()
                })
            })
            .count();
        if store.candidate_get(*attempt).await?.state == xcert_store::AttemptState::Submitted {
            submitted += 1;
        }
    }
    let mut ops = Vec::new();
    for op in ["start", "save", "submit"] {
        let mut v: Vec<f64> = lat.iter().filter(|l| l.0 == op).map(|l| l.1).collect();
        let errors = lat.iter().filter(|l| l.0 == op && !l.2).count();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        ops.push(OpStats {
            op: op.into(),
            requests: v.len(),
            errors,
            p50_ms: percentile(&v, 50.0),
            p90_ms: percentile(&v, 90.0),
            p99_ms: percentile(&v, 99.0),
            max_ms: v.last().copied().unwrap_or(0.0),
        });
    }
    Ok(RushReport {
        engine: engine.into(),
        candidates: expected.len(),
        items: o.items,
        saves_per_candidate: o.saves,
        elapsed_s: elapsed,
        requests_per_s: lat.len() as f64 / elapsed,
        ops,
        answers_sent: sent,
        answers_found: found,
        answers_lost: sent - found,
        attempts_submitted: submitted,
        setup_s,
    })
}

pub fn print(r: &RushReport) {
    println!(
        "exam rush on {}: {} candidates × ({} saves + start + submit), {} items, {:.1} s, {:.0} requests/s (setup {:.1} s)",
        r.engine,
        r.candidates,
        r.saves_per_candidate,
        r.items,
        r.elapsed_s,
        r.requests_per_s,
        r.setup_s
    );
    println!("| op | requests | errors | p50 ms | p90 ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for o in &r.ops {
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            o.op, o.requests, o.errors, o.p50_ms, o.p90_ms, o.p99_ms, o.max_ms
        );
    }
    println!(
        "answers acknowledged {}, found in the database {}, lost {}; attempts submitted {}/{}",
        r.answers_sent, r.answers_found, r.answers_lost, r.attempts_submitted, r.candidates
    );
}
