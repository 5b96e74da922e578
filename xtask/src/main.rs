//! `cargo xtask codegen [--check]`: writes every file generated from the operation registry
//! and the core's types; with `--check`, writes nothing and fails when a committed file
//! differs from what would be generated, or pins another version than the workspace's.
//! `cargo xtask dist`: every release artifact for this platform (dist/mod.rs).

mod api;
mod dist;
mod docs;
mod java;
mod node;
mod platforms;
mod python;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

/// Every generated file, relative to the repository root, with its contents.
pub fn outputs(api: &api::Api, root: &Path) -> Vec<(PathBuf, String)> {
    let schema_page = std::fs::read_to_string(root.join(docs::SCHEMA_PAGE)).unwrap_or_default();
    vec![
        (PathBuf::from("bindings-python/python/dbconsultant/_generated.py"), python::generate(api)),
        (PathBuf::from("bindings-node/operations.js"), node::operations(api)),
        (PathBuf::from("bindings-node/index.d.ts"), node::declarations(api)),
    ]
    .into_iter()
    .chain(
        platforms::PLATFORMS
            .iter()
            .map(|p| (PathBuf::from(format!("bindings-node/npm/{}/package.json", p.node)), platforms::npm_package_json(p, dist::VERSION))),
    )
    .chain([(PathBuf::from("docs/reference/platforms.md"), platforms::matrix_doc())])
    .chain(java::generate(api))
    .chain(docs::generate(api, &schema_page))
    .collect()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repository").to_path_buf()
}

/// Files whose committed contents differ from what the registry generates, and generated
/// files the registry no longer produces.
pub fn stale(root: &Path, files: &[(PathBuf, String)]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = files
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(root.join(path)).ok().as_deref() != Some(text.as_str()))
        .map(|(p, _)| p.clone())
        .collect();
    out.extend(orphans(root, files));
    out.extend(version_pins(root));
    out
}

/// Hand-written files that state the release version, and differ from the workspace's.
pub fn version_pins(root: &Path) -> Vec<PathBuf> {
    let json_version = |path: &str, pointers: &[&str]| {
        let doc: serde_json::Value =
            std::fs::read_to_string(root.join(path)).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        pointers.iter().all(|p| doc.pointer(p).and_then(|v| v.as_str()) == Some(dist::VERSION))
    };
    // The version right after `<artifactId>dbconsultant</artifactId>` (the project's own in
    // its pom, the dependency's in the example's).
    let pom_version = |path: &str| {
        let text = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        let after = text.split_once("<artifactId>dbconsultant</artifactId>").map(|(_, rest)| rest).unwrap_or("");
        let version = after.split_once("<version>").and_then(|(_, rest)| rest.split_once("</version>")).map(|(v, _)| v.trim());
        version == Some(dist::VERSION)
    };
    let checks = [
        ("bindings-node/package.json", json_version("bindings-node/package.json", &["/version"])),
        ("bindings-node/package-lock.json", json_version("bindings-node/package-lock.json", &["/version", "/packages//version"])),
        ("bindings-java/pom.xml", pom_version("bindings-java/pom.xml")),
        ("examples/java/pom.xml", pom_version("examples/java/pom.xml")),
    ];
    checks.into_iter().filter(|(_, ok)| !ok).map(|(path, _)| PathBuf::from(path)).collect()
}

/// Generated files that are no longer generated: Java files with the generated header, and
/// any rule page (`docs/rules/` holds nothing else).
fn orphans(root: &Path, files: &[(PathBuf, String)]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (dir, generated) in [(java::DIR, true), ("docs/rules", false)] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        out.extend(
            entries
                .filter_map(|e| e.ok())
                .map(|e| PathBuf::from(dir).join(e.file_name()))
                .filter(|p| !files.iter().any(|(f, _)| f == p))
                .filter(|p| !generated || std::fs::read_to_string(root.join(p)).is_ok_and(|t| t.starts_with(java::HEADER))),
        );
    }
    out
}

