//! `xcert ingest`, `xcert catalog` and `xcert bench`: material consolidation from the
//! command line, with a progress bar, a summary or JSON report, catalog exports, the
//! seeded corpus generator and the dedup-only mode raced against other tools.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use xcert_ingest::dedup::{self, DedupOptions};
use xcert_ingest::engine::{Phase, Progress, Source};
use xcert_ingest::report::{Report, human_bytes};
use xcert_store::{NewRun, RunOptions, RunRow, Store};

pub struct IngestArgs {
    pub paths: Vec<PathBuf>,
    pub unit: Option<String>,
    pub batch: Option<String>,
    pub title: Option<String>,
    pub org: Option<String>,
    pub json: bool,
    pub resume: bool,
    pub catalog_only: bool,
    pub threads: Option<usize>,
    pub quiet: bool,
}

fn progress_bar(quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(0),
        if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr_with_hz(4)
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

fn show(bar: &ProgressBar, p: &Progress) {
    match p.phase {
        Phase::Walking => bar.set_message("walking"),
        Phase::Processing | Phase::Finishing | Phase::Done => {
            bar.set_length(p.bytes_total);
            bar.set_position(p.bytes_done);
            let skipped = if p.files_skipped > 0 {
                format!(" ({} already done)", p.files_skipped)
            } else {
                String::new()
            };
            bar.set_message(format!("{}/{} files{skipped}", p.files_done, p.files_total));
        }
    }
}

pub async fn ingest(store: &Store, a: IngestArgs) -> Result<()> {
    let run = if a.resume {
        let run = store
            .ingest_last_unfinished()
            .await?
            .context("no unfinished consolidation run to resume")?;
        if !a.paths.is_empty() {
            let given: Vec<PathBuf> = a.paths.iter().map(|p| absolute(p)).collect::<Result<_>>()?;
            let stored: Vec<PathBuf> = run.sources.iter().map(|s| s.path.clone()).collect();
            if given != stored {
                bail!(
                    "run {} was started on {}; resume it without paths or with the same paths",
                    run.id,
                    stored
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        if !a.quiet {
            eprintln!("resuming consolidation run {} ({})", run.id, run.title);
        }
        run
    } else {
        if a.paths.is_empty() {
            bail!("give one or more folders or archives to take in (or --resume)");
        }
        let mut sources = Vec::new();
        for p in &a.paths {
            let abs = absolute(p)?;
            if !abs.exists() {
                bail!("{} does not exist", p.display());
            }
            sources.push(Source {
                path: abs,
                unit: a.unit.clone(),
            });
        }
        let org_id = match &a.org {
            Some(o) => Some(
                store
                    .org_find(o)
                    .await?
                    .with_context(|| format!("no organization with credit code or name {o}"))?
                    .id,
            ),
            None => None,
        };
        let title = a.title.clone().unwrap_or_else(|| {
            a.paths
                .iter()
                .map(|p| {
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| p.display().to_string())
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
        let mut tx = store.begin_write(&crate::cli_principal().username).await?;
        let id = tx
            .ingest_run_create(&NewRun {
                org_id,
                batch: a.batch.clone(),
                title,
                sources,
                options: RunOptions {
                    store_objects: !a.catalog_only,
                    threads: a.threads,
                    staged: false,
                },
            })
            .await
            .map_err(crate::describe)?;
        tx.commit().await?;
        store.ingest_run(id).await?
    };

    let bar =
        progress_bar(a.quiet || a.json && !std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nstopping after the files in progress; resume with `xcert ingest --resume`"
                );
                cancel.store(true, Ordering::SeqCst);
            }
        });
    }
    let pb = bar.clone();
    let outcome = store
        .ingest_execute(run.id, Arc::new(move |p: &Progress| show(&pb, p)), cancel)
        .await;
    bar.finish_and_clear();
    let outcome = outcome.map_err(crate::describe)?;
    let run = store.ingest_run(run.id).await?;
    let Some(report) = outcome.report else {
        eprintln!(
            "consolidation run {} stopped after {} files; resume with `xcert ingest --resume`",
            run.id, outcome.stats.processed
        );
        std::process::exit(3);
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&xcert_store::ingest_report_json(&run, Some(&report)))?
        );
    } else {
        print_summary(&run, &outcome.stats, &report);
    }
    Ok(())
}

fn absolute(p: &std::path::Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("{}", p.display()))
}

