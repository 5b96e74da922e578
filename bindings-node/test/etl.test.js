'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { DatabaseConsultant, InvalidInputError } = require('..');
const { tempDir, sqliteShop, serverShop } = require('./helpers');

async function open() {
  return DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
}

/** A SQLite file built by Python's sqlite3 from SQL text. */
function sqlite(sql) {
  const db = path.join(tempDir(), 'etl.db');
  execFileSync('python3', ['-c', 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).executescript(sys.stdin.read())', db], { input: sql });
  return `sqlite://${db}`;
}

const rows = Array.from({ length: 1500 }, (_, i) => `(${i + 1}, 'n${i + 1}', ${i + 1}.25)`).join(', ');
const table = 'CREATE TABLE line_items (item_id INTEGER PRIMARY KEY, item_name TEXT, unit_price NUMERIC(10,2));';

test('validateEtl finds the missing, extra and changed rows, keys keep their column names', async () => {
  const source = sqlite(`${table} INSERT INTO line_items VALUES ${rows};`);
  const target = sqlite(`${table} INSERT INTO line_items VALUES ${rows}; DELETE FROM line_items WHERE item_id = 3;
    UPDATE line_items SET item_name = 'renamed' WHERE item_id = 700; INSERT INTO line_items VALUES (5000, 'x', 1);`);
  const dbConsultant = await open();
  const run = await dbConsultant.validateEtl({ sourceUrl: source, sourceTable: 'line_items', targetUrl: target, key: 'item_id', bisectionThreshold: 40 });
  assert.equal(run.kind, 'etl');
  assert.equal(run.status, 'failed');
  const [r] = run.etlResults;
  assert.deepEqual([r.sourceCount, r.targetCount], [1500, 1500]);
  assert.deepEqual(r.missingInTarget, [{ item_id: 3 }]);
  assert.deepEqual(r.extraInTarget, [{ item_id: 5000 }]);
  assert.deepEqual(r.changed, [{ key: { item_id: 700 }, columns: { item_name: { source: 'n700', target: 'renamed' } } }]);
  assert.deepEqual(r.changedColumns, { item_name: 1 });
  assert.deepEqual([r.missingCount, r.extraCount, r.changedCount], [1, 1, 1]);
  assert.deepEqual(await dbConsultant.getReport(run.testRunId), run);
});

for (const dialect of ['postgres', 'mysql']) {
  test(`validateEtl: the shop's orders on SQLite equal those on ${dialect}`, async (t) => {
    const server = serverShop(t, dialect);
    if (!server) return;
    const dbConsultant = await open();
    const run = await dbConsultant.validateEtl({ sourceUrl: sqliteShop(), sourceTable: 'orders', targetUrl: server, key: ['id'], aggregates: ['sum:total', 'count:*'] });
    assert.equal(run.status, 'passed', JSON.stringify(run.etlResults));
    assert.ok(run.etlResults[0].checksumMatch);
    assert.ok(run.etlResults[0].aggregates.every((a) => a.matches));
  });
}

test('validateEtl refuses bad options and bad input', async () => {
  const dbConsultant = await open();
  const url = sqlite(`${table} INSERT INTO line_items VALUES (1, 'a', 1);`);
  await assert.rejects(dbConsultant.validateEtl({ sourceUrl: url, sourceTable: 'line_items' }), /'targetUrl' is required/);
  await assert.rejects(dbConsultant.validateEtl({ sourceUrl: url, sourceTable: 'line_items', targetUrl: url, key: 'id', tolerance: 'x' }), TypeError);
  await assert.rejects(
    dbConsultant.validateEtl({ sourceUrl: url, sourceTable: 'line_items', targetUrl: url, key: 'item_id', jobs: 17 }),
    (e) => e instanceof InvalidInputError && /jobs must be between 1 and 16, got 17/.test(e.message),
  );
  await assert.rejects(
    dbConsultant.validateEtl({ sourceUrl: url, sourceTable: 'nope', targetUrl: url, key: 'item_id' }),
    (e) => e instanceof InvalidInputError && e.code === 'INVALID_INPUT' && /unknown source table 'nope'/.test(e.message),
  );
});

test('keysOut streams every differing key; ETL and integrity runs wait for (escalated) approval', async () => {
  const source = sqlite(`${table} INSERT INTO line_items VALUES ${rows};`);
  const target = sqlite(`${table} INSERT INTO line_items VALUES ${rows}; DELETE FROM line_items WHERE item_id IN (3, 4, 5);
    UPDATE line_items SET unit_price = 0 WHERE item_id = 700;`);
  const dbConsultant = await open();
  const keysOut = path.join(tempDir(), 'keys.jsonl');
  const run = await dbConsultant.validateEtl({ sourceUrl: source, sourceTable: 'line_items', targetUrl: target, keysOut, sampleLimit: 1 });
  const [r] = run.etlResults;
  assert.equal(r.missingInTarget.length, 1);
  assert.equal(r.missingCount, 3);
  assert.deepEqual(r.keysOut, { path: keysOut, lines: 4 });
  const lines = require('node:fs').readFileSync(keysOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.kind, l.key.item_id]).sort(), [['changed', 700], ['missing', 3], ['missing', 4], ['missing', 5]]);

  const held = await dbConsultant.validateEtl({ sourceUrl: source, sourceTable: 'line_items', targetUrl: source, requireHumanApproval: true });
  assert.equal(held.status, 'pending_approval');
  const escalated = await dbConsultant.escalateTestRun(held.testRunId, { approver: 'alice', to: 'data-governance', comment: 'PII' });
  assert.deepEqual([escalated.status, escalated.escalatedTo], ['escalated', 'data-governance']);
  const approved = await dbConsultant.approveTestRun(held.testRunId, { approver: 'bob' });
  assert.equal(approved.status, 'approved');
  assert.deepEqual((await dbConsultant.auditTrail(held.testRunId)).map((e) => e.event), ['created', 'escalated', 'approved']);
  const integrity = await dbConsultant.checkIntegrity({ databaseUrl: source, requireHumanApproval: true });
  assert.equal(integrity.status, 'pending_approval');
});
