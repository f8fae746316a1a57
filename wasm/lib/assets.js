// assets.js - where the package's own files are: the three .wasm builds and the three shipped
// models, and init({ baseUrl }) to serve all of them from one place of the app's choosing.
//
// Every default location is a literal `new URL('relative/path', import.meta.url)`. webpack 5,
// Vite and Rollup recognise exactly this pattern: they copy the file into the app's build and
// rewrite the URL, so a bundled app needs no configuration. A computed path (a template or a
// variable) defeats that detection, which is why each file is spelled out below. Bundlers that
// do not know the pattern (esbuild) keep import.meta.url pointing at the bundle; for them the
// app copies the files (`npx emoxnet assets DIR`) and calls init({ baseUrl }).
import { coreError, EmxError } from './errors.js';
import { IS_NODE, isUrlString, pageUrl, resolveLocation, toUrl } from './io.js';

/** The shipped model names and their files. */
export const MODEL_FILES = Object.freeze({ lite: 'emoxnet-lite.emx', ensemble: 'emoxnet.emx' });
export const DETECTOR_FILE = 'blazeface.emx';
export const WASM_FILES = Object.freeze({ relaxed: 'emoxnet-relaxed.wasm', simd: 'emoxnet-simd.wasm', scalar: 'emoxnet-scalar.wasm' });

function packaged(file) {
  switch (file) {
    case 'emoxnet-lite.emx':
      return new URL('../../models/emoxnet-lite.emx', import.meta.url);
    case 'emoxnet.emx':
      return new URL('../../models/emoxnet.emx', import.meta.url);
    case 'blazeface.emx':
      return new URL('../../models/blazeface.emx', import.meta.url);
    case 'emoxnet-relaxed.wasm':
      return new URL('../dist/emoxnet-relaxed.wasm', import.meta.url);
    case 'emoxnet-simd.wasm':
      return new URL('../dist/emoxnet-simd.wasm', import.meta.url);
    case 'emoxnet-scalar.wasm':
      return new URL('../dist/emoxnet-scalar.wasm', import.meta.url);
    default:
      throw new EmxError('INTERNAL', `no packaged file ${file}`);
  }
}

let configuredBase = null;

function checkBase(baseUrl, what) {
  if (baseUrl === undefined || baseUrl === null) return null;
  if (baseUrl instanceof URL) return baseUrl;
  if (typeof baseUrl !== 'string' || baseUrl === '') {
    throw coreError('INVALID_ARG', `${what} must be a non-empty string or URL (a folder holding the .wasm and .emx files)`);
  }
  return baseUrl;
}

/**
 * Configure where the package's files come from, for every later load(). baseUrl: a folder
 * (URL, or on Node a path) holding emoxnet-relaxed.wasm, emoxnet-simd.wasm, emoxnet-scalar.wasm,
 * emoxnet-lite.emx, emoxnet.emx and blazeface.emx, e.g. what `npx emoxnet assets public/emoxnet` copied.
 * Relative URLs resolve against the page. null goes back to the files next to the module.
 */
export function init(options) {
  if (options === undefined || options === null || typeof options !== 'object') {
    throw coreError('INVALID_ARG', 'init() takes { baseUrl }');
  }
  configuredBase = checkBase(options.baseUrl, 'init(): baseUrl');
}

/** Where `file` (one of the package's files) is read from, given load()'s options. */
export function assetLocation(file, options = {}) {
  const base = checkBase(options.baseUrl, 'options.baseUrl') ?? configuredBase;
  if (base !== null) {
    if (base instanceof URL) return toUrl(file, base.href.endsWith('/') ? base : base.href + '/');
    if (IS_NODE && !isUrlString(base)) return base.replace(/[\\/]*$/, '/') + file;
    const dir = base.endsWith('/') ? base : base + '/';
    return resolveLocation(isUrlString(dir) ? toUrl(file, dir).href : toUrl(file, toUrl(dir, pageUrl())).href);
  }
  try {
    return packaged(file);
  } catch (err) {
    if (err instanceof EmxError) throw err;
    // new URL(x, undefined): the bundle has no import.meta.url (an IIFE or CommonJS build).
    throw new EmxError('LOAD', `cannot locate ${file}: this build of the module has no import.meta.url; copy the package's files (npx emoxnet assets DIR) and call init({ baseUrl: DIR })`, null, { cause: err });
  }
}

/** Whether `file` comes from its default place next to the module (for hints in errors). */
export function isDefaultLocation(options = {}) {
  return (options.baseUrl ?? configuredBase) === null && typeof options.locateFile !== 'function';
}

/** The hint added to errors about the package's own files at their default places. */
export const ASSET_HINT =
  "the package's files were not served next to the module; if your bundler does not copy them (esbuild does not), " +
  'copy them with `npx emoxnet assets DIR` and call init({ baseUrl: DIR })';

/**
 * init()'s baseUrl as an absolute URL string (null when none), for a worker: relative URLs there
 * would resolve against the worker script, not the page.
 */
export function configuredBaseUrl() {
  if (configuredBase === null) return null;
  if (configuredBase instanceof URL) return configuredBase.href;
  if (IS_NODE && !isUrlString(configuredBase)) return configuredBase;
  return toUrl(configuredBase, pageUrl()).href;
}
