//! `xcert`: serve the platform, load the demo, migrate, manage accounts, import and
//! export the registry, and verify the audit chain.

mod analyze;
mod batches;
mod bench_issue;
mod certs;
mod config;
mod demo;
mod ingest;
mod items;
mod rush;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use config::Settings;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use xcert_domain::access::{Principal, Role};
use xcert_store::{NewUser, Store};

#[derive(Parser)]
#[command(
    name = "xcert",
    version,
    about = "xcert: the information and management platform of the 1+X certificate system"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives; every subcommand that touches data takes these.
#[derive(Args, Clone, Debug, Default)]
struct DataArgs {
    /// Data folder: SQLite database (xcert.db), object store (objects/), optional xcert.toml.
    #[arg(long, env = "XCERT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL, e.g. postgres://user@127.0.0.1/xcert (default: SQLite in the data folder).
    #[arg(long, env = "XCERT_DATABASE_URL")]
    database_url: Option<String>,
    /// Configuration file (TOML); default DATA_DIR/xcert.toml when it exists.
    #[arg(long, env = "XCERT_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web pages and the API.
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// TCP port (0 picks a free one).
        #[arg(long, env = "XCERT_PORT")]
        port: Option<u16>,
        /// Address to listen on.
        #[arg(long, env = "XCERT_BIND")]
        bind: Option<String>,
    },
    /// Create (once) a realistic demo data set, serve it, and print one login per role.
    Demo {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, env = "XCERT_PORT")]
        port: Option<u16>,
        #[arg(long, env = "XCERT_BIND")]
        bind: Option<String>,
        /// Load the demo data and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import organizations, certificates with standards, and people from .xlsx or .csv.
    /// Shows a preview first; writes nothing unless confirmed, then all in one transaction.
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// The .xlsx or .csv file.
        file: PathBuf,
        /// Only check and preview; never write.
        #[arg(long)]
        dry_run: bool,
        /// Apply without asking when the preview is clean.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Print the preview as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export the registry to .xlsx (the import template's layout).
    Export {
        #[command(flatten)]
        data: DataArgs,
        /// Output file.
        #[arg(long, short = 'o', default_value = "xcert-export.xlsx")]
        output: PathBuf,
        /// Include full resident ID numbers (recorded in the audit log); masked otherwise.
        #[arg(long)]
        include_ids: bool,
    },
    /// The hash-chained audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a blank import template (.xlsx).
    Template {
        #[arg(long, short = 'o', default_value = "xcert-import-template.xlsx")]
        output: PathBuf,
    },
    /// Take in declaration materials (folders, zip and 7z archives): deduplicate, check,
    /// extract, classify and report. A killed run continues with --resume.
    Ingest {
        #[command(flatten)]
        data: DataArgs,
        /// Folders and archives to take in.
        paths: Vec<PathBuf>,
        /// The unit (单位) every file belongs to; default: the first folder level.
        #[arg(long)]
        unit: Option<String>,
        /// Declaration batch the materials are for.
        #[arg(long)]
        batch: Option<String>,
        /// A name for the run (default: the folder names).
        #[arg(long)]
        title: Option<String>,
        /// The organization (credit code or name) whose run this is; its staff see it.
        #[arg(long)]
        org: Option<String>,
        /// Print the full report as JSON (schema in docs/INGEST.md).
        #[arg(long)]
        json: bool,
        /// Continue the last run that did not finish, skipping what it cataloged.
        #[arg(long)]
        resume: bool,
        /// Record the catalog without copying contents into the object store.
        #[arg(long)]
        catalog_only: bool,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// No progress bar.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Consolidation runs: list them, export a catalog or report.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Item analysis of one form: classical statistics, distractor tables, flags and IRT
    /// (no database). RESPONSES.csv: person id, then one column per item.
    Analyze {
        /// RESPONSES.csv: chosen options (with --key) or scores; empty = omitted, `.`/NA = not presented.
        responses: PathBuf,
        /// KEY.csv: item,key[,points][,options][,scoring].
        #[arg(long)]
        key: Option<PathBuf>,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
        /// IRT model: rasch, 2pl, none, or auto (2PL from 500 candidates, Rasch from 100).
        #[arg(long, default_value = "auto")]
        irt: String,
    },
    /// A certificate's question bank: import (QTI 2.1/2.2/3.0, Moodle XML, GIFT, the .xlsx
    /// template) and export (QTI 3.0, .xlsx).
    Items {
        #[command(subcommand)]
        command: ItemsCommand,
    },
    /// Issue certificates from a released session's pass list or a pass-list file
    /// (.xlsx/.csv: 姓名, 身份证号, 院校), or resume an interrupted job. Resumable:
    /// exactly one certificate per candidate however often it is stopped.
    Issue {
        #[command(flatten)]
        data: DataArgs,
        /// A released exam session's id.
        #[arg(long, conflicts_with = "pass_list")]
        session: Option<i64>,
        /// A pass-list file.
        #[arg(long)]
        pass_list: Option<PathBuf>,
        /// With --pass-list: the certificate code, e.g. SGCC-RPM.
        #[arg(long)]
        certificate: Option<String>,
        /// With --pass-list: junior, intermediate or senior.
        #[arg(long)]
        level: Option<String>,
        /// With --pass-list: which assessment the list is from (issuing twice from the same
        /// assessment gives nobody a second certificate).
        #[arg(long)]
        session_ref: Option<String>,
        /// Resume a job a stop interrupted.
        #[arg(long)]
        resume: Option<i64>,
        /// Check and count only; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Verify a credential file (JSON with an embedded proof, or a JWT) offline: bundled
    /// contexts, this instance's keys and status lists. Exits 1 when it does not verify.
    Verify {
        #[command(flatten)]
        data: DataArgs,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a certificate (final), or suspend or reinstate it; the reason is audited.
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        number: String,
        #[arg(long)]
        reason: String,
        /// Suspend instead of revoking.
        #[arg(long, conflicts_with = "reinstate")]
        suspend: bool,
        /// Lift a suspension.
        #[arg(long)]
        reinstate: bool,
    },
    /// Declaration batches (申报批次): list, advance a stage, statistics.
    Batch {
        #[command(subcommand)]
        command: BatchCommand,
    },
    /// A TEO's signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Benchmarks and test data: the seeded material corpus, the dedup-only mode, the exam
    /// rush and certificate issuing.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum ItemsCommand {
    /// Read a bank file, show what it holds and every problem (file, element or row and
    /// column), then import it in one transaction.
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// The certificate whose bank it is, e.g. SGCC-RPM.
        #[arg(long)]
        certificate: String,
        /// A QTI content package (.zip) or item (.xml), Moodle XML, GIFT (.gift, .txt) or .xlsx.
        file: PathBuf,
        /// Apply without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Print the preview as JSON.
        #[arg(long)]
        json: bool,
        /// Review status for items the file gives none (draft, in_review, approved).
        #[arg(long)]
        status: Option<String>,
    },
    /// Write the bank as a QTI 3.0 package or in the .xlsx template's layout.
    Export {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        certificate: String,
        #[arg(long, value_parser = ["qti3", "xlsx"], default_value = "qti3")]
        format: String,
        #[arg(long, short = 'o')]
        output: PathBuf,
    },
    /// Write the blank .xlsx question bank template with its column guide.
    Template {
        #[arg(long, short = 'o', default_value = "xcert-item-template.xlsx")]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum BatchCommand {
    /// Every batch with its state and application window.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Move a batch to its next stage (open, closed, in_review, publicity, published).
    Advance {
        #[command(flatten)]
        data: DataArgs,
        /// The batch number (4 for the fourth batch).
        number: i64,
        to: String,
    },
    /// A batch's statistics: applications, units, proposals, shortlist, pass rate.
    Stats {
        #[command(flatten)]
        data: DataArgs,
        number: i64,
        /// Also write them as .xlsx.
        #[arg(long)]
        xlsx: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a new signing key; older keys stay in the TEO's DID document.
    Rotate {
        #[command(flatten)]
        data: DataArgs,
        /// The TEO: id, unified social credit code or exact Chinese name.
        #[arg(long)]
        teo: String,
    },
    /// List a TEO's keys.
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        teo: String,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// List consolidation runs.
    Runs {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Write a run's catalog (csv, parquet) or report (json).
    Export {
        #[command(flatten)]
        data: DataArgs,
        run: i64,
        #[arg(long, value_parser = ["csv", "parquet", "json"], default_value = "csv")]
        format: String,
        /// Output file (default: standard output).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Write a seeded, realistic tree of declaration materials and its ground truth.
    GenCorpus {
        /// New folder to write.
        dir: PathBuf,
        /// Target size, e.g. 200M, 2G, 7G.
        #[arg(long, default_value = "200M")]
        size: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 16)]
        units: usize,
        /// Leave out zip archives (nested, GBK names).
        #[arg(long)]
        no_archives: bool,
        /// Leave out hard links.
        #[arg(long)]
        no_hard_links: bool,
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Many candidates start, autosave and submit a theory exam at once against a real
    /// `xcert serve` on loopback; latencies per request and every answer counted back.
    ExamRush {
        /// Fresh data folder (default: a new temporary one).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// An empty database (default: SQLite in the data folder).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 2000)]
        candidates: usize,
        #[arg(long, default_value_t = 40)]
        items: usize,
        /// Autosaves per candidate before the submit.
        #[arg(long, default_value_t = 6)]
        saves: usize,
        /// Mean time between one candidate's saves, milliseconds.
        #[arg(long, default_value_t = 10_000)]
        interval_ms: u64,
        /// Candidates arrive spread over this long, milliseconds.
        #[arg(long, default_value_t = 10_000)]
        ramp_ms: u64,
        /// Final submits spread over this long, milliseconds (0: all at once).
        #[arg(long, default_value_t = 20_000)]
        submit_spread_ms: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// Certificates signed and stored per minute on a fresh database (one TEO, one
    /// certificate, a synthetic pass list), against raw ed25519 signing on the same cores.
    Issue {
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// An empty database (default: SQLite in a new temporary folder, removed after).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Find exact duplicates only (no database, nothing written).
    Dedup {
        paths: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from the terminal, from stdin with
    /// --password-stdin, or from the XCERT_PASSWORD environment variable.
    Add {
        #[command(flatten)]
        data: DataArgs,
        username: String,
        /// ministry_admin, province_admin, teo_staff, college_staff, examiner, expert_reviewer or candidate.
        #[arg(long)]
        role: String,
        /// The account's organization: credit code or exact Chinese name.
        #[arg(long)]
        org: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// For a candidate account: the student's resident ID number.
        #[arg(long)]
        person: Option<String>,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every entry's hash and link; exit 1 if the chain is broken.
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// The CLI acts with ministry rights under its own name in the audit log.
fn cli_principal() -> Principal {
    let who = std::env::var("USER").unwrap_or_else(|_| "local".into());
    Principal {
        user_id: 0,
        username: format!("cli:{who}"),
        role: Role::MinistryAdmin,
        org_id: None,
        province: None,
        person_id: None,
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("XCERT_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,lopdf=error,pdf_extract=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

async fn open(data: &DataArgs, default_dir: &str) -> Result<(Store, Settings)> {
    let s = Settings::load(
        data.data_dir.clone(),
        data.database_url.clone(),
        data.config.clone(),
        default_dir,
    )?;
    let store = s.open_store().await?;
    Ok((store, s))
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { data, port, bind } => {
            let (store, s) = open(&data, "xcert-data").await?;
            serve(store, s, port, bind, None).await
        }
        Command::Demo {
            data,
            port,
            bind,
            no_serve,
        } => {
            let (store, s) = open(&data, "xcert-demo").await?;
            // The demo's credentials name the address it will be served at.
            let base = format!(
                "http://{}:{}",
                bind.clone()
                    .or(s.file.bind.clone())
                    .unwrap_or_else(|| "127.0.0.1".into()),
                port.or(s.file.port).filter(|p| *p != 0).unwrap_or(8080)
            );
            let base = s.file.base_url.clone().unwrap_or(base);
            let logins = demo::load(&store, &s.data_dir, &s.web_config(Some(base))?).await?;
            if no_serve {
                demo::print_logins(&logins, None);
                return Ok(());
            }
            serve(store, s, port, bind, Some(logins)).await
        }
        Command::Migrate { data } => {
            let (store, s) = open(&data, "xcert-data").await?;
            println!(
                "database {} is at schema version {}",
                s.database_display(),
                store.schema_version().await?
            );
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    data,
                    username,
                    role,
                    org,
                    name,
                    person,
                    password_stdin,
                },
        } => {
            let (store, _) = open(&data, "xcert-data").await?;
            let org_id = match org {
                Some(o) => Some(
                    store
                        .org_find(&o)
                        .await?
                        .with_context(|| format!("no organization with credit code or name {o}"))?
                        .id,
                ),
                None => None,
            };
            let password = read_password(password_stdin)?;
            let mut tx = store.begin_write(&cli_principal().username).await?;
            let person_id = match person {
                Some(p) => {
                    let id = xcert_domain::ids::ResidentId::parse(&p)
                        .map_err(|e| anyhow::anyhow!("--person: {e}"))?;
                    Some(
                        tx.person_id_by_number(id.expose())
                            .await?
                            .with_context(|| {
                                format!("no student with ID number {}", id.masked())
                            })?,
                    )
                }
                None => None,
            };
            let u = NewUser {
                username,
                display_name: name.unwrap_or_default(),
                password,
                role,
                org_id,
                person_id,
            };
            let row = tx.user_create(&u).await.map_err(describe)?;
            tx.commit().await?;
            println!("created {} ({})", row.username, row.role.as_str());
            Ok(())
        }
        Command::User {
            command: UserCommand::List { data },
        } => {
            let (store, _) = open(&data, "xcert-data").await?;
            for u in store
                .users_list(&xcert_domain::access::UserScope::All)
                .await?
            {
                println!(
                    "{:<20} {:<16} {}",
                    u.username,
                    u.role.as_str(),
                    u.org_name.unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::Import {
            data,
            file,
            dry_run,
            yes,
            json,
        } => import(data, file, dry_run, yes, json).await,
        Command::Export {
            data,
            output,
            include_ids,
        } => {
            let (store, _) = open(&data, "xcert-data").await?;
            let bytes = demo::export(&store, &cli_principal(), include_ids).await?;
            std::fs::write(&output, bytes)
                .with_context(|| format!("writing {}", output.display()))?;
            println!("wrote {}", output.display());
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { data },
        } => {
            let (store, _) = open(&data, "xcert-data").await?;
            match store.audit_verify().await? {
                Ok(n) => {
                    println!("audit chain intact: {n} entries");
                    Ok(())
                }
                Err(b) => {
                    println!("audit chain BROKEN: {b}");
                    std::process::exit(1);
                }
            }
        }
        Command::Ingest {
            data,
            paths,
            unit,
            batch,
            title,
            org,
            json,
            resume,
            catalog_only,
            threads,
            quiet,
        } => {
            let (store, _) = open(&data, "xcert-data").await?;
            ingest::ingest(
                &store,
                ingest::IngestArgs {
                    paths,
                    unit,
                    batch,
                    title,
                    org,
                    json,
                    resume,
                    catalog_only,
                    threads,
                    quiet,
                },
            )
            .await
        }
        Command::Catalog {
            command: CatalogCommand::Runs { data },
        } => {
            let (store, _) = open(&data, "xcert-data").await?;
            ingest::catalog_runs(&store).await
        }
        Command::Catalog {
            command:
                CatalogCommand::Export {
                    data,
                    run,
                    format,
                    output,
                },
        } => {
            let (store, _) = open(&data, "xcert-data").await?;
            let format = match format.as_str() {
                "parquet" => ingest::CatalogFormat::Parquet,
                "json" => ingest::CatalogFormat::Json,
                _ => ingest::CatalogFormat::Csv,
            };
            ingest::catalog_export(&store, run, format, output).await
        }
        Command::Bench {
            command:
                BenchCommand::GenCorpus {
                    dir,
                    size,
                    seed,
                    units,
                    no_archives,
                    no_hard_links,
                    quiet,
                },
        } => {
            let spec = xcert_ingest::corpus::CorpusSpec {
                seed,
                total_bytes: ingest::parse_size(&size)?,
                units,
                archives: !no_archives,
                hard_links: !no_hard_links,
                ..Default::default()
            };
            tokio::task::spawn_blocking(move || ingest::gen_corpus(dir, spec, quiet)).await?
        }
        Command::Bench {
            command:
                BenchCommand::Dedup {
                    paths,
                    json,
                    threads,
                },
        } => {
            if paths.is_empty() {
                bail!("give one or more folders");
            }
            tokio::task::spawn_blocking(move || ingest::bench_dedup(&paths, json, threads)).await?
        }
        Command::Bench {
            command:
                BenchCommand::ExamRush {
                    data_dir,
                    database_url,
                    candidates,
                    items,
                    saves,
                    interval_ms,
                    ramp_ms,
                    submit_spread_ms,
                    seed,
                    json,
                },
        } => {
            let tmp;
            let dir = match data_dir {
                Some(d) => d,
                None => {
                    tmp = std::env::temp_dir().join(format!("xcert-rush-{}", std::process::id()));
                    tmp
                }
            };
            let exe = std::env::current_exe()?;
            let report = rush::run(
                &exe,
                &dir,
                database_url.as_deref(),
                rush::RushOptions {
                    candidates,
                    items,
                    saves,
                    interval: std::time::Duration::from_millis(interval_ms),
                    ramp: std::time::Duration::from_millis(ramp_ms),
                    submit_spread: std::time::Duration::from_millis(submit_spread_ms),
                    seed,
                },
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                rush::print(&report);
            }
            if report.answers_lost > 0 {
                bail!("{} acknowledged answers are missing", report.answers_lost);
            }
            Ok(())
        }
        Command::Bench {
            command:
                BenchCommand::Issue {
                    count,
                    database_url,
                    json,
                },
        } => {
            let (report, dir) =
                bench_issue::run(count, database_url.as_deref(), &cli_principal()).await?;
            let _ = std::fs::remove_dir_all(&dir);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                bench_issue::print(&report);
            }
            Ok(())
        }
        Command::Issue {
            data,
            session,
            pass_list,
            certificate,
            level,
            session_ref,
            resume,
            dry_run,
        } => {
            let (store, s) = open(&data, "xcert-data").await?;
            certs::issue_cmd(
                store,
                s.web_config(None)?,
                &cli_principal(),
                certs::IssueArgs {
                    session,
                    pass_list: pass_list.as_deref(),
                    certificate: certificate.as_deref(),
                    level: level.as_deref(),
                    session_ref: session_ref.as_deref(),
                    resume,
                    dry_run,
                },
            )
            .await
        }
        Command::Verify { data, file, json } => {
            let (store, s) = open(&data, "xcert-data").await?;
            if !certs::verify_cmd(store, s.web_config(None)?, &file, json).await? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Revoke {
            data,
            number,
            reason,
            suspend,
            reinstate,
        } => {
            let (store, s) = open(&data, "xcert-data").await?;
            let to = if suspend {
                xcert_store::IssuedState::Suspended
            } else if reinstate {
                xcert_store::IssuedState::Active
            } else {
                xcert_store::IssuedState::Revoked
            };
            certs::revoke_cmd(
                store,
                s.web_config(None)?,
                &cli_principal(),
                &number,
                to,
                &reason,
            )
            .await
        }
        Command::Batch {
            command: BatchCommand::List { data },
        } => {
            let (store, s) = open(&data, "xcert-data").await?;
            batches::list(store, s.web_config(None)?, &cli_principal()).await
        }
        Command::Batch {
            command: BatchCommand::Advance { data, number, to },
        } => {
            let (store, s) = open(&data, "xcert-data").await?;
            batches::advance(store, s.web_config(None)?, &cli_principal(), number, &to).await
        }
        Command::Batch {
            command:
                BatchCommand::Stats {
                    data,
                    number,
                    xlsx,
                    json,
                },
        } => {
            let (store, s) = open(&data, "xcert-data").await?;
            batches::stats(
                store,
                s.web_config(None)?,
                &cli_principal(),
                number,
                xlsx.as_deref(),
                json,
            )
            .await
        }
        Command::Keys {
            command: KeysCommand::Rotate { data, teo },
        } => {
            let (store, s) = open(&data, "xcert-data").await?;
            certs::keys_cmd(store, s.web_config(None)?, &cli_principal(), &teo, true).await
        }
        Command::Keys {
            command: KeysCommand::List { data, teo },
        } => {
            let (store, s) = open(&data, "xcert-data").await?;
            certs::keys_cmd(store, s.web_config(None)?, &cli_principal(), &teo, false).await
        }
        Command::Analyze {
            responses,
            key,
            json,
            irt,
        } => {
            let irt = analyze::parse_irt(&irt)?;
            tokio::task::spawn_blocking(move || analyze::run(&responses, key.as_deref(), json, irt))
                .await?
        }
        Command::Items {
            command:
                ItemsCommand::Import {
                    data,
                    certificate,
                    file,
                    yes,
                    json,
                    status,
                },
        } => {
            let (store, s) = open(&data, "xcert-data").await?;
            items::import(
                store,
                s.web_config(None)?,
                &cli_principal(),
                &certificate,
                &file,
                yes,
                json,
                status.as_deref(),
            )
            .await
        }
        Command::Items {
            command:
                ItemsCommand::Export {
                    data,
                    certificate,
                    format,
                    output,
                },
        } => {
            let (store, s) = open(&data, "xcert-data").await?;
            items::export(
                store,
                s.web_config(None)?,
                &cli_principal(),
                &certificate,
                &format,
                &output,
            )
            .await
        }
        Command::Items {
            command: ItemsCommand::Template { output },
        } => {
            let bytes =
                xcert_assess::interchange::template_xlsx().map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&output, bytes)?;
            println!("wrote {}", output.display());
            Ok(())
        }
        Command::Template { output } => {
            std::fs::write(&output, xcert_bulk::template_xlsx())?;
            println!("wrote {}", output.display());
            Ok(())
        }
    }
}

/// Store errors with their field messages spelled out.
fn describe(e: xcert_store::StoreError) -> anyhow::Error {
    match e {
        xcert_store::StoreError::Invalid(v) => {
            anyhow::anyhow!(
                v.iter()
                    .map(|f| format!("{}: {} ({})", f.field, f.en, f.zh))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
        xcert_store::StoreError::Conflict(f) => anyhow::anyhow!("{}: {} ({})", f.field, f.en, f.zh),
        other => other.into(),
    }
}

fn read_password(from_stdin: bool) -> Result<String> {
    if !from_stdin && let Ok(p) = std::env::var("XCERT_PASSWORD") {
        return Ok(p);
    }
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s.lines().next().unwrap_or("").to_string());
    }
    let p = rpassword::prompt_password("password: ")?;
    let again = rpassword::prompt_password("again: ")?;
    if p != again {
        bail!("the passwords differ");
    }
    Ok(p)
}

async fn import(data: DataArgs, file: PathBuf, dry_run: bool, yes: bool, json: bool) -> Result<()> {
    let (store, _) = open(&data, "xcert-data").await?;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let set = xcert_bulk::read_file(&name, &bytes)
        .map_err(|e| anyhow::anyhow!("{}: {} ({})", file.display(), e.en(), e.zh()))?;
    let who = cli_principal();
    let preview = store.import_apply(&who, &set, false).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&preview)?);
    } else {
        print_summary(&preview);
    }
    if !preview.errors.is_empty() {
        eprintln!(
            "{} row(s) rejected; nothing was written",
            preview.errors.len()
        );
        std::process::exit(1);
    }
    if dry_run {
        eprintln!("dry run: nothing was written");
        return Ok(());
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("not applied: run with --yes to apply without a prompt");
        }
        eprint!("apply these changes in one transaction? [y/N] ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("not applied");
            return Ok(());
        }
    }
    let id = store.import_stage(&who, &name, bytes, &preview).await?;
    let done = store.import_confirm(&who, id).await?;
    if !done.committed {
        print_summary(&done);
        bail!("the import was rejected when applied; nothing was written");
    }
    println!(
        "applied import #{id}: {} records written",
        done.total_written()
    );
    Ok(())
}

fn print_summary(s: &xcert_store::ImportSummary) {
    println!("rows read: {}", s.rows_read);
    println!(
        "organizations: {} new, {} updated",
        s.organizations_created, s.organizations_updated
    );
    println!(
        "certificates:  {} new, {} updated",
        s.certificates_created, s.certificates_updated
    );
    println!(
        "standards:     {} published, {} unchanged",
        s.standards_published, s.standards_unchanged
    );
    println!(
        "people:        {} new, {} updated",
        s.people_created, s.people_updated
    );
    for e in &s.errors {
        println!(
            "  {} row {} column {}: {} ({})",
            e.sheet,
            e.row,
            if e.column.is_empty() { "-" } else { &e.column },
            e.en,
            e.zh
        );
    }
}

async fn serve(
    store: Store,
    s: Settings,
    port: Option<u16>,
    bind: Option<String>,
    logins: Option<Vec<demo::Login>>,
) -> Result<()> {
    let port = port.or(s.file.port).unwrap_or(8080);
    let bind = bind
        .or(s.file.bind.clone())
        .unwrap_or_else(|| "127.0.0.1".into());
    let listener = tokio::net::TcpListener::bind((bind.as_str(), port))
        .await
        .with_context(|| {
            format!("cannot listen on {bind}:{port} (is another server running? try --port)")
        })?;
    let addr = listener.local_addr()?;
    let base_url = s
        .file
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let state = xcert_web::AppState::new(store, s.web_config(Some(base_url.clone()))?);
    println!(
        "xcert serving {base_url}  (database: {}, files: {})",
        s.database_display(),
        state.store.objects.describe()
    );
    if let Some(l) = &logins {
        demo::print_logins(l, Some(&base_url));
    }
    xcert_web::serve(listener, state).await?;
    Ok(())
}
