//! The npm packages in napi-rs's layout: `dbconsultant` (JavaScript, ESM and CommonJS entry
//! points, `.d.ts`) with an optional dependency on `dbconsultant-<platform>` for every
//! platform, each of which holds one `.node` and declares its os/cpu/libc, so npm installs
//! only the one that fits and no install needs Rust.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::Value;

use super::{cdylib, copy, run_cmd, VERSION};
use crate::platforms::{npm_package_json, Platform, PLATFORMS};

pub fn packages(root: &Path, release: &Path, stage: &Path, out: &Path, host: &Platform) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let source = root.join("bindings-node");

    let main = stage.join("npm/dbconsultant");
    let mut manifest: Value = serde_json::from_str(&std::fs::read_to_string(source.join("package.json"))?)?;
    let files: Vec<String> = manifest["files"]
        .as_array()
        .context("package.json has no files list")?
        .iter()
        .filter_map(|f| f.as_str().map(String::from))
        .collect();
    for file in &files {
        copy(&source.join(file), &main.join(file))?;
    }
    copy(&root.join("LICENSE"), &main.join("LICENSE"))?;
    copy(&root.join("README.md"), &main.join("README.md"))?;
    let object = manifest.as_object_mut().context("package.json is not an object")?;
    object.remove("scripts");
    object.remove("devDependencies");
    object.insert(
        "optionalDependencies".into(),
        PLATFORMS.iter().map(|p| (p.npm_package(), Value::from(VERSION))).collect::<serde_json::Map<_, _>>().into(),
    );
    write_json(&main.join("package.json"), &manifest)?;
    pack(&main, out)?;

    let platform = stage.join("npm").join(host.npm_package());
    std::fs::create_dir_all(&platform)?;
    std::fs::write(platform.join("package.json"), npm_package_json(host, VERSION))?;
    copy(&cdylib(release, host, "dbconsultant_node"), &platform.join(host.node_file()))?;
    copy(&root.join("LICENSE"), &platform.join("LICENSE"))?;
    pack(&platform, out)
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    Ok(std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")?)
}

fn pack(dir: &Path, out: &Path) -> Result<()> {
    run_cmd(Command::new("npm").current_dir(dir).args(["pack", "--silent", "--pack-destination"]).arg(out))
}
