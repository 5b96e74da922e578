'use strict';
// Test databases: the example shop on SQLite, PostgreSQL and MariaDB (servers from
// scripts/test.sh), each test with its own database and store.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const ROOT = path.resolve(__dirname, '..', '..');
const MIGRATIONS = path.join(ROOT, 'examples', 'migrations');

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dbc-node-'));
}

function sqliteShop(dir = tempDir()) {
  const db = path.join(dir, 'shop.db');
  execFileSync('python3', [path.join(ROOT, 'examples', 'make_shop_db.py'), db], { stdio: 'ignore' });
  return `sqlite://${db}`;
}

/** The admin URL of a test server; a test fails without it unless skipping was asked for. */
function serverUrl(t, variable) {
  const url = process.env[variable];
  if (url) return url;
  if (process.env.DBCONSULTANT_SKIP_SERVER_TESTS) {
    t.skip(`${variable} unset and DBCONSULTANT_SKIP_SERVER_TESTS set`);
    return null;
  }
  throw new Error(`${variable} is not set: run the tests through scripts/test.sh (or set DBCONSULTANT_SKIP_SERVER_TESTS=1 locally)`);
}

function serverShop(t, dialect) {
  const admin = serverUrl(t, dialect === 'postgres' ? 'DBCONSULTANT_TEST_POSTGRES_URL' : 'DBCONSULTANT_TEST_MYSQL_URL');
  if (!admin) return null;
  const name = `dbc_node_${crypto.randomBytes(5).toString('hex')}`;
  const u = new URL(admin);
  const sql = fs.readFileSync(path.join(ROOT, 'examples', dialect, 'shop.sql'), 'utf8');
  const target = new URL(admin);
  target.pathname = `/${name}`;
  if (dialect === 'postgres') {
    execFileSync('psql', [admin, '-qtAc', `CREATE DATABASE ${name}`]);
    execFileSync('psql', [target.toString(), '-q', '-v', 'ON_ERROR_STOP=1'], { input: sql });
  } else {
    const args = ['--no-defaults', '-h', u.hostname, '-P', u.port, '-u', decodeURIComponent(u.username), `-p${decodeURIComponent(u.password)}`];
    execFileSync('mariadb', [...args, '-e', `CREATE DATABASE ${name}`]);
    execFileSync('mariadb', [...args, name], { input: sql });
  }
  return target.toString();
}

module.exports = { ROOT, MIGRATIONS, tempDir, sqliteShop, serverShop };
