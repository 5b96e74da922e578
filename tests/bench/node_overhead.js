#!/usr/bin/env node
// What the Node binding adds to a call: the same validateSchema on the example database,
// N times through the Rust API in-process (core/examples/validate_loop.rs) and N times
// through the Node SDK, in one run; then 100 concurrent calls. Prints a Markdown table.
//   node tests/bench/node_overhead.js [N]     (after `npm run build` in bindings-node)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DatabaseConsultant } = require('../../bindings-node');

const ROOT = path.resolve(__dirname, '..', '..');
const n = Number(process.argv[2] || 30);
const migration = path.join(ROOT, 'examples', 'migrations', '002_unique_customer_email.sql');

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbc-bench-'));
  const db = path.join(dir, 'shop.db');
  execFileSync('python3', [path.join(ROOT, 'examples', 'make_shop_db.py'), db], { stdio: 'ignore' });
  const url = `sqlite://${db}`;
  execFileSync('cargo', ['build', '-q', '--release', '-p', 'dbconsultant', '--example', 'validate_loop'], { cwd: ROOT, stdio: 'inherit' });
  const rust = Number(execFileSync(path.join(ROOT, 'target', 'release', 'examples', 'validate_loop'), [url, migration, String(n), path.join(dir, 'rust.db')]).toString());
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(dir, 'node.db') });
  await dbConsultant.validateSchema({ databaseUrl: url, migrationScript: migration });
  const times = [];
  for (let i = 0; i < n; i += 1) {
    const start = process.hrtime.bigint();
    await dbConsultant.validateSchema({ databaseUrl: url, migrationScript: migration });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const node = times[Math.floor(n / 2)];
  const start = process.hrtime.bigint();
  const runs = await Promise.all(Array.from({ length: 100 }, () => dbConsultant.validateSchema({ databaseUrl: url, migrationScript: migration })));
  const concurrent = Number(process.hrtime.bigint() - start) / 1e6;
  const ok = runs.every((r) => r.status === 'failed');
  console.log(`| validateSchema, example 002 on shop.db | median ms (${n} calls) |`);
  console.log('|---|---:|');
  console.log(`| Rust API (in-process) | ${rust.toFixed(2)} |`);
  console.log(`| Node SDK | ${node.toFixed(2)} |`);
  console.log(`\nbinding overhead: ${(node - rust >= 0 ? '+' : '')}${(node - rust).toFixed(2)} ms per call (${((node - rust) / rust * 100).toFixed(1)}%); target < 2 ms or < 5%`);
  console.log(`100 concurrent validateSchema calls: ${concurrent.toFixed(0)} ms in all, ${ok ? 'all 100 correct' : 'SOME WRONG'}`);
  fs.rmSync(dir, { recursive: true, force: true });
})();
