//! Arguments of the stored runs' commands: `dbconsultant runs ...` and `dbconsultant audit`.

use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recent audit events, newest first.
    List {
        /// Only events whose name starts with this (tool_call, approved, rejected, created).
        #[arg(long)]
        event: Option<String>,
        #[arg(long, default_value_t = dbconsultant::ops::requests::AuditLogRequest::default().limit)]
        limit: u32,
        /// text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
}

#[derive(Subcommand)]
pub enum RunsCommand {
    /// Show one run.
    Show {
        id: String,
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// List recent runs, newest first.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        /// Only runs against this environment: dev, qa, stage, prod.
        #[arg(long)]
        env: Option<String>,
        /// Only runs this caller requested.
        #[arg(long)]
        requested_by: Option<String>,
        #[arg(long, default_value_t = dbconsultant::ops::requests::ListTestRunsRequest::default().limit)]
        limit: u32,
        /// Skip this many runs first (the next page).
        #[arg(long, default_value_t = 0)]
        offset: u32,
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// The audit trail of one run: its creation and every decision, oldest first.
    Trail {
        id: String,
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Approve a run pending approval.
    Approve(DecisionArgs),
    /// Reject a run pending approval.
    Reject(DecisionArgs),
    /// Hand a run pending approval to someone else; it keeps waiting for their decision.
    Escalate {
        #[command(flatten)]
        decision: DecisionArgs,
        /// To whom: the person or group who must approve or reject it.
        #[arg(long)]
        to: String,
    },
}

#[derive(Args)]
pub struct DecisionArgs {
    pub id: String,
    /// Who decides.
    #[arg(long)]
    pub by: String,
    #[arg(long)]
    pub comment: Option<String>,
}
