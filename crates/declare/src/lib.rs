//! xcert declaration and review (申报与评审): the rules of a numbered batch of TEO
//! applications, from the ministry's notice to the published list. No I/O: the store keeps
//! the rows, the web layer asks these functions what may happen next.
//!
//! - [`batch`]: a batch's settings and its states draft → open → closed → in review →
//!   publicity → published.
//! - [`proposal`]: a certificate proposal's states, the completeness check of its standard,
//!   question bank and seven annexes, and which stage may act on it when.
//! - [`rubric`]: the experts' rubric as data (categories, sub-categories, points).
//! - [`review`]: drawing experts without conflicts of interest, combining their scores,
//!   flagging outliers.
//! - [`diff`]: what changed between two submitted versions of a proposal.
//! - [`tasks`]: the lead unit's task breakdown, progress per unit, overdue tasks.
//! - [`stats`]: a batch's figures (applications, units, proposals, shortlist, pass rate).

pub mod batch;
pub mod diff;
pub mod proposal;
pub mod review;
pub mod rubric;
pub mod stats;
pub mod tasks;

pub use batch::{BatchInput, BatchSettings, BatchState, CombineRule};
pub use proposal::{Missing, ProposalContent, ProposalState, Refusal};
pub use rubric::Rubric;
