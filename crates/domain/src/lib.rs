//! xcert domain: the 1+X registry's types and rules, with no I/O.
//!
//! Values here are parsed once at the edge (parse, don't validate): a `CreditCode`
//! or `ResidentId` that exists is a valid one. Storage, web and CLI crates depend on
//! this crate; it depends on none of them.

pub mod access;
pub mod annex;
pub mod audit;
pub mod case;
pub mod certificate;
pub mod error;
pub mod framework;
pub mod ids;
pub mod org;
pub mod person;
pub mod standard;

pub use error::FieldError;