fn run() -> Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => {
            let check = args.iter().any(|a| a == "--check");
            let api = api::Api::from_registry(dbconsultant::ops::registry())?;
            let root = repo_root();
            let files = outputs(&api, &root);
            if check {
                let stale = stale(&root, &files);
                for path in &stale {
                    eprintln!("stale: {} (run `cargo xtask codegen`)", path.display());
                }
                return Ok(if stale.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
            }
            for path in orphans(&root, &files) {
                std::fs::remove_file(root.join(&path)).with_context(|| format!("removing {}", path.display()))?;
                println!("removed {}", path.display());
            }
            for (path, text) in &files {
                let full = root.join(path);
                if let Some(dir) = full.parent() {
                    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                }
                if std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
                    std::fs::write(&full, text).with_context(|| format!("writing {}", full.display()))?;
                    println!("wrote {}", path.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("dist") => {
            dist::run(&repo_root(), &args[1..])?;
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("usage: cargo xtask codegen [--check] | cargo xtask dist [--out DIR]");
            Ok(ExitCode::from(2))
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbconsultant::ops::{Assistant, Cli, Group, HttpMethod, Op, Operation, Rest, Role, Spec};

    #[test]
    fn generated_files_are_current() {
        let api = api::Api::from_registry(dbconsultant::ops::registry()).unwrap();
        let root = repo_root();
        let stale = stale(&root, &outputs(&api, &root));
        assert!(stale.is_empty(), "stale generated files (run `cargo xtask codegen`): {stale:?}");
    }

    /// A test operation, to prove that adding one reaches every surface.
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct EchoRequest {
        /// What to echo.
        text: String,
        /// How many times.
        #[serde(default)]
        times: Option<u32>,
    }

    struct Echo;
    impl Op for Echo {
        const SPEC: Spec = Spec {
            name: "echo_test",
            summary: "Echo the text (a test operation).",
            description: "Returns its text, to test the registry.",
            group: Group::Runs,
            writes_store: false,
            assistant: Assistant::Tool { name: "echo_test", read_only: true, fields: &["text"] },
            cli: Cli::Command(&["echo"]),
            rest: Rest::Endpoint { method: HttpMethod::Post, path: "echo", role: Role::Viewer },
            positional: &["text"],
            node_positional: &[],
            aliases: &[],
        };
        type Request = EchoRequest;
        type Response = dbconsultant::model::TestRunSummary;
        async fn run(_: &dbconsultant::Consultant, r: EchoRequest) -> dbconsultant::Result<dbconsultant::model::TestRunSummary> {
            Err(dbconsultant::Error::invalid(format!("{} x{}", r.text, r.times.unwrap_or(1))))
        }
    }

    #[test]
    fn an_operation_added_to_the_registry_reaches_every_generated_surface() {
        let mut registry = dbconsultant::ops::registry().to_vec();
        registry.push(Operation::of::<Echo>());
        let registry: &'static [Operation] = Box::leak(registry.into_boxed_slice());
        let api = api::Api::from_registry(registry).unwrap();
        let files = outputs(&api, &repo_root());
        let text = |path: &str| files.iter().find(|(p, _)| p == Path::new(path)).map(|(_, t)| t.clone()).unwrap_or_default();
        let python = text("bindings-python/python/dbconsultant/_generated.py");
        assert!(
            python.contains("    def echo_test(\n        self,\n        text: str,\n        *,\n        times: Optional[int] = None,"),
            "python"
        );
        assert!(python.contains("    echo_test = _awaitable(_Operations.echo_test)"), "python async");
        assert!(text("bindings-node/operations.js").contains("method: \"echoTest\""), "node operations");
        let dts = text("bindings-node/index.d.ts");
        assert!(
            dts.contains("  echoTest(options: EchoTestOptions): Promise<TestRunSummary>;") && dts.contains("  times?: number;"),
            "d.ts"
        );
        assert!(text(&format!("{}/EchoRequest.java", java::DIR)).contains("public Builder times(int value)"), "java request");
        let operations = text(&format!("{}/Operations.java", java::DIR));
        assert!(operations.contains("public TestRunSummary echoTest(EchoRequest request)"), "java method");
        assert!(operations.contains("public TestRunSummary echoTest(String text)"), "java positional");
        let registry_doc = text("docs/reference/registry.json");
        assert!(registry_doc.contains("\"name\": \"echo_test\""), "registry document");
        assert!(text("docs/reference/openapi.json").contains("\"/api/v1/db/echo\""), "OpenAPI document");
        let tools = dbconsultant_mcp::tools::tools(registry);
        let echo = tools.iter().find(|t| t.name == "echo_test").expect("an MCP tool");
        let schema = echo.input_schema(&["db"], &dbconsultant_mcp::tools::Limits { max_rows: 10 });
        assert_eq!(schema["required"], serde_json::json!(["text"]));
    }
}
