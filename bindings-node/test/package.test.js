'use strict';
// The package as npm installs it: the ES module entry exports what the CommonJS one does,
// version() is the package's version, and the loader knows every platform package the
// repository prepares (npm/<platform>/) and names them when the addon is missing.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const sdk = require('..');
const native = require('../native');
const pkg = require('../package.json');

const root = path.join(__dirname, '..');

test('version() is the package version', () => {
  assert.equal(sdk.version(), pkg.version);
});

test('the ES module entry exports exactly the CommonJS entry', async () => {
  const esm = await import(path.join(root, 'index.mjs'));
  const named = Object.keys(esm).filter((k) => k !== 'default').sort();
  assert.deepEqual(named, Object.keys(sdk).sort());
  for (const name of named) assert.equal(esm[name], sdk[name], name);
});

test('package.json exports both entry points and ships the files they load', () => {
  assert.equal(pkg.exports['.'].import, './index.mjs');
  assert.equal(pkg.exports['.'].require, './index.js');
  for (const file of ['index.js', 'index.mjs', 'index.d.ts', 'errors.js', 'operations.js', 'native.js']) {
    assert.ok(pkg.files.includes(file), file);
  }
  assert.ok(!pkg.files.includes('dbconsultant.node'), 'the addon comes from the platform package');
});

test('the loader lists every prepared platform package, with matching os/cpu', () => {
  const dirs = fs.readdirSync(path.join(root, 'npm')).sort();
  assert.deepEqual([...native.PLATFORMS].sort(), dirs);
  for (const dir of dirs) {
    const platform = require(path.join(root, 'npm', dir, 'package.json'));
    assert.equal(platform.name, `dbconsultant-${dir}`);
    assert.equal(platform.version, pkg.version);
    assert.equal(`${platform.os[0]}-${platform.cpu[0]}`, dir.split('-').slice(0, 2).join('-'));
  }
  assert.ok(native.PLATFORMS.includes(native.platformKey()), native.platformKey());
});

test('without an addon, loading names the missing platform package', () => {
  // A copy of the package's JavaScript with no dbconsultant.node and no platform package.
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'dbc-noaddon-'));
  for (const file of pkg.files) fs.copyFileSync(path.join(root, file), path.join(dir, file));
  const out = (() => {
    try {
      execFileSync(process.execPath, ['-e', `require(${JSON.stringify(dir)})`], { stdio: 'pipe' });
      return '';
    } catch (e) {
      return String(e.stderr);
    }
  })();
  fs.rmSync(dir, { recursive: true, force: true });
  const key = native.platformKey();
  assert.match(out, new RegExp(`the native addon for ${key} is missing \\(dbconsultant-${key}\\)`));
});
