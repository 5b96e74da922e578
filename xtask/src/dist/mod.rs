//! `cargo xtask dist [--out DIR]`: every release artifact for this platform, one version (the
//! workspace's), into `dist/`:
//!
//! - `dbconsultant-<v>-<target>.tar.gz`: the CLI with README, licence, changelog, shell
//!   completions and man pages (cli.rs);
//! - `python/`: an abi3 wheel (maturin) and the sdist;
//! - `npm/`: the main package and this platform's addon package (npm.rs);
//! - `java/`: the jar (natives under `native/<os>-<arch>/`), its pom, sources and javadoc jars;
//! - `crates/`: the core crate as `cargo publish --dry-run` packages and verifies it;
//! - `SHA256SUMS` and a size table.

mod cli;
mod npm;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::platforms::{self, Platform};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The release build of the native parts; keep equal to the one in
/// bindings-node/scripts/build.js and bindings-java/scripts/native.sh.
const RELEASE_BUILD: &[&str] =
    &["build", "--release", "--locked", "-p", "dbconsultant-cli", "-p", "dbconsultant-node", "-p", "dbconsultant-java"];

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let out = match args.iter().position(|a| a == "--out") {
        Some(i) => PathBuf::from(args.get(i + 1).context("--out needs a directory")?),
        None => root.join("dist"),
    };
    let out = if out.is_absolute() { out } else { root.join(out) };
    let host = platforms::host().context("this platform has no entry in xtask/src/platforms.rs")?;
    let stale = crate::version_pins(root);
    if !stale.is_empty() {
        bail!("these files pin another version than the workspace's {VERSION}: {stale:?}");
    }
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
    }
    std::fs::create_dir_all(&out)?;
    let stage = root.join("target/dist-stage");
    if stage.exists() {
        std::fs::remove_dir_all(&stage)?;
    }
    std::fs::create_dir_all(&stage)?;

    // One cargo invocation for the CLI and the Node and Java libraries: their shared
    // dependencies resolve to one feature set and build once. The Node and Java builds
    // (bindings-node/scripts/build.js, bindings-java/scripts/native.sh) run the same
    // invocation, so after this one they are no-ops.
    step("cargo build --release: CLI, Node addon, Java JNI library");
    run_cmd(Command::new(cargo()).current_dir(root).args(RELEASE_BUILD))?;
    let release = root.join("target/release");

    step("CLI tarball");
    cli::tarball(root, &release, &stage, &out, host)?;
    step("npm packages");
    npm::packages(root, &release, &stage, &out.join("npm"), host)?;
    step("Python wheel and sdist (maturin)");
    python(root, &out.join("python"))?;
    step("Java jar, pom, sources and javadoc (Maven)");
    java(root, &out.join("java"))?;
    step("core crate (cargo publish --dry-run)");
    crate_package(root, &out.join("crates"))?;
    step("checksums");
    let files = checksums(&out)?;
    println!("\n{:<60} {:>10}", "artifact", "size");
    for (name, size) in files {
        println!("{name:<60} {:>7.1} MB", size as f64 / 1e6);
    }
    Ok(())
}