fn print_summary(run: &RunRow, stats: &xcert_ingest::engine::RunStats, r: &Report) {
    let t = &r.totals;
    println!("consolidation run {} — {}", run.id, run.title);
    println!(
        "  {} files ({}) read, {} already cataloged; {} archives opened ({} entries), {} refused",
        stats.files,
        human_bytes(stats.bytes),
        stats.skipped,
        stats.archives_opened,
        stats.entries,
        stats.archives_refused
    );
    println!(
        "  catalog: {} entries, {} distinct ({}), dedup saves {}",
        t.files,
        t.distinct_files,
        human_bytes(t.distinct_bytes),
        human_bytes(t.saved_bytes)
    );
    println!(
        "  valid records: {}   duplicate groups: {}   near-duplicate groups: {}   flagged: {}   missing annexes: {}",
        t.valid_records,
        t.duplicate_groups,
        t.near_duplicate_groups,
        t.flagged_files,
        t.missing_annexes
    );
    println!(
        "\n  {:<14} {:>8} {:>12} {:>8}",
        "category", "files", "size", "valid"
    );
    for c in &r.categories {
        println!(
            "  {:<14} {:>8} {:>12} {:>8}",
            pad_zh(&c.zh, 14),
            c.files,
            human_bytes(c.bytes),
            c.valid_records
        );
    }
    println!(
        "\n  {:<28} {:>8} {:>12} {:>8}  missing categories",
        "unit", "files", "size", "valid"
    );
    for u in &r.units {
        println!(
            "  {:<28} {:>8} {:>12} {:>8}  {}",
            pad_zh(&u.unit, 28),
            u.files,
            human_bytes(u.bytes),
            u.valid_records,
            u.missing_categories
                .iter()
                .map(|c| c.zh())
                .collect::<Vec<_>>()
                .join("、")
        );
    }
    let incomplete: Vec<_> = r
        .certificates
        .iter()
        .filter(|c| !c.missing.is_empty() || !c.ambiguous.is_empty())
        .collect();
    if !incomplete.is_empty() {
        println!("\n  certificates with missing or ambiguous annexes:");
        for c in incomplete {
            let list = |v: &[xcert_ingest::Annex]| {
                v.iter()
                    .map(|a| format!("附件{} {}", a.number(), a.zh()))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            println!("    {} / {}", c.unit, c.certificate);
            if !c.missing.is_empty() {
                println!("      missing: {}", list(&c.missing));
            }
            if !c.ambiguous.is_empty() {
                println!("      ambiguous: {}", list(&c.ambiguous));
            }
        }
    }
    println!(
        "\n  report: xcert catalog report {id} --json | catalog: xcert catalog export {id} --format parquet -o catalog.parquet",
        id = run.id
    );
}

/// Pad text that mixes CJK (two columns wide) and ASCII to a display width.
fn pad_zh(s: &str, width: usize) -> String {
    let w: usize = s
        .chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum();
    if w >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - w))
    }
}

pub enum CatalogFormat {
    Csv,
    Parquet,
    Json,
}

