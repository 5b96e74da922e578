'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { DatabaseConsultant, ApprovalStateError, InvalidInputError } = require('..');
const { MIGRATIONS, tempDir, sqliteShop, serverShop } = require('./helpers');

async function open() {
  return DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
}

for (const dialect of ['sqlite', 'postgres', 'mysql']) {
  test(`validateSchema on ${dialect}: safe passes, unsafe fails with masked rows`, async (t) => {
    const url = dialect === 'sqlite' ? sqliteShop() : serverShop(t, dialect);
    if (!url) return;
    const config = dialect === 'mysql' ? { sandbox: { allow_scratch_on_target: true } } : undefined;
    const dbConsultant = await open();
    const safe = await dbConsultant.validateSchema({ databaseUrl: url, migrationScript: path.join(MIGRATIONS, '001_index_order_status.sql'), config });
    assert.equal(safe.status, 'passed');
    assert.match(safe.summary, /^Index addition detected, no breaking change/);
    assert.equal(safe.schemaChanges[0].compatibilityStatus, 'compatible');
    const unsafe = await dbConsultant.validateSchema({ databaseUrl: url, migrationScript: path.join(MIGRATIONS, '002_unique_customer_email.sql'), config });
    assert.equal(unsafe.status, 'failed');
    const failure = unsafe.findings.find((f) => f.rule === 'migration-fails');
    assert.deepEqual(failure.sampleRecords.map((r) => r.id), [1, 4, 3, 7]);
    assert.ok(failure.sampleRecords.every((r) => r.email === '<masked>' && 'duplicate_group' in r), 'rows keep their column names');
    assert.deepEqual(await dbConsultant.getReport(unsafe.testRunId), unsafe);
    if (dialect === 'postgres') {
      // Never the target: a copy on a throwaway server of the target's version.
      assert.match(unsafe.sandbox, /throwaway PostgreSQL/);
      // Without server binaries, sandbox server or leave to use the target: a clear error.
      const noBinaries = { sandbox: { server_bindir: tempDir() } };
      await assert.rejects(
        dbConsultant.validateSchema({ databaseUrl: url, migrationScript: path.join(MIGRATIONS, '001_index_order_status.sql'), config: noBinaries }),
        (e) => e.code === 'SANDBOX' && /--sandbox-url/.test(e.message) && /--sandbox-on-target/.test(e.message),
      );
    }
  });
}

test('the result is the run document in camelCase', async () => {
  const dbConsultant = await open();
  const run = await dbConsultant.validateSchema({
    databaseUrl: sqliteShop(), migrationScript: [path.join(MIGRATIONS, '003_cleanup_legacy.sql')], environment: 'stage', triggerType: 'pr',
  });
  for (const key of ['testRunId', 'kind', 'environment', 'triggerType', 'status', 'riskScore', 'riskBreakdown', 'summary', 'createdAt',
    'approvedBy', 'findings', 'schemaChanges', 'integrityResults', 'etlResults', 'performanceMetrics']) {
    assert.ok(key in run, key);
  }
  assert.equal(run.environment, 'stage');
  assert.ok(run.findings.some((f) => f.rule === 'ban-drop-table' && f.line === 2));
});

test('lintSchema reports PostgreSQL lock hazards without a database', async () => {
  const dbConsultant = await open();
  const run = await dbConsultant.lintSchema({ migrationSql: 'CREATE INDEX ix ON users (email);' });
  assert.equal(run.findings[0].rule, 'require-concurrent-index-creation');
});

test('approval flow: approve once, then APPROVAL_STATE', async () => {
  const dbConsultant = await open();
  const run = await dbConsultant.validateSchema({ databaseUrl: sqliteShop(), migrationScript: path.join(MIGRATIONS, '001_index_order_status.sql'), requireHumanApproval: true });
  assert.equal(run.status, 'pending_approval');
  const listed = await dbConsultant.listTestRuns({ status: 'pending_approval' });
  assert.deepEqual(listed.map((r) => r.testRunId), [run.testRunId]);
  const approved = await dbConsultant.approveTestRun(run.testRunId, { approver: 'alice', comment: 'ok' });
  assert.equal(approved.approvedBy, 'alice');
  await assert.rejects(dbConsultant.rejectTestRun(run.testRunId, { approver: 'bob' }), (e) => e instanceof ApprovalStateError && e.code === 'APPROVAL_STATE' && /is approved by alice/.test(e.message));
  assert.deepEqual((await dbConsultant.auditTrail(run.testRunId)).map((e) => e.event), ['created', 'approved']);
});

test('checkIntegrity: jobs change how many queries run at once, not the answers', async () => {
  const dbConsultant = await open();
  const counts = (run) => JSON.stringify(run.integrityResults.map((r) => [r.tableName, r.constraint, r.failureCount, r.error ?? null]));
  const one = await dbConsultant.checkIntegrity({ databaseUrl: sqliteShop(), jobs: 1 });
  const four = await dbConsultant.checkIntegrity({ databaseUrl: sqliteShop(), jobs: 4 });
  assert.equal(counts(one), counts(four));
  assert.ok(one.integrityResults.length > 10);
  await assert.rejects(dbConsultant.checkIntegrity({ databaseUrl: sqliteShop(), jobs: 17 }), (e) => e instanceof InvalidInputError && /jobs must be between 1 and 16, got 17/.test(e.message));
});

test('validateIntegrity with rule objects', async () => {
  const dbConsultant = await open();
  const run = await dbConsultant.validateIntegrity({
    databaseUrl: sqliteShop(),
    rules: [{ table: 'orders', type: 'implied_fk', columns: ['customer_id'], references: 'customers', referenced_columns: ['id'] }],
  });
  const fk = run.integrityResults.find((r) => r.integrityType === 'fk' && r.tableName === 'orders');
  assert.equal(fk.failureCount, 2);
  assert.deepEqual(fk.sampleRecords.map((r) => r.customer_id), [42, 99]);
});
