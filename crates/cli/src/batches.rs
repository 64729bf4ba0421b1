//! `xcert batch`: declaration batches from the command line — list them, advance one to
//! its next stage, and print or export its statistics (the same services as the pages).

use anyhow::{Result, bail};
use xcert_domain::access::Principal;
use xcert_store::Store;
use xcert_web::{AppState, WebConfig, declare};

fn err(e: xcert_web::AppError) -> anyhow::Error {
    crate::items::err(e)
}

async fn by_number(st: &AppState, ctx: &xcert_web::Ctx, number: i64) -> Result<i64> {
    let all = declare::batches(st, ctx).await.map_err(err)?;
    match all.iter().find(|b| b.number == number) {
        Some(b) => Ok(b.id),
        None => bail!("no batch number {number}"),
    }
}

pub async fn list(store: Store, web: WebConfig, who: &Principal) -> Result<()> {
    let st = AppState::new(store, web);
    let ctx = crate::items::context(who);
    for b in declare::batches(&st, &ctx).await.map_err(err)? {
        println!(
            "{:>3}  {:<12} {} .. {}  {}",
            b.number,
            b.state.as_str(),
            b.settings.apply_from,
            b.settings.apply_until,
            b.title_zh
        );
    }
    Ok(())
}

pub async fn advance(
    store: Store,
    web: WebConfig,
    who: &Principal,
    number: i64,
    to: &str,
) -> Result<()> {
    let st = AppState::new(store, web);
    let ctx = crate::items::context(who);
    let id = by_number(&st, &ctx, number).await?;
    let b = declare::advance_batch(&st, &ctx, id, to)
        .await
        .map_err(err)?;
    println!(
        "batch {} is now {} ({})",
        b.number,
        b.state.as_str(),
        b.state.zh()
    );
    Ok(())
}

pub async fn stats(
    store: Store,
    web: WebConfig,
    who: &Principal,
    number: i64,
    xlsx: Option<&std::path::Path>,
    json: bool,
) -> Result<()> {
    let st = AppState::new(store, web);
    let ctx = crate::items::context(who);
    let id = by_number(&st, &ctx, number).await?;
    let (b, s) = declare::statistics(&st, &ctx, id).await.map_err(err)?;
    if let Some(path) = xlsx {
        let bytes = declare::statistics_xlsx(&st, &ctx, id).await.map_err(err)?;
        std::fs::write(path, bytes)?;
        eprintln!("wrote {}", path.display());
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!("{} ({})", b.title_zh, b.state.zh());
    println!("  applications           {}", s.applications);
    println!("  applying units         {}", s.units);
    println!("  proposals              {}", s.proposals);
    println!("  shortlisted            {}", s.shortlisted);
    println!("  shortlisted units      {}", s.shortlisted_units);
    println!("  pass rate              {:.1} %", s.pass_rate * 100.0);
    println!("  by field:");
    for g in &s.by_field {
        println!(
            "    {:<16} {:>5} proposals {:>5} shortlisted {:>5.1} %",
            g.key,
            g.proposals,
            g.shortlisted,
            g.rate * 100.0
        );
    }
    Ok(())
}
