//! The demo's certificates: State Grid issues the 初级 relay protection certificate to
//! every candidate who passed the finished session (through the same job services the
//! issuing pages use), then revokes one with a reason, so the public verification page
//! has a valid and a revoked example to show.

use anyhow::{Context, Result};
use std::collections::HashMap;
use xcert_store::{IssuedFilter, IssuedState, JobState};
use xcert_web::{AppState, Ctx, issue};

use super::assessment::web;

/// Why the demo's revoked certificate was revoked (shown on its verification page).
const REVOKE_REASON: &str = "考核记录复核发现实操评分录入错误，证书撤销（演示数据）";

/// Issue the finished session's certificates as `sgcc` and revoke one. `accounts` maps
/// a candidate's person id to their login, so the summary can name a holder who can sign
/// in and see their certificate.
pub async fn load(
    st: &AppState,
    sgcc: &Ctx,
    session_id: i64,
    accounts: &HashMap<i64, String>,
) -> Result<()> {
    let list = web(
        issue::pass_list_of_session(st, sgcc, session_id).await,
        "pass list",
    )?;
    let job = web(issue::create_job(st, sgcc, list).await, "issuing job")?;
    let job = web(issue::run_job(st, job.id, &|_, _| {}).await, "issuing")?;
    if job.state != JobState::Done {
        anyhow::bail!(
            "demo issuing job {} ended {}: {}",
            job.id,
            job.state.as_str(),
            job.error.unwrap_or_default()
        );
    }
    let (rows, total) = st
        .store
        .issued_list(&IssuedFilter {
            job_id: Some(job.id),
            limit: Some(1000),
            ..Default::default()
        })
        .await?;
    let mut rows = rows;
    rows.sort_by(|a, b| a.number.cmp(&b.number));
    // The first holder keeps a valid certificate (and is the one the summary names);
    // the last one's is revoked.
    let holder = rows.first().context("demo issued no certificate")?;
    let revoked = rows.last().filter(|r| r.number != holder.number);
    if let Some(r) = revoked {
        web(
            issue::change_state(st, sgcc, &r.number, IssuedState::Revoked, REVOKE_REASON).await,
            "revocation",
        )?;
    }
    let base = st.config.base_url.trim_end_matches('/');
    eprintln!(
        "demo certificates: {total} issued (job #{}) to the finished session's passed candidates, {} revoked; verify one at {}",
        job.id,
        revoked.is_some() as u8,
        issue::verify_url(base, &holder.number),
    );
    let login = holder
        .person_id
        .and_then(|p| accounts.get(&p))
        .map(|u| format!("{u} / {}", super::DEMO_PASSWORD))
        .unwrap_or_else(|| "no account".into());
    eprintln!(
        "demo certificate holder: {} ({login}) holds {}; revoked example: {}",
        holder.holder_name,
        holder.number,
        revoked
            .map(|r| issue::verify_url(base, &r.number))
            .unwrap_or_else(|| "none (only one candidate passed)".into())
    );
    Ok(())
}
