// Builds the addon with cargo (no prebuilt download) and copies it to dbconsultant.node —
// all `napi build` would do on Linux for this package.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const profile = process.env.DBCONSULTANT_NODE_PROFILE || 'release';
const args = ['build', '--locked', '-p', 'dbconsultant-node'];
if (profile === 'release') args.push('--release');
execFileSync('cargo', args, { cwd: root, stdio: 'inherit' });
const dir = profile === 'release' ? 'release' : 'debug';
const lib = { linux: 'libdbconsultant_node.so', darwin: 'libdbconsultant_node.dylib', win32: 'dbconsultant_node.dll' }[process.platform];
fs.copyFileSync(path.join(root, 'target', dir, lib), path.join(__dirname, '..', 'dbconsultant.node'));
console.log(`built dbconsultant.node (${profile})`);
