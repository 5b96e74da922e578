// The Node used-by line through the ES module entry point (tests/install/run.sh).
// Usage: node used_by.mjs VERSION SHOP_DB MIGRATIONS_DIR
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseConsultant, NotFoundError, version } from 'dbconsultant';

const [expected, shopDb, migrations] = process.argv.slice(2);
assert.equal(version(), expected);
const store = fs.mkdtempSync(path.join(os.tmpdir(), 'dbc-esm-'));
const dbConsultant = await DatabaseConsultant.open({ store: path.join(store, 'runs.db') });
const run = await dbConsultant.validateSchema({
  databaseUrl: `sqlite://${shopDb}`,
  migrationScript: path.join(migrations, '001_index_order_status.sql'),
});
const report = await dbConsultant.getReport(run.testRunId);
assert.equal(report.status, 'passed');
await assert.rejects(dbConsultant.getReport('no-such-run'), (e) => e instanceof NotFoundError && e.code === 'NOT_FOUND');
console.log(`node (ESM): dbconsultant ${version()}: getReport -> ${report.status}`);
