'use strict';
// The Node used-by line through the CommonJS entry point, from the installed npm tarballs
// (tests/install/run.sh). Usage: node used_by.cjs VERSION SHOP_DB MIGRATIONS_DIR
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DatabaseConsultant, version } = require('dbconsultant');

const [expected, shopDb, migrations] = process.argv.slice(2);

(async () => {
  assert.equal(version(), expected);
  assert.match(require.resolve('dbconsultant'), /node_modules[\\/]dbconsultant[\\/]index\.js$/);
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'dbc-cjs-'));
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(store, 'runs.db') });
  const run = await dbConsultant.validateSchema({
    databaseUrl: `sqlite://${shopDb}`,
    migrationScript: path.join(migrations, '002_unique_customer_email.sql'),
  });
  const report = await dbConsultant.getReport(run.testRunId);
  assert.equal(report.testRunId, run.testRunId);
  assert.equal(report.status, 'failed');
  assert.ok(report.findings.some((f) => f.rule === 'migration-fails'));
  console.log(`node (CommonJS): dbconsultant ${version()}: getReport -> ${report.status}`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
