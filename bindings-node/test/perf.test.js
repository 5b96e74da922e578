'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { DatabaseConsultant, InvalidInputError } = require('..');
const { tempDir } = require('./helpers');

function eventsDb() {
  const db = path.join(tempDir(), 'events.db');
  execFileSync('python3', ['-c', `import sqlite3,sys
db = sqlite3.connect(sys.argv[1])
db.executescript("CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER, kind INTEGER); CREATE INDEX idx_events_kind ON events (kind);")
db.executemany("INSERT INTO events VALUES (?, ?, ?)", ((i, i % 2000, i % 5) for i in range(1, 30001)))
db.commit()`, db]);
  return `sqlite://${db}`;
}

test('profilePerformance recommends a verified index and keeps plans as they are', async () => {
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
  const run = await dbConsultant.profilePerformance({
    databaseUrl: eventsDb(), queries: ['SELECT * FROM events WHERE user_id = 7', 'SELECT * FROM events WHERE kind = 1 AND id = 3'], runs: 2,
  });
  assert.equal(run.kind, 'performance');
  const [scan, served] = run.performanceMetrics;
  assert.equal(scan.recommendation, 'CREATE INDEX "idx_events_user_id" ON "events" ("user_id")');
  assert.equal(scan.recommendations[0].verification.used, true);
  assert.equal(scan.recommendations[0].create_index, scan.recommendation, 'recommendation objects keep their keys');
  assert.equal(scan.plan.children[0].access, 'full_scan');
  assert.equal(scan.timing.runs, 2);
  assert.ok(served.indexUsed);
  assert.equal(served.recommendation, null);
  assert.deepEqual(await dbConsultant.getReport(run.testRunId), run);
  await assert.rejects(dbConsultant.profilePerformance({ databaseUrl: eventsDb() }), (e) => e instanceof InvalidInputError && /give queries/.test(e.message));
  await assert.rejects(dbConsultant.profilePerformance({ databaseUrl: 'x', queries: 'SELECT 1' }), TypeError);
});
