//! `xcert issue`, `xcert verify`, `xcert revoke`, `xcert keys` and `xcert bench issue`:
//! certificates from the command line, through the same services and rules as the pages
//! (acting as the ministry, like the other administrative commands).

use anyhow::{Context, Result, bail};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;
use xcert_domain::access::Principal;
use xcert_store::{IssuedState, JobState, Store};
use xcert_web::{AppState, WebConfig, issue};

fn err(e: xcert_web::AppError) -> anyhow::Error {
    crate::items::err(e)
}

fn bar(total: i64) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(total.max(0) as u64);
    if std::io::stderr().is_terminal() {
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} certificates ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    pb
}

/// Run a job to its end with a progress bar; print what it did.
async fn run(st: &AppState, id: i64) -> Result<()> {
    let job = st.store.issuance_job(id).await?;
    let pb = bar(job.total);
    let started = Instant::now();
    let first = job.done;
    let pb2 = pb.clone();
    let job = issue::run_job(st, id, &move |done, _| pb2.set_position(done as u64))
        .await
        .map_err(err)?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "job {}: {} — {}/{} certificates ({} already held, skipped); {} signed now in {:.1} s",
        job.id,
        job.state.as_str(),
        job.done,
        job.total,
        job.skipped,
        job.done - first,
        secs
    );
    if job.state != JobState::Done {
        bail!(
            "job {} did not finish: {}",
            job.id,
            job.error.unwrap_or_default()
        );
    }
    Ok(())
}

pub struct IssueArgs<'a> {
    pub session: Option<i64>,
    pub pass_list: Option<&'a Path>,
    pub certificate: Option<&'a str>,
    pub level: Option<&'a str>,
    pub session_ref: Option<&'a str>,
    pub resume: Option<i64>,
    pub dry_run: bool,
}

/// `xcert issue`: from a session, from a pass-list file (preview first; nothing is
/// written when a row has an error), or resume an interrupted job.
pub async fn issue_cmd(
    store: Store,
    web: WebConfig,
    who: &Principal,
    a: IssueArgs<'_>,
) -> Result<()> {
    let st = AppState::new(store, web);
    let ctx = crate::items::context(who);
    if let Some(id) = a.resume {
        return run(&st, id).await;
    }
    let list = match (a.session, a.pass_list) {
        (Some(s), None) => issue::pass_list_of_session(&st, &ctx, s)
            .await
            .map_err(err)?,
        (None, Some(file)) => {
            let (Some(code), Some(level), Some(sref)) = (a.certificate, a.level, a.session_ref)
            else {
                bail!("with --pass-list give --certificate, --level and --session-ref");
            };
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("pass-list.xlsx");
            let (list, preview) = issue::preview_upload(&st, &ctx, code, level, sref, name, &bytes)
                .await
                .map_err(err)?;
            println!(
                "{}: {} rows, {} with errors, {} already hold {} {}",
                file.display(),
                preview.rows.len() + preview.errors.len(),
                preview.errors.len(),
                preview.already,
                code,
                level
            );
            for e in &preview.errors {
                println!("  row {} {}: {} ({})", e.row, e.field, e.en, e.zh);
            }
            if !preview.errors.is_empty() {
                bail!("nothing was issued: correct the rows above and run again");
            }
            list
        }
        _ => bail!(
            "give --session ID, or --pass-list FILE with --certificate, --level and --session-ref, or --resume JOB"
        ),
    };
    if a.dry_run {
        println!(
            "dry run: {} candidates would be issued {} {}",
            list.rows.len(),
            list.certificate.code,
            list.level.as_str()
        );
        return Ok(());
    }
    let job = issue::create_job(&st, &ctx, list).await.map_err(err)?;
    println!(
        "job {}: {} certificates of {} {} (resume with `xcert issue --resume {}` if interrupted)",
        job.id, job.total, job.certificate_code, job.level, job.id
    );
    run(&st, job.id).await
}

/// `xcert verify FILE`: offline — bundled contexts, this instance's keys and status
/// lists from its database (did:key credentials need nothing else).
pub async fn verify_cmd(store: Store, web: WebConfig, file: &Path, json: bool) -> Result<bool> {
    let st = AppState::new(store, web);
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let report = issue::verify_text(&st, &text).await.map_err(err)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for c in &report.checks {
            let mark = if c.skipped {
                "–"
            } else if c.ok {
                "✔"
            } else {
                "✘"
            };
            println!("{mark} {}\n  {}", c.en, c.zh);
        }
        println!(
            "{}",
            if report.ok {
                "VALID — the credential verifies"
            } else {
                "NOT VALID — see the checks above"
            }
        );
    }
    Ok(report.ok)
}

/// `xcert revoke NUMBER --reason ...` (or `--suspend`, `--reinstate`).
pub async fn revoke_cmd(
    store: Store,
    web: WebConfig,
    who: &Principal,
    number: &str,
    to: IssuedState,
    reason: &str,
) -> Result<()> {
    let st = AppState::new(store, web);
    let ctx = crate::items::context(who);
    let row = issue::change_state(&st, &ctx, number, to, reason)
        .await
        .map_err(err)?;
    println!(
        "{} is now {} ({})",
        row.number,
        row.state.as_str(),
        issue::state_zh(row.state)
    );
    Ok(())
}

/// The TEO named by id, credit code or exact Chinese name.
async fn teo_id(store: &Store, teo: &str) -> Result<i64> {
    if let Ok(id) = teo.parse::<i64>() {
        return Ok(id);
    }
    store
        .org_find(teo)
        .await?
        .map(|o| o.id)
        .with_context(|| format!("no organization with id, credit code or name {teo}"))
}

/// `xcert keys rotate --teo ...` and `xcert keys list --teo ...`.
pub async fn keys_cmd(
    store: Store,
    web: WebConfig,
    who: &Principal,
    teo: &str,
    rotate: bool,
) -> Result<()> {
    let id = teo_id(&store, teo).await?;
    let st = AppState::new(store, web);
    let ctx = crate::items::context(who);
    let keys = if rotate {
        issue::rotate_key(&st, &ctx, id).await.map_err(err)?
    } else {
        st.store.issuer_keys(id).await?
    };
    println!("{}", issue::teo_did(&st, id));
    for k in keys {
        println!(
            "  #{}  {}  {}  {}",
            k.key_id,
            k.public_multibase,
            &k.created_at[..k.created_at.len().min(19)],
            if k.retired_at.is_some() {
                "retired"
            } else {
                "current"
            }
        );
    }
    Ok(())
}
