// options.js - load()'s options, checked once for every entry point that takes them.
import { coreError, EmxError, show, invalidArg } from './errors.js';
import { asBytes, isBlob } from './io.js';

export function checkOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw invalidArg('options must be an object');
  if (options.locateFile !== undefined && typeof options.locateFile !== 'function') {
    throw invalidArg('options.locateFile must be a function');
  }
  if (options.detector !== undefined && options.detector !== null && asBytes(options.detector) === null &&
      typeof options.detector !== 'string' && !(options.detector instanceof URL) && !isBlob(options.detector)) {
    throw invalidArg('options.detector must be .emx bytes, a URL or a path');
  }
  if (options.reference !== undefined && typeof options.reference !== 'boolean') {
    throw invalidArg('options.reference must be a boolean');
  }
  return { ...options, budget: checkBudget(options.budget), balance: checkBalance(options.balance) };
}

// options.balance (balance.js): how much of FER+ Train's prior to divide out, 0 (absent: the
// model as trained) to 1. A number only: '0.5' is refused rather than converted, as elsewhere.
export function checkBalance(v) {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw invalidArg(`options.balance must be a number in 0..1 (got ${show(v)})`);
  }
  return v === 0 ? 0 : v; // -0 reads as 0
}

// The load-time budgets (emx_model_params in include/emoxnet.h): a model over one is refused with
// EmxError('LIMIT'). Absent ones keep the core's defaults, far above every real model.
const BUDGETS = { maxMacs: 9e18, maxMemoryBytes: 9e18, maxOps: 2 ** 31 - 1, maxMetaKeys: 2 ** 31 - 1 };

function checkBudget(budget) {
  if (budget === undefined || budget === null) return {};
  if (typeof budget !== 'object') throw coreError('INVALID_ARG', 'options.budget must be an object');
  const out = {};
  for (const [key, max] of Object.entries(BUDGETS)) {
    const v = budget[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw coreError('INVALID_ARG', `options.budget.${key} must be an integer in 1..${max} (got ${show(v)})`);
    }
    out[key] = v;
  }
  return Object.freeze(out);
}
