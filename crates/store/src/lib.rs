//! xcert storage: one code path for SQLite (embedded default) and PostgreSQL.
//!
//! All SQL is written once with `$n` placeholders and portable types (TEXT, BIGINT),
//! and runs through sqlx's `Any` driver, so every query is exercised on both engines by
//! the same tests. Every change goes through a [`WriteTx`], which appends to the
//! hash-chained audit log inside the same transaction.

mod accounts;
mod audit;
mod certificates;
mod db;
mod declarations;
pub mod declarations_history;
mod error;
mod exams;
mod imports;
mod ingest;
mod issued;
mod items;
mod objects;
mod organizations;
mod people;
mod standards;

pub use accounts::{LoginOutcome, NewUser, SessionInfo, UserRow, hash_password, verify_password};
pub use audit::{AuditFilter, AuditRow};
pub use certificates::{CatalogueFilter, CertificateRow, Facets};
pub use db::{Backend, Store, WriteTx, now, redact_url};
pub use declarations::{
    AnnexRow, ApplicationRow, AssignmentRow, BatchRow, ExpertRow, NewExpert, NewTask,
    NewVerification, NotificationRow, ObjectionRow, OpinionRow, ProposalContentRow, ProposalRow,
    ProposalSet, TaskRow, TeoProposalRow, UnitRow, VerificationRow, VersionRow,
};
pub use error::StoreError;
pub use exams::{
    AnalysisRow, AttemptState, CandidateRow, NewSession, PracticalScoreRow, ResponseRow, ResultRow,
    SAVE_GRACE_SECS, ScoredResponse, SessionBrief, SessionRow, SessionScope, SessionStatus,
    SessionTask, TaskStanding, add_secs, parse_time,
};
pub use imports::{ImportJob, ImportSummary};
pub use ingest::{
    FileFilter, NewRun, ProgressFn, RunOptions, RunOutcome, RunRow, RunState,
    report_json as ingest_report_json,
};
pub use issued::{
    IssuanceJobRow, IssuanceRow, IssuedFilter, IssuedRow, IssuedState, IssuerKeyRow, JobState,
    NewIssued, NewJob, StatusListRow,
};
pub use items::{
    AssemblyRow, BlueprintRow, FormContent, FormItem, FormRow, FormStatus, ItemFilter,
    ItemImportRow, ItemRow, ItemStats, ItemVersionRow, NewForm, UpsertOutcome, content_hash,
};
pub use objects::Objects;
pub use organizations::{OrgFilter, OrgRow};
pub use people::PersonRow;
pub use standards::{StandardVersion, VersionInfo};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