pub async fn catalog_export(
    store: &Store,
    run_id: i64,
    format: CatalogFormat,
    output: Option<PathBuf>,
) -> Result<()> {
    let run = store.ingest_run(run_id).await.map_err(crate::describe)?;
    let mut buf = Vec::new();
    match format {
        CatalogFormat::Csv => {
            let entries = store.ingest_entries(run_id).await?;
            xcert_ingest::export::write_csv(&mut buf, &entries)?;
        }
        CatalogFormat::Parquet => {
            let entries = store.ingest_entries(run_id).await?;
            xcert_ingest::export::write_parquet(&mut buf, &entries).map_err(anyhow::Error::msg)?;
        }
        CatalogFormat::Json => {
            let report = match store.ingest_report(run_id).await? {
                Some(r) => r,
                None => bail!(
                    "run {run_id} has no report yet (state: {})",
                    run.state.as_str()
                ),
            };
            buf = serde_json::to_vec_pretty(&xcert_store::ingest_report_json(&run, Some(&report)))?;
            buf.push(b'\n');
        }
    }
    match output {
        Some(p) => {
            std::fs::write(&p, &buf).with_context(|| format!("writing {}", p.display()))?;
            eprintln!("wrote {}", p.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&buf)?;
        }
    }
    Ok(())
}

pub async fn catalog_runs(store: &Store) -> Result<()> {
    for r in store.ingest_runs(None).await? {
        let files = r.stats.as_ref().map(|s| s.files).unwrap_or(0);
        println!(
            "{:>5}  {:<11} {:>8} files  {}  {}",
            r.id,
            r.state.as_str(),
            files,
            r.created_at,
            r.title
        );
    }
    Ok(())
}

/// `xcert bench dedup`: exact duplicates only, nothing written — the mode raced against
/// other duplicate finders.
pub fn bench_dedup(paths: &[PathBuf], json: bool, threads: Option<usize>) -> Result<()> {
    let mut opts = DedupOptions::default();
    if let Some(t) = threads {
        opts.hash_threads = t.max(1);
        opts.walk_threads = t.max(1);
    }
    let report = dedup::dedup_paths(paths, &opts);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    for g in &report.groups {
        println!("{} {} × {}", g.hash, g.size, g.files.len());
        for f in &g.files {
            println!("    {}", f.display());
        }
    }
    eprintln!(
        "{} files, {} scanned, {} read; {} duplicate groups, {} redundant; {} hard-link sets, {} empty files",
        report.files,
        human_bytes(report.bytes),
        human_bytes(report.bytes_read),
        report.groups.len(),
        human_bytes(report.redundant_bytes),
        report.hard_links.len(),
        report.empty_files.len()
    );
    Ok(())
}

/// Parse sizes such as 200M, 2G, 7GB, 1500000.
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim().to_ascii_uppercase();
    let t = t.strip_suffix('B').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: f64 = num
        .trim()
        .parse()
        .with_context(|| format!("not a size: {s} (use e.g. 200M or 2G)"))?;
    if n.is_nan() || n <= 0.0 {
        bail!("size must be positive: {s}");
    }
    Ok((n * mult as f64) as u64)
}

pub fn gen_corpus(dir: PathBuf, spec: xcert_ingest::corpus::CorpusSpec, quiet: bool) -> Result<()> {
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        bail!(
            "{} exists and is not empty; choose a new folder",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir)?;
    let bar = progress_bar(quiet);
    bar.set_length(spec.total_bytes);
    bar.set_message("writing corpus");
    let manifest = xcert_ingest::corpus::generate(&dir, &spec, &mut |n| bar.set_position(n))
        .with_context(|| format!("writing {}", dir.display()))?;
    bar.finish_and_clear();
    let manifest_path = {
        let mut name = dir.file_name().unwrap_or_default().to_os_string();
        name.push(".manifest.json");
        dir.with_file_name(name)
    };
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)?;
    let bytes: u64 = manifest
        .files
        .iter()
        .filter(|f| !f.path.contains(".zip/"))
        .map(|f| f.size)
        .sum();
    println!(
        "wrote {} files ({}) under {}; ground truth in {}",
        manifest.files.len(),
        human_bytes(bytes),
        dir.display(),
        manifest_path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("200MB").unwrap(), 200 << 20);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn mixed_width_text_pads_to_display_columns() {
        assert_eq!(pad_zh("教材", 6), "教材  ");
        assert_eq!(pad_zh("abc", 5), "abc  ");
    }
}
