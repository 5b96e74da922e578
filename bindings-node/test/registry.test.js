'use strict';
// The SDK against the operation registry of the native core it loads: every operation (and
// alias) is a method, every field an option with the same wire name and requiredness, every
// error kind an error class, and index.d.ts declares them. Fails when operations.js or
// index.d.ts are stale (run `cargo xtask codegen`) or the addon is older than the sources.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const sdk = require('..');
const { OPERATIONS } = require('../operations');

const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const pascal = (s) => camel(s).replace(/^./, (c) => c.toUpperCase());
const registry = sdk.registry();
const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8');

function requestSchema(op) {
  const name = op.request.$ref.split('/').pop();
  return registry.$defs[name];
}

test('every operation of the registry is a method, with its aliases', () => {
  assert.ok(registry.operations.length >= 16);
  const proto = sdk.DatabaseConsultant.prototype;
  for (const op of registry.operations) {
    const names = [camel(op.name), ...op.aliases.filter((a) => a.lang === 'node').map((a) => a.name)];
    for (const name of names) {
      assert.equal(typeof proto[name], 'function', `DatabaseConsultant lacks ${name}`);
      assert.match(dts, new RegExp(`\\n  ${name}\\(`), `index.d.ts lacks ${name}`);
    }
  }
  const known = new Set(registry.operations.map((op) => camel(op.name)));
  for (const spec of OPERATIONS) assert.ok(known.has(spec.method), `operations.js has ${spec.method}, which the core does not know`);
});

test('every request field is an option with the wire name and requiredness of the schema', () => {
  for (const op of registry.operations) {
    const spec = OPERATIONS.find((s) => s.op === op.name);
    assert.ok(spec, `operations.js lacks ${op.name}`);
    const schema = requestSchema(op);
    const required = new Set(schema.required || []);
    const wire = Object.values(spec.fields).map((f) => f.wire).sort();
    assert.deepEqual(wire, Object.keys(schema.properties).sort(), `${op.name}: fields differ from the core's`);
    for (const [name, field] of Object.entries(spec.fields)) {
      assert.equal(name, camel(field.wire));
      assert.equal(field.required, required.has(field.wire), `${op.name}.${name}: requiredness differs`);
    }
    const options = Object.keys(spec.fields).filter((f) => !spec.positional.includes(f));
    if (options.length) {
      const block = dts.split(`export interface ${pascal(op.name)}Options {`)[1].split('\n}')[0];
      for (const name of options) assert.match(block, new RegExp(`\\n  ${name}\\??:`), `index.d.ts ${pascal(op.name)}Options lacks ${name}`);
    }
  }
});

test('every error kind has an error class with its code', () => {
  for (const kind of registry.error_kinds) {
    const cls = sdk[`${pascal(kind)}Error`];
    assert.equal(typeof cls, 'function', `no error class for ${kind}`);
    const e = new cls('x', kind);
    assert.ok(e instanceof sdk.DatabaseConsultantError);
    assert.equal(e.code, kind.toUpperCase());
  }
});
