// errors.js - EmxError, the one error class the package throws on purpose, and the C core's
// status codes (emx_status in include/emoxnet.h) it maps to.

/** Class of every error this module throws on purpose. */
export class EmxError extends Error {
  /**
   * @param {string} code short machine-readable code, e.g. 'CHECKSUM', 'IMAGE', 'DISPOSED'
   * @param {string} message human-readable message
   * @param {number|null} [status] the C emx_status behind it (null when none applies)
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, status = null, options = undefined) {
    super(message, options);
    this.name = 'EmxError';
    this.code = code;
    this.status = status;
  }
}

// emx_status values (include/emoxnet.h) -> EmxError codes. A wasm build that exports
// emx_wasm_status_name answers this itself (Wasm#statusCode, the names of emx_status_name());
// this table is for builds without it, and tests/js/hardening.test.js checks the two agree.
export const STATUS_CODE = new Map([
  [-1, 'INVALID_ARG'],
  [-2, 'NO_MEMORY'],
  [-3, 'BAD_MAGIC'],
  [-4, 'VERSION'],
  [-5, 'TRUNCATED'],
  [-6, 'CHECKSUM'],
  [-7, 'FORMAT'],
  [-8, 'IMAGE'],
  [-9, 'BOX'],
  [-10, 'IO'],
  [-11, 'DECODE'],
  [-12, 'UNSUPPORTED'],
  [-13, 'LIMIT'],
  [-14, 'NUMERIC'],
]);
export const ST_INVALID_ARG = -1;
export const ST_NO_MEMORY = -2;
export const ST_BAD_MAGIC = -3;
export const ST_FORMAT = -7;
export const ST_TRUNCATED = -5;
export const ST_IMAGE = -8;
export const ST_BOX = -9;
export const ST_DECODE = -11;
export const ST_UNSUPPORTED = -12;
export const ST_LIMIT = -13;
export const ST_NUMERIC = -14;

const STATUS_OF = new Map([...STATUS_CODE].map(([status, code]) => [code, status]));

/** An EmxError whose code is one of the core's: its status comes from the one table above. */
export function coreError(code, message, options = undefined) {
  return new EmxError(code, message, STATUS_OF.get(code) ?? null, options);
}

/** An EmxError('INVALID_ARG') with the matching C status. */
export function invalidArg(message) {
  return new EmxError('INVALID_ARG', message, ST_INVALID_ARG);
}

/** A value for an error message, never throwing (a Symbol, an object without toString). */
export function show(v) {
  try {
    return typeof v === 'object' && v !== null ? Object.prototype.toString.call(v) : String(v);
  } catch {
    return typeof v;
  }
}
