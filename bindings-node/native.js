'use strict';
// Finds the native addon. In a checkout, `npm run build` leaves dbconsultant.node next to this
// file; an installed package has none and takes it from the platform package npm installed
// as an optional dependency (napi-rs's layout: dbconsultant-<platform>, one per platform,
// each declaring its os/cpu/libc so npm installs only the matching one).

const fs = require('node:fs');
const path = require('node:path');

/** Every platform a package is prepared for (bindings-node/npm/<platform>/). */
const PLATFORMS = ['linux-x64-gnu', 'linux-arm64-gnu', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc'];

/** This process's platform in the packages' naming: linux-x64-gnu, darwin-arm64, ... */
function platformKey() {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform === 'win32') return `${base}-msvc`;
  if (process.platform !== 'linux') return base;
  // glibc reports its version here; musl does not.
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
  return `${base}-${glibc ? 'gnu' : 'musl'}`;
}

function load() {
  const local = path.join(__dirname, 'dbconsultant.node');
  if (fs.existsSync(local)) return require(local);
  const key = platformKey();
  const pkg = `dbconsultant-${key}`;
  try {
    return require(pkg);
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes(pkg)) throw e;
    const known = PLATFORMS.includes(key)
      ? `npm installs ${pkg} as an optional dependency of dbconsultant; reinstall without --omit=optional / --no-optional`
      : `no package is built for ${key}; packages exist for ${PLATFORMS.join(', ')}`;
    throw new Error(`dbconsultant: the native addon for ${key} is missing (${pkg}): ${known}`);
  }
}

module.exports = { PLATFORMS, platformKey, load };
