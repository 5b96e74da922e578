// Builds the addon with cargo (no prebuilt download) and copies it to dbconsultant.node —
// all `napi build` would do on Linux for this package.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const profile = process.env.DBCONSULTANT_NODE_PROFILE || 'release';
// Release: the same packages as `cargo xtask dist` and the Java build, so the shared
// dependencies resolve to one feature set and build once for all three.
const args = profile === 'release'
  ? ['build', '--release', '--locked', '-p', 'dbconsultant-cli', '-p', 'dbconsultant-node', '-p', 'dbconsultant-java']
  : ['build', '--locked', '-p', 'dbconsultant-node'];
execFileSync('cargo', args, { cwd: root, stdio: 'inherit' });
const dir = profile === 'release' ? 'release' : 'debug';
const lib = { linux: 'libdbconsultant_node.so', darwin: 'libdbconsultant_node.dylib', win32: 'dbconsultant_node.dll' }[process.platform];
fs.copyFileSync(path.join(root, 'target', dir, lib), path.join(__dirname, '..', 'dbconsultant.node'));
console.log(`built dbconsultant.node (${profile})`);
