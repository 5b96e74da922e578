'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const sdk = require('..');
const { DatabaseConsultant } = sdk;
const { MIGRATIONS, tempDir, sqliteShop } = require('./helpers');

test('errors carry a code and the CLI message', async () => {
  const dir = tempDir();
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(dir, 'store.db') });
  const url = sqliteShop(dir);
  await assert.rejects(dbConsultant.validateSchema({ databaseUrl: url, migrationScript: path.join(dir, 'missing.sql') }),
    (e) => e instanceof sdk.InvalidInputError && e instanceof sdk.DatabaseConsultantError && e.code === 'INVALID_INPUT' && /cannot read migration/.test(e.message));
  await assert.rejects(dbConsultant.getReport('nope'), (e) => e.code === 'NOT_FOUND');
  await assert.rejects(dbConsultant.validateSchema({ databaseUrl: 'postgres://admin:hunter2@127.0.0.1:1/db', migrationSql: 'SELECT 1;' }),
    (e) => e.code === 'CONNECTION' && !e.message.includes('hunter2') && e.message.includes(':***@'));
  await assert.rejects(dbConsultant.lintSchema({ migrationSql: 'SELECT 1;', dialect: 'oracle' }), (e) => e.code === 'INVALID_INPUT' && /unknown dialect 'oracle'/.test(e.message));
});

test('wrong types and missing fields are TypeErrors naming the field', async () => {
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
  await assert.rejects(dbConsultant.validateSchema({ databaseUrl: 42, migrationSql: 'SELECT 1;' }), (e) => e instanceof TypeError && /'databaseUrl' must be string/.test(e.message));
  await assert.rejects(dbConsultant.validateSchema({ migrationSql: 'SELECT 1;' }), (e) => e instanceof TypeError && /'databaseUrl' is required/.test(e.message));
  await assert.rejects(dbConsultant.validateSchema({ databaseUrl: 'sqlite://x.db', migrationSQL: 'SELECT 1;' }), (e) => e instanceof TypeError && /unknown option 'migrationSQL'/.test(e.message));
  await assert.rejects(dbConsultant.approveTestRun('id', {}), (e) => e instanceof TypeError && /'approver' is required/.test(e.message));
});

test('a Rust panic rejects the promise and the process lives on', async () => {
  const native = require('../dbconsultant.node');
  const inner = await native.NativeConsultant.open(path.join(tempDir(), 'store.db'));
  await assert.rejects(inner.call('__panic_for_tests', '{}'), (e) => /deliberate panic/.test(e.message));
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
  assert.equal((await dbConsultant.lintSchema({ migrationSql: 'SELECT 1;' })).status, 'passed');
});

test('the event loop keeps running during validations', async () => {
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
  const url = sqliteShop();
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 1);
  const started = Date.now();
  for (let i = 0; i < 10; i += 1) {
    await dbConsultant.validateSchema({ databaseUrl: url, migrationScript: path.join(MIGRATIONS, '004_orders_foreign_key.sql') });
  }
  clearInterval(timer);
  const elapsed = Date.now() - started;
  assert.ok(ticks > elapsed * 0.2, `timer fired ${ticks} times in ${elapsed} ms`);
});

test('100 concurrent validateSchema calls all finish correctly', async () => {
  const dir = tempDir();
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(dir, 'store.db') });
  const url = sqliteShop(dir);
  const runs = await Promise.all(Array.from({ length: 100 }, (_, i) => dbConsultant.validateSchema({
    databaseUrl: url,
    migrationScript: path.join(MIGRATIONS, i % 2 ? '002_unique_customer_email.sql' : '001_index_order_status.sql'),
  })));
  runs.forEach((run, i) => assert.equal(run.status, i % 2 ? 'failed' : 'passed'));
  assert.equal(new Set(runs.map((r) => r.testRunId)).size, 100);
  assert.equal((await dbConsultant.listTestRuns({ limit: 500 })).length, 100);
});

test('index.d.ts declares every method and error class the package exports', () => {
  const fs = require('node:fs');
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8');
  const proto = DatabaseConsultant.prototype;
  const methods = Object.getOwnPropertyNames(proto).filter((m) => m !== 'constructor' && !m.startsWith('_') && typeof Object.getOwnPropertyDescriptor(proto, m).value === 'function');
  assert.match(dts, /readonly store: string;/);
  for (const m of [...methods, 'open']) assert.match(dts, new RegExp(`\\b${m}\\(`), `index.d.ts lacks ${m}`);
  for (const [name, value] of Object.entries(sdk)) {
    const kind = /^[A-Z]/.test(name) ? 'class' : 'function';
    assert.equal(typeof value, 'function');
    assert.match(dts, new RegExp(`${kind} ${name}\\b`), `index.d.ts lacks ${kind} ${name}`);
  }
});
