// options.js - load()'s options, checked once for every entry point that takes them.
import { EmxError } from './errors.js';
import { asBytes, isBlob } from './io.js';

export function checkOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw new EmxError('INVALID_ARG', 'options must be an object');
  if (options.locateFile !== undefined && typeof options.locateFile !== 'function') {
    throw new EmxError('INVALID_ARG', 'options.locateFile must be a function');
  }
  if (options.detector !== undefined && options.detector !== null && asBytes(options.detector) === null &&
      typeof options.detector !== 'string' && !(options.detector instanceof URL) && !isBlob(options.detector)) {
    throw new EmxError('INVALID_ARG', 'options.detector must be .emx bytes, a URL or a path');
  }
  if (options.reference !== undefined && typeof options.reference !== 'boolean') {
    throw new EmxError('INVALID_ARG', 'options.reference must be a boolean');
  }
  return options;
}
