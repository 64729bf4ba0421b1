//! Exact deduplication of the given folders, for benchmarking: prints a one-line summary, or
//! the whole report with `--json`.
//!
//! Usage: `dedup [--json] [--hash-threads N] [--walk-threads N] [--edge-len BYTES] ROOT...`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use xcert_ingest::dedup::{DedupOptions, dedup_paths};

fn main() -> ExitCode {
    let mut opts = DedupOptions::default();
    let mut json = false;
    let mut roots = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Option<usize> {
            let value = args.next().and_then(|v| v.parse().ok());
            if value.is_none() {
                eprintln!("{name} needs a number");
            }
            value
        };
        match arg.as_str() {
            "--json" => json = true,
            "--hash-threads" => match number("--hash-threads") {
                Some(n) => opts.hash_threads = n,
                None => return ExitCode::from(2),
            },
            "--walk-threads" => match number("--walk-threads") {
                Some(n) => opts.walk_threads = n,
                None => return ExitCode::from(2),
            },
            "--edge-len" => match number("--edge-len") {
                Some(n) => opts.edge_len = n,
                None => return ExitCode::from(2),
            },
            _ => roots.push(PathBuf::from(arg)),
        }
    }
    if roots.is_empty() {
        eprintln!(
            "usage: dedup [--json] [--hash-threads N] [--walk-threads N] [--edge-len BYTES] ROOT..."
        );
        return ExitCode::from(2);
    }

    let started = Instant::now();
    let report = dedup_paths(&roots, &opts);
    let elapsed = started.elapsed();
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("cannot print the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let copies: usize = report.groups.iter().map(|g| g.files.len()).sum();
        println!(
            "{} files, {} bytes; {} groups of {} copies, {} bytes redundant; {} hard-link sets, {} empty files, {} errors; read {} bytes in {:.3} s",
            report.files,
            report.bytes,
            report.groups.len(),
            copies,
            report.redundant_bytes,
            report.hard_links.len(),
            report.empty_files.len(),
            report.errors.len(),
            report.bytes_read,
            elapsed.as_secs_f64(),
        );
    }
    ExitCode::SUCCESS
}
