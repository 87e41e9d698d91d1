//! forget-check's stage logic: what a record's personal values are and how the
//! same-format variants and candidates that its tests compare against are drawn, and
//! how its tests become a verdict.

pub mod variants;
pub mod verdict;