fn step(what: &str) {
    eprintln!("\n--> {what}");
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

pub(crate) fn run_cmd(cmd: &mut Command) -> Result<()> {
    // `cargo xtask` runs this process with the variables cargo sets for a running package
    // (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, ...). Build scripts that watch them (ring's does)
    // would see another environment than a build started from a shell and rebuild
    // everything, each time the two alternate.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_MANIFEST_LINKS",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&&*name)
        {
            cmd.env_remove(&*name);
        }
    }
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

pub(crate) fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::copy(from, to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// maturin from $MATURIN, else from the PATH (`pip install maturin`).
fn python(root: &Path, out: &Path) -> Result<()> {
    let maturin = std::env::var("MATURIN").unwrap_or_else(|_| "maturin".into());
    let manifest = root.join("bindings-python/Cargo.toml");
    let target = root.join("target");
    // No --compatibility: maturin audits the library's symbols and tags the wheel with the
    // oldest manylinux policy they satisfy (and refuses the tag if they satisfy none).
    run_cmd(
        Command::new(&maturin)
            .env("CARGO_TARGET_DIR", &target)
            .args(["build", "--release", "--locked", "--strip", "--out"])
            .arg(out)
            .arg("--manifest-path")
            .arg(&manifest),
    )
    .context("building the wheel (is maturin installed? `pip install maturin`, or set MATURIN)")?;
    run_cmd(Command::new(&maturin).args(["sdist", "--out"]).arg(out).arg("--manifest-path").arg(&manifest))?;
    add_vendor_to_sdist(root, out)
}

/// maturin copies path dependencies into the sdist but not `[patch]` paths (and refuses
/// include patterns outside the package), so the workspace's patched sqlx-core is added
/// here; without it the sdist's Cargo.toml names a missing directory and does not build.
fn add_vendor_to_sdist(root: &Path, out: &Path) -> Result<()> {
    let name = format!("dbconsultant-{VERSION}");
    let sdist = out.join(format!("{name}.tar.gz"));
    let unpacked = root.join("target/dist-stage/sdist");
    if unpacked.exists() {
        std::fs::remove_dir_all(&unpacked)?;
    }
    std::fs::create_dir_all(&unpacked)?;
    run_cmd(Command::new("tar").arg("-xzf").arg(&sdist).arg("-C").arg(&unpacked))?;
    run_cmd(Command::new("cp").arg("-R").arg(root.join("vendor")).arg(unpacked.join(&name)))?;
    run_cmd(
        Command::new("tar")
            .current_dir(&unpacked)
            .args(["--owner=0", "--group=0", "--numeric-owner", "--exclude=target", "-czf"])
            .arg(&sdist)
            .arg(&name),
    )
}

fn java(root: &Path, out: &Path) -> Result<()> {
    let project = root.join("bindings-java");
    run_cmd(Command::new("mvn").current_dir(&project).args(["-B", "-q", "-ntp", "-DskipTests", "package"]))?;
    for suffix in ["", "-sources", "-javadoc"] {
        let name = format!("dbconsultant-{VERSION}{suffix}.jar");
        copy(&project.join("target").join(&name), &out.join(&name))?;
    }
    copy(&project.join("pom.xml"), &out.join(format!("dbconsultant-{VERSION}.pom")))
}

fn crate_package(root: &Path, out: &Path) -> Result<()> {
    run_cmd(Command::new(cargo()).current_dir(root).args(["publish", "--dry-run", "--locked", "--allow-dirty", "-p", "dbconsultant"]))?;
    let name = format!("dbconsultant-{VERSION}.crate");
    // A dry run leaves the package in tmp-crate/ (cargo package: directly in target/package/).
    let packaged = ["target/package/tmp-crate", "target/package"].iter().map(|dir| root.join(dir).join(&name)).find(|p| p.is_file());
    copy(&packaged.context("cargo publish --dry-run left no .crate under target/package")?, &out.join(&name))
}

/// Writes SHA256SUMS (sha256sum's format) and returns every artifact with its size.
fn checksums(out: &Path) -> Result<Vec<(String, u64)>> {
    let mut files = Vec::new();
    collect(out, out, &mut files)?;
    files.sort();
    let mut sums = String::new();
    let mut sizes = Vec::new();
    for rel in files {
        let bytes = std::fs::read(out.join(&rel))?;
        let digest = sha256(&bytes);
        sums.push_str(&format!("{digest}  {rel}\n"));
        sizes.push((rel, bytes.len() as u64));
    }
    std::fs::write(out.join("SHA256SUMS"), sums)?;
    Ok(sizes)
}

fn collect(base: &Path, dir: &Path, files: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(base, &path, files)?;
        } else {
            files.push(path.strip_prefix(base)?.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The platform's addon or JNI library as cargo names it.
pub(crate) fn cdylib(release: &Path, host: &Platform, name: &str) -> PathBuf {
    release.join(host.cdylib(name))
}
