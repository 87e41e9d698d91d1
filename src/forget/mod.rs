//! forget-check's stage logic: a record's personal values, the value test that ranks
//! each against the values the model would write in its place, and how tests and
//! extraction attempts become a verdict.

pub mod personal;
pub mod values;
pub mod verdict;
