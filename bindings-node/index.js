'use strict';
// dbconsultant for Node: option objects in, camelCase run documents out. Every method is built
// from the operation registry (operations.js, generated) and returns a Promise; the work runs
// off the JS thread in the Rust core.

const errors = require('./errors');
const { OPERATIONS, DATA_KEYS } = require('./operations');

const native = require('./native').load();

const dataKeys = new Set(DATA_KEYS);

/** snake_case keys → camelCase, except inside data (rows, plans, maps keyed by column names). */
function camel(value, key) {
  if (Array.isArray(value)) return value.map((v) => camel(v, key));
  if (value === null || typeof value !== 'object' || dataKeys.has(key)) return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    const ck = k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    out[ck] = camel(v, ck);
  }
  return out;
}

function kindOf(value) {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const ACCEPTS = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  object: isObject,
  array: Array.isArray,
  'string[]': (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  'object[]': (v) => Array.isArray(v) && v.every(isObject),
  any: () => true,
};

function check(method, name, value, field) {
  if (value === undefined || value === null) {
    if (field.required) throw new TypeError(`${method}: '${name}' is required`);
    return;
  }
  if (!field.accepts.some((kind) => ACCEPTS[kind](value))) {
    throw new TypeError(`${method}: '${name}' must be ${field.accepts.join(' or ')}, got ${kindOf(value)}`);
  }
}

/** The JSON request of a call: positional arguments, then one options object. */
function request(spec, args) {
  const out = {};
  const fields = spec.fields;
  spec.positional.forEach((name, i) => {
    check(spec.method, name, args[i], fields[name]);
    if (args[i] !== undefined && args[i] !== null) out[fields[name].wire] = args[i];
  });
  const rest = Object.keys(fields).filter((name) => !spec.positional.includes(name));
  const options = args[spec.positional.length] === undefined ? {} : args[spec.positional.length];
  if (!isObject(options)) throw new TypeError(`${spec.method}: options must be an object`);
  for (const key of Object.keys(options)) {
    if (!rest.includes(key)) throw new TypeError(`${spec.method}: unknown option '${key}' (known: ${rest.join(', ')})`);
  }
  for (const name of rest) {
    check(spec.method, name, options[name], fields[name]);
    if (options[name] !== undefined && options[name] !== null) out[fields[name].wire] = options[name];
  }
  return out;
}

class DatabaseConsultant {
  /** @private use DatabaseConsultant.open() */
  constructor(inner) {
    this._native = inner;
  }

  /** Open a consultant; `store` is a SQLite file path or a postgres:// URL. */
  static async open(options = {}) {
    if (!isObject(options)) throw new TypeError('DatabaseConsultant.open: options must be an object');
    for (const key of Object.keys(options)) {
      if (key !== 'store') throw new TypeError(`DatabaseConsultant.open: unknown option '${key}' (known: store)`);
    }
    if (options.store !== undefined && typeof options.store !== 'string') {
      throw new TypeError(`DatabaseConsultant.open: 'store' must be string, got ${kindOf(options.store)}`);
    }
    try {
      return new DatabaseConsultant(await native.NativeConsultant.open(options.store ?? null));
    } catch (e) {
      throw errors.fromNative(e);
    }
  }

  get store() {
    return this._native.store;
  }

  async _invoke(spec, args) {
    const body = JSON.stringify(request(spec, args));
    let text;
    try {
      text = await this._native.call(spec.op, body);
    } catch (e) {
      throw errors.fromNative(e);
    }
    const result = JSON.parse(text);
    return spec.raw ? result : camel(result);
  }
}

for (const spec of OPERATIONS) {
  const method = async function (...args) {
    return this._invoke(spec, args);
  };
  for (const name of [spec.method, ...spec.aliases]) {
    Object.defineProperty(DatabaseConsultant.prototype, name, { value: method, writable: true, configurable: true });
  }
}

/** The operation registry with its JSON Schemas (what this SDK is generated from). */
function registry() {
  return JSON.parse(native.registry());
}

const { fromNative: _internal, ...errorClasses } = errors;
/** The version of the Rust core inside the addon (the package's version). */
function version() {
  return native.version();
}

module.exports = { DatabaseConsultant, registry, version, ...errorClasses };
