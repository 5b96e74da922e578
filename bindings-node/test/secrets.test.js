'use strict';
// No credential comes back through runQuery from the Node SDK, with a privileged login:
// credentials catalogs are refused, also behind views; a password hash copied into an
// ordinary table is masked by its value; tables declared secret are refused on SQLite too.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { DatabaseConsultant, InvalidInputError } = require('..');
const { tempDir, sqliteShop, serverShop } = require('./helpers');

function adminSql(url, sql) {
  if (url.startsWith('postgres')) return execFileSync('psql', [url, '-qtAc', sql], { encoding: 'utf8' }).trim();
  const u = new URL(url);
  const args = ['--no-defaults', '-N', '-B', '-h', u.hostname, '-P', u.port, '-u', decodeURIComponent(u.username), `-p${decodeURIComponent(u.password)}`, u.pathname.slice(1)];
  return execFileSync('mariadb', [...args, '-e', sql], { encoding: 'utf8' }).trim();
}

const CASES = {
  postgres: {
    setup: 'CREATE TABLE accounts AS SELECT rolname AS who, rolpassword AS x FROM pg_authid WHERE rolpassword IS NOT NULL; '
      + 'CREATE VIEW account_view AS SELECT rolname AS who, rolpassword AS x FROM pg_authid; CREATE VIEW nested_view AS SELECT who FROM account_view',
    hashes: 'SELECT rolpassword FROM pg_authid WHERE rolpassword IS NOT NULL',
    refused: [
      'SELECT rolname, rolpassword FROM pg_authid',
      "SELECT string_agg(rolname || ':' || rolpassword, ',') FROM pg_catalog.pg_authid",
      'SELECT (SELECT passwd FROM pg_shadow LIMIT 1) AS p',
      'SELECT who, x FROM account_view',
      'SELECT count(*) AS n FROM nested_view',
    ],
    masked: ['SELECT who, x FROM accounts', "SELECT who || ':' || x AS line FROM accounts", 'SELECT json_agg(x) AS arr FROM accounts'],
  },
  mysql: {
    setup: "CREATE TABLE accounts AS SELECT User AS who, authentication_string AS x FROM mysql.user WHERE authentication_string LIKE '*%'; "
      + 'CREATE VIEW account_view AS SELECT User AS who, authentication_string AS x FROM mysql.user; CREATE VIEW nested_view AS SELECT who FROM account_view',
    hashes: "SELECT authentication_string FROM mysql.user WHERE authentication_string LIKE '*%'",
    refused: [
      'SELECT User, authentication_string FROM mysql.user',
      "SELECT CONCAT(User, ':', authentication_string) AS x FROM `mysql`.`user`",
      'SELECT Priv FROM mysql.global_priv',
      'SELECT who, x FROM account_view',
      'SELECT COUNT(*) AS n FROM nested_view',
    ],
    masked: ['SELECT who, x FROM accounts', "SELECT CONCAT(who, ':', x) AS line FROM accounts", 'SELECT JSON_ARRAYAGG(x) AS arr FROM accounts'],
  },
};

for (const [dialect, c] of Object.entries(CASES)) {
  test(`credentials never come back through runQuery on ${dialect}`, async (t) => {
    const databaseUrl = serverShop(t, dialect);
    if (!databaseUrl) return;
    adminSql(databaseUrl, c.setup);
    const hashes = adminSql(databaseUrl, c.hashes).split(/\s+/).filter(Boolean);
    assert.ok(hashes.length > 0, 'the test server has password hashes');
    const dbConsultant = await DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
    for (const sql of c.refused) {
      await assert.rejects(dbConsultant.runQuery({ databaseUrl, sql }), (e) => e instanceof InvalidInputError && /holds credentials/.test(e.message), sql);
    }
    for (const sql of c.masked) {
      const text = JSON.stringify((await dbConsultant.runQuery({ databaseUrl, sql })).rows);
      assert.ok(text.includes('<masked'), `${sql}: ${text}`);
      for (const hash of hashes) assert.ok(!text.includes(hash), `${sql} leaked a hash`);
    }
  });
}

test('tables declared secret are refused, also through a view', async () => {
  const databaseUrl = sqliteShop();
  const file = databaseUrl.slice('sqlite://'.length);
  execFileSync('python3', ['-c', `import sqlite3; sqlite3.connect(${JSON.stringify(file)}).executescript("CREATE TABLE api_tokens (id INTEGER, token TEXT); INSERT INTO api_tokens VALUES (1, 'tok_1'); CREATE VIEW tokens_view AS SELECT token FROM api_tokens;")`]);
  const dbConsultant = await DatabaseConsultant.open({ store: path.join(tempDir(), 'store.db') });
  const config = { masking: { secret_tables: ['api_tokens'] } };
  for (const sql of ['SELECT token FROM api_tokens', 'SELECT * FROM tokens_view']) {
    await assert.rejects(dbConsultant.runQuery({ databaseUrl, sql, config }), (e) => e instanceof InvalidInputError && /declared secret/.test(e.message), sql);
  }
  assert.equal((await dbConsultant.runQuery({ databaseUrl, sql: 'SELECT count(*) AS n FROM orders', config })).rows[0].n, 5);
  assert.equal((await dbConsultant.runQuery({ databaseUrl, sql: 'SELECT * FROM tokens_view' })).rows.length, 1, 'undeclared, it answers');
});
