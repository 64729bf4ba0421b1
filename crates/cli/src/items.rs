//! `xcert items`: a certificate's question bank from the command line — import a QTI
//! package, Moodle XML, GIFT or the .xlsx template (preview first, then one
//! transaction), export it as QTI 3.0 or .xlsx — through the same services and rules as
//! the pages, acting as the ministry (like the other administrative commands).

use anyhow::{Result, bail};
use std::io::{IsTerminal, Write};
use std::path::Path;
use xcert_store::Store;
use xcert_web::{AppState, Ctx};

pub(crate) fn context(who: &xcert_domain::access::Principal) -> Ctx {
    Ctx::for_user(xcert_store::UserRow {
        id: who.user_id,
        username: who.username.clone(),
        display_name: who.username.clone(),
        role: who.role,
        org_id: who.org_id,
        org_name: None,
        province: who.province.clone(),
        person_id: who.person_id,
        active: true,
        created_at: xcert_store::now(),
    })
}

fn state(store: Store, web: xcert_web::WebConfig) -> AppState {
    AppState::new(store, web)
}

pub(crate) fn err(e: xcert_web::AppError) -> anyhow::Error {
    let fields: Vec<String> = e
        .fields()
        .iter()
        .map(|f| format!("{}: {} ({})", f.field, f.en, f.zh))
        .collect();
    if fields.is_empty() {
        anyhow::anyhow!("{} ({})", e.message("en"), e.message("zh"))
    } else {
        anyhow::anyhow!(fields.join("\n"))
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn import(
    store: Store,
    web: xcert_web::WebConfig,
    who: &xcert_domain::access::Principal,
    certificate: &str,
    file: &Path,
    yes: bool,
    json: bool,
    status: Option<&str>,
) -> Result<()> {
    let st = state(store, web);
    let ctx = context(who);
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let row = xcert_web::assess::bank_import_stage(&st, &ctx, certificate, &name, bytes)
        .await
        .map_err(err)?;
    let r = &row.report;
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else {
        println!(
            "{name}: {} items to import ({} new, {} new versions, {} unchanged), {} images, {} errors, {} warnings",
            r["items"].as_array().map_or(0, |a| a.len()),
            r["new"],
            r["new_versions"],
            r["unchanged"],
            r["media"],
            r["errors"],
            r["warnings"]
        );
        for p in r["problems"].as_array().into_iter().flatten() {
            println!(
                "  {} {} {}{}: {} ({})",
                p["severity"].as_str().unwrap_or(""),
                p["file"].as_str().unwrap_or(""),
                p["location"].as_str().unwrap_or(""),
                p["item"]
                    .as_str()
                    .map(|i| format!(" [{i}]"))
                    .unwrap_or_default(),
                p["en"].as_str().unwrap_or(""),
                p["zh"].as_str().unwrap_or("")
            );
        }
    }
    if r["items"].as_array().is_none_or(|a| a.is_empty()) {
        bail!("nothing to import");
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "staged as import #{}; not applied: run with --yes to apply",
                row.id
            );
            return Ok(());
        }
        eprint!("import these items into {certificate} in one transaction? [y/N] ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("not applied");
            return Ok(());
        }
    }
    let status = status
        .map(|s| xcert_assess::item::ReviewStatus::parse("status", s))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{}: {} ({})", e.field, e.en, e.zh))?;
    let done = xcert_web::assess::bank_import_apply(&st, &ctx, certificate, row.id, status)
        .await
        .map_err(err)?;
    println!(
        "imported #{}: {} new, {} new versions, {} updated, {} unchanged, {} images",
        row.id, done.created, done.new_versions, done.updated, done.unchanged, done.media
    );
    Ok(())
}

pub async fn export(
    store: Store,
    web: xcert_web::WebConfig,
    who: &xcert_domain::access::Principal,
    certificate: &str,
    format: &str,
    output: &Path,
) -> Result<()> {
    let st = state(store, web);
    let ctx = context(who);
    let f = xcert_store::ItemFilter {
        limit: Some(10_000),
        ..Default::default()
    };
    let (bytes, _, _) = xcert_web::assess::bank_export(&st, &ctx, certificate, format, &f)
        .await
        .map_err(err)?;
    std::fs::write(output, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", output.display()))?;
    println!("wrote {}", output.display());
    Ok(())
}
