//! The `dbconsultant` command's argument definitions, as a library so that tests can check
//! them against the operation registry (every operation has a command, every request field a
//! flag with the core's default).

pub mod args;
pub mod runs_args;
pub mod service_args;
