'use strict';
// Error classes. Every error has `code` (INVALID_INPUT, CONNECTION, SANDBOX, NOT_FOUND,
// APPROVAL_STATE, INTERNAL) and `kind`, and the CLI's message.

class DatabaseConsultantError extends Error {
  constructor(message, kind = 'internal') {
    super(message);
    this.name = this.constructor.name;
    this.kind = kind;
    this.code = kind.toUpperCase();
  }
}
class InvalidInputError extends DatabaseConsultantError {}
class ConnectionError extends DatabaseConsultantError {}
class SandboxError extends DatabaseConsultantError {}
class NotFoundError extends DatabaseConsultantError {}
class ApprovalStateError extends DatabaseConsultantError {}
class InternalError extends DatabaseConsultantError {}

const byKind = {
  invalid_input: InvalidInputError,
  connection: ConnectionError,
  sandbox: SandboxError,
  not_found: NotFoundError,
  approval_state: ApprovalStateError,
  internal: InternalError,
};

/** Turn the addon's rejection (a JSON reason) into the matching error class. */
function fromNative(error) {
  let kind = 'internal';
  let message = error && error.message ? error.message : String(error);
  try {
    const parsed = JSON.parse(message);
    kind = parsed.kind;
    message = parsed.message;
  } catch (_) {
    // not one of ours: keep the message
  }
  const Cls = byKind[kind] || InternalError;
  return new Cls(message, kind);
}

module.exports = {
  DatabaseConsultantError, InvalidInputError, ConnectionError, SandboxError, NotFoundError,
  ApprovalStateError, InternalError, fromNative,
};
