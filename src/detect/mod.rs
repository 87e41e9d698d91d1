//! Detectors of PII and secrets: rules as data (`rules.rs`), validators in code
//! (`validate.rs`; payment cards' IIN table in `cards.rs`, CSV/TSV cells under their headers in `columns.rs`, national identifiers in `national.rs`), and the keyword-gated regex engine (`engine.rs`).

pub mod cards;
pub mod columns;
pub mod engine;
pub mod national;
pub mod rules;
pub mod validate;

pub use engine::{Engine, Finding};
pub use rules::{Category, Rule};
