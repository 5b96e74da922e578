//! The CLI release tarball: `dbconsultant-<v>-<target>/` holding the binary, README, licence,
//! changelog, shell completions (bash, zsh, fish) and man pages, all generated from the clap
//! definitions the binary itself parses with.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use super::{copy, run_cmd, VERSION};
use crate::platforms::Platform;

pub fn tarball(root: &Path, release: &Path, stage: &Path, out: &Path, host: &Platform) -> Result<()> {
    let name = format!("dbconsultant-{VERSION}-{}", host.rust_target);
    let dir = stage.join(&name);
    let exe = if host.npm_os == "win32" { "dbconsultant.exe" } else { "dbconsultant" };
    copy(&release.join(exe), &dir.join(exe))?;
    for doc in ["README.md", "LICENSE", "CHANGELOG.md"] {
        copy(&root.join(doc), &dir.join(doc))?;
    }
    completions(&dir.join("completions"))?;
    let man = dir.join("man/man1");
    std::fs::create_dir_all(&man)?;
    clap_mangen::generate_to(dbconsultant_cli::args::Cli::command(), &man).context("writing man pages")?;
    run_cmd(
        Command::new("tar")
            .current_dir(stage)
            .args(["--owner=0", "--group=0", "--numeric-owner", "-czf"])
            .arg(out.join(format!("{name}.tar.gz")))
            .arg(&name),
    )
}

/// Completion scripts under the names each shell looks for.
fn completions(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for (shell, file) in [(Shell::Bash, "dbconsultant.bash"), (Shell::Zsh, "_dbconsultant"), (Shell::Fish, "dbconsultant.fish")] {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut dbconsultant_cli::args::Cli::command(), "dbconsultant", &mut text);
        std::fs::write(dir.join(file), text)?;
    }
    Ok(())
}
