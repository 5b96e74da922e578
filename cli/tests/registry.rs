//! The CLI against the operation registry: every operation has its subcommand (or the
//! registry says why not), every request field a flag or argument (or a stated reason for
//! its absence), and where the CLI shows a default it is the core's.

use clap::CommandFactory;
use dbconsultant::ops::{self, Cli, Operation};
use dbconsultant_cli::args::Cli as Args;
use serde_json::Value;

/// Request fields the CLI names differently: (field, clap argument id).
const RENAMES: &[(&str, &str)] = &[
    ("database_url", "db"),
    ("environment", "env"),
    ("trigger_type", "trigger"),
    ("migration_script", "files"),
    ("source_url", "source"),
    ("target_url", "target"),
    ("require_human_approval", "require_approval"),
    ("exclude_columns", "exclude"),
    ("column_map", "map"),
    ("column_tolerance", "tolerance"),
    ("bisection_threshold", "threshold"),
    ("where", "where_clause"),
    ("query_file", "file"),
    ("test_run_id", "id"),
    ("approver", "by"),
    // A password never goes on a command line (other users see it in `ps`): a file names it.
    ("database_password", "password_file"),
    ("source_password", "source_password_file"),
    ("target_password", "target_password_file"),
];

/// Flags that switch a default-on field off: (field, clap argument id).
const INVERTED: &[(&str, &str)] = &[("analyze", "no_analyze"), ("sandbox_verification", "no_sandbox_verification")];

/// Request fields deliberately not on the CLI, and why.
const ABSENT: &[(&str, &str)] = &[
    ("migrations", "named migration texts are for API callers; the CLI reads migration files"),
    ("migration_sql", "the CLI reads migration files (write the SQL to a file)"),
    ("migration_name", "the CLI reads migration files, which name themselves"),
];

/// Everything the CLI lacks or shows differently from the registry.
fn problems(registry: &[Operation]) -> Vec<String> {
    let document = ops::describe(registry);
    let definitions = document["$defs"].as_object().cloned().unwrap_or_default();
    let root = Args::command();
    let mut out = Vec::new();
    for (op, described) in registry.iter().zip(document["operations"].as_array().unwrap()) {
        let path = match op.spec.cli {
            Cli::Command(path) => path,
            Cli::Absent(reason) => {
                if reason.trim().is_empty() {
                    out.push(format!("{}: absent from the CLI without a reason", op.spec.name));
                }
                continue;
            }
        };
        let mut command = &root;
        let mut found = true;
        for word in path {
            match command.get_subcommands().find(|c| c.get_name() == *word) {
                Some(sub) => command = sub,
                None => {
                    out.push(format!("{}: no `dbconsultant {}` command", op.spec.name, path.join(" ")));
                    found = false;
                    break;
                }
            }
        }
        if !found {
            continue;
        }
        let request = ops::resolve(&described["request"], &definitions);
        let Some(properties) = request["properties"].as_object() else { continue };
        for (field, schema) in properties {
            if ABSENT.iter().any(|(f, _)| f == field) {
                continue;
            }
            let id = RENAMES.iter().find(|(f, _)| f == field).map(|(_, id)| *id).unwrap_or(field);
            let direct = command.get_arguments().find(|a| a.get_id() == id);
            // A field on by default is switched off by a `--no-...` flag instead.
            let inverted = INVERTED.iter().find(|(f, _)| f == field).map(|(_, id)| *id).filter(|_| direct.is_none());
            let Some(arg) = direct.or_else(|| inverted.and_then(|inv| command.get_arguments().find(|a| a.get_id() == inv))) else {
                out.push(format!("{}: `dbconsultant {}` has no argument for `{field}` (expected `{id}`)", op.spec.name, path.join(" ")));
                continue;
            };
            let default = schema.get("default").filter(|d| d.is_number() || d.is_string() || d.is_boolean());
            let shown: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
            if let (Some(default), Some(shown), None) = (default, shown.first(), inverted) {
                let expected = match default {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if *shown != expected {
                    out.push(format!("{}: --{id} defaults to {shown}, the core to {expected}", op.spec.name));
                }
            }
        }
    }
    out
}

#[test]
fn every_operation_has_its_command_and_every_field_its_flag() {
    let problems = problems(ops::registry());
    assert!(problems.is_empty(), "the CLI drifted from the registry:\n{}", problems.join("\n"));
}

/// An operation added to the registry shows up as missing until the CLI gets it.
mod added_operation {
    use dbconsultant::ops::{Assistant, Cli, Group, Op, Operation, Spec};
    use dbconsultant::Consultant;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct EchoRequest {
        pub text: String,
    }

    pub struct Echo;
    impl Op for Echo {
        const SPEC: Spec = Spec {
            name: "echo_test",
            summary: "Echo (a test operation).",
            description: "Returns its text.",
            group: Group::Runs,
            writes_store: false,
            assistant: Assistant::Never("test"),
            cli: Cli::Command(&["echo"]),
            rest: dbconsultant::ops::Rest::Absent("a test operation"),
            positional: &["text"],
            node_positional: &[],
            aliases: &[],
        };
        type Request = EchoRequest;
        type Response = String;
        async fn run(_: &Consultant, r: EchoRequest) -> dbconsultant::Result<String> {
            Ok(r.text)
        }
    }

    pub fn registry() -> Vec<Operation> {
        let mut ops = dbconsultant::ops::registry().to_vec();
        ops.push(Operation::of::<Echo>());
        ops
    }
}

#[test]
fn an_operation_added_to_the_registry_fails_until_the_cli_has_it() {
    let problems = problems(&added_operation::registry());
    assert_eq!(problems, ["echo_test: no `dbconsultant echo` command"]);
}
