'use strict';
// Inspection (the MCP server's read tools as SDK calls) on SQLite, PostgreSQL and MariaDB.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { DatabaseConsultant, InvalidInputError, NotFoundError } = require('..');
const { tempDir, sqliteShop, serverShop } = require('./helpers');

for (const dialect of ['sqlite', 'postgres', 'mysql']) {
  test(`inspect the shop on ${dialect}`, async (t) => {
    const databaseUrl = dialect === 'sqlite' ? sqliteShop() : serverShop(t, dialect);
    if (!databaseUrl) return;
    const dbConsultant = await DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
    const schemas = await dbConsultant.listSchemas({ databaseUrl });
    const home = { sqlite: 'main', postgres: 'public' }[dialect] ?? new URL(databaseUrl).pathname.slice(1);
    assert.deepEqual(schemas.find((s) => s.name === home), { name: home, tables: 5, views: 1 });
    const tables = await dbConsultant.listTables({ databaseUrl });
    assert.deepEqual(tables.find((x) => x.name === 'paid_orders').kind, 'view');
    const orders = await dbConsultant.describeTable({ databaseUrl, table: 'orders' });
    assert.deepEqual(orders.primaryKey, ['id']);
    assert.ok(orders.referencedBy.includes('order_items(order_id)'));
    assert.equal(orders.columns[1].name, 'customer_id');
    assert.equal(typeof orders.columns[1].dataType, 'string');
    await assert.rejects(dbConsultant.describeTable({ databaseUrl, table: 'ordrs' }), NotFoundError);

    const capped = await dbConsultant.runQuery({ databaseUrl, sql: 'SELECT id AS order_id FROM orders ORDER BY id', maxRows: 4 });
    assert.deepEqual(capped.rows, [{ order_id: 1 }, { order_id: 2 }, { order_id: 3 }, { order_id: 4 }], 'rows keep column names');
    assert.equal(capped.truncated, true);
    const all = await dbConsultant.runQuery({ databaseUrl, sql: 'SELECT id FROM orders', maxRows: 5 });
    assert.equal(all.truncated, false);
    const customers = await dbConsultant.runQuery({ databaseUrl, sql: 'SELECT email, full_name FROM customers ORDER BY id' });
    assert.deepEqual(customers.maskedColumns, ['email']);
    assert.equal(customers.rows[0].full_name, 'Ada Lovelace');
    await assert.rejects(dbConsultant.runQuery({ databaseUrl, sql: 'COMMIT; DROP TABLE customers' }), (e) => e instanceof InvalidInputError && /refused/.test(e.message));

    const plan = await dbConsultant.explainQuery({ databaseUrl, sql: 'SELECT * FROM orders WHERE customer_id = 3' });
    assert.equal(typeof plan.root.node_type, 'string');
    await dbConsultant.explainQuery({ databaseUrl, sql: 'DELETE FROM orders' });
    assert.deepEqual((await dbConsultant.runQuery({ databaseUrl, sql: 'SELECT count(*) AS n FROM orders' })).rows, [{ n: 5 }]);
  });
}

test('auditLog lists run events newest first', async () => {
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
  const run = await dbConsultant.validateSchema({ databaseUrl: sqliteShop(), migrationSql: 'CREATE INDEX ix ON orders (status);', requireHumanApproval: true });
  await dbConsultant.approveTestRun(run.testRunId, { approver: 'alice' });
  const log = await dbConsultant.auditLog();
  assert.deepEqual(log.slice(0, 2).map((e) => [e.event, e.actor]), [['approved', 'alice'], ['created', 'dbconsultant']]);
  assert.equal((await dbConsultant.auditLog({ event: 'created', limit: 5 })).length, 1);
  await assert.rejects(dbConsultant.auditLog({ evnt: 'x' }), TypeError);
});

const TLS_IN_USE = {
  postgres: 'SELECT ssl AS tls FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
  mysql: "SELECT VARIABLE_VALUE <> '' AS tls FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'",
};

for (const dialect of ['postgres', 'mysql']) {
  test(`a password apart from the URL on ${dialect} (once over verify-full), never stored`, async (t) => {
    const shop = serverShop(t, dialect);
    if (!shop) return;
    const url = new URL(shop);
    const databasePassword = decodeURIComponent(url.password);
    url.password = '';
    const databaseUrl = url.toString();
    const storePath = path.join(tempDir(), 'store.db');
    const dbConsultant = await DatabaseConsultant.open({ store: storePath });
    const tables = await dbConsultant.listTables({ databaseUrl, databasePassword });
    assert.ok(tables.some((x) => x.name === 'orders'));
    const run = await dbConsultant.checkIntegrity({ databaseUrl, databasePassword, tables: ['orders'] });
    assert.ok(!JSON.stringify(await dbConsultant.getTestRun(run.testRunId)).includes(databasePassword));
    assert.ok(!require('node:fs').readFileSync(storePath).includes(databasePassword), 'the store holds the password');
    // Once over verify-full: the test CA, and the host name its certificate lists.
    const verified = new URL(databaseUrl);
    verified.hostname = 'localhost';
    verified.search = `?sslmode=verify-full&sslrootcert=${path.join(process.env.DBCONSULTANT_TEST_TLS_DIR, 'ca.crt')}`;
    const tls = await dbConsultant.runQuery({ databaseUrl: verified.toString(), databasePassword, sql: TLS_IN_USE[dialect] });
    assert.ok(tls.rows[0].tls, 'not encrypted');
    await assert.rejects(
      dbConsultant.listTables({ databaseUrl: shop, databasePassword: `not-${databasePassword}` }),
      (e) => e instanceof InvalidInputError && /two passwords/.test(e.message) && !e.message.includes(databasePassword),
    );
  });
}
