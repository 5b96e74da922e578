// ES module entry point: the same objects as the CommonJS entry (index.js), as named exports.
import cjs from './index.js';

export const {
  DatabaseConsultant, registry, version,
  DatabaseConsultantError, InvalidInputError, ConnectionError, SandboxError, NotFoundError,
  ApprovalStateError, InternalError,
} = cjs;
export default cjs;
