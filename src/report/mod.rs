//! Report rendering: versioned serde types and the formats people and tools read.
//! The report code never computes a signal or a finding; it only renders them.

pub mod folder;
pub mod html;
pub mod markdown;
pub mod rows;
pub mod sarif;
pub mod schema;

/// Version of memscan's JSON output schemas (detect output, reports).
pub const SCHEMA_VERSION: &str = "1.0";
