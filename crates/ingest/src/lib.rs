//! Material consolidation (材料汇总): the engine that takes the gigabytes of declaration
//! materials many units send — folders and archives of docx, xlsx, pptx, pdf, images and
//! video — and turns them into a catalog: exact and near duplicates found, types checked
//! by content, text extracted, each file classified into a material category and, for
//! certificate documents, one of the seven annexes.
//!
//! Everything here works on files and bytes; the database and the object store are reached
//! through the [`engine::Sink`] the caller provides, so the CLI and the web server share it.

pub mod archive;
pub mod classify;
pub mod corpus;
pub mod dedup;
pub mod detect;
pub mod docgen;
pub mod engine;
pub mod export;
pub mod extract;
pub mod minhash;
pub mod rawzip;
pub mod report;
pub mod types;

pub use types::{Annex, Category, Flag, FlagNote, Kind};
