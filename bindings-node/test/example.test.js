'use strict';
// Runs examples/node/service.js for real: validate through HTTP, then read the report.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { createServer } = require('../../examples/node/service.js');
const { MIGRATIONS, tempDir, sqliteShop } = require('./helpers');

test('the example service validates a migration and serves the report', async () => {
  const dir = tempDir();
  const server = await createServer({ store: path.join(dir, 'store.db') });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const response = await fetch(`${base}/validate`, {
      method: 'POST',
      body: JSON.stringify({ databaseUrl: sqliteShop(dir), migrationScript: path.join(MIGRATIONS, '002_unique_customer_email.sql') }),
    });
    assert.equal(response.status, 200);
    const run = await response.json();
    assert.equal(run.status, 'failed');
    const report = await (await fetch(`${base}/runs/${run.testRunId}`)).json();
    assert.equal(report.testRunId, run.testRunId);
    assert.ok(report.findings.some((f) => f.rule === 'migration-fails'));
    const missing = await fetch(`${base}/validate`, { method: 'POST', body: JSON.stringify({ databaseUrl: 'sqlite:///nope/none.db', migrationSql: 'SELECT 1;' }) });
    assert.equal(missing.status, 502);
    assert.equal((await missing.json()).code, 'CONNECTION');
  } finally {
    server.close();
  }
});
