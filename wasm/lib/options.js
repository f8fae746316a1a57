// options.js - load()'s options, checked once for every entry point that takes them.
import { EmxError, show } from './errors.js';
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
  return { ...options, budget: checkBudget(options.budget) };
}

// The load-time budgets (emx_model_params in emoxnet.h): a model over one is refused with
// EmxError('LIMIT'). Absent ones keep the core's defaults, far above every real model.
const BUDGETS = { maxMacs: 9e18, maxMemoryBytes: 9e18, maxOps: 2 ** 31 - 1, maxMetaKeys: 2 ** 31 - 1 };

function checkBudget(budget) {
  if (budget === undefined || budget === null) return {};
  if (typeof budget !== 'object') throw new EmxError('INVALID_ARG', 'options.budget must be an object', -1);
  const out = {};
  for (const [key, max] of Object.entries(BUDGETS)) {
    const v = budget[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw new EmxError('INVALID_ARG', `options.budget.${key} must be an integer in 1..${max} (got ${show(v)})`, -1);
    }
    out[key] = v;
  }
  return Object.freeze(out);
}
