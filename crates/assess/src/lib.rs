//! xcert assessment: the item bank's model and scoring, interchange formats (1EdTech QTI,
//! Moodle GIFT and XML, the .xlsx template), blueprints and paper assembly, delivery
//! (per-candidate shuffling), results rules, item analysis (classical and IRT) and rater
//! agreement. Pure: no database, no network; the store and web crates bring the I/O.

pub mod analysis;
pub mod assemble;
pub mod blueprint;
pub mod delivery;
pub mod interchange;
pub mod item;
pub mod markup;
pub mod results;

pub use item::{Item, ItemContent, ItemKind, ItemMeta, Response, Scored};
