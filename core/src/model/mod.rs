//! Types that cross a boundary: the run document and the normalized schema model.

pub mod plan;
pub mod run;
pub mod schema;

pub use plan::*;
pub use run::*;
pub use schema::*;
