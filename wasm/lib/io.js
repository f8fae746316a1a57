// io.js - reading bytes from wherever the caller or the package points: fetch() in browsers
// (and for http(s) URLs in Node), the file system in Node. Every failure names the location
// and what came back, because "not an .emx file" alone cannot tell a missing file from a
// bundler that served index.html in its place.
//
// No top-level Node imports: bundlers for the browser would otherwise try to resolve 'fs'.
// Node's file system is reached through a dynamic import whose specifier is computed at run
// time (see nodeFs()).
import { coreError, EmxError, invalidArg } from './errors.js';

export const IS_NODE =
  typeof process === 'object' &&
  process !== null &&
  typeof process.versions === 'object' &&
  process.versions !== null &&
  typeof process.versions.node === 'string' &&
  typeof window === 'undefined';

async function nodeFs() {
  // Computed specifier + ignore comments: webpack, Rollup, esbuild and Vite then leave this
  // import alone instead of failing to bundle a Node builtin for the browser.
  const name = ['node:', 'fs/promises'].join('');
  return import(/* webpackIgnore: true */ /* @vite-ignore */ name);
}

// A string with a scheme of 2+ letters is a URL ("https:", "file:", "blob:", "data:"); anything
// else is a path on Node (so "C:\\models\\x.emx" stays a path) and a relative URL in browsers.
export function isUrlString(s) {
  return /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(s);
}

/** The URL relative locations are resolved against in a browser or worker. */
export function pageUrl() {
  if (typeof document !== 'undefined' && document.baseURI) return document.baseURI;
  if (typeof location !== 'undefined' && location.href) return location.href;
  return import.meta.url;
}

/** Resolve a user-given location to a URL, or to a file-system path (string) on Node. */
export function resolveLocation(where) {
  if (where instanceof URL) return where;
  if (typeof where !== 'string' || where === '') {
    throw invalidArg('expected a non-empty string or URL');
  }
  if (IS_NODE && !isUrlString(where)) return where; // a path, relative to the working directory
  return toUrl(where, isUrlString(where) ? undefined : pageUrl());
}

/** new URL(), with a malformed location as EmxError('INVALID_ARG') rather than a TypeError. */
export function toUrl(where, base) {
  try {
    return new URL(where, base);
  } catch (err) {
    throw coreError('INVALID_ARG', `not a valid URL: ${JSON.stringify(String(where))}`, { cause: err });
  }
}

export function describe(where) {
  if (!(where instanceof URL)) return String(where);
  // Node users think in paths: show file: URLs as one.
  return IS_NODE && where.protocol === 'file:' ? decodeURIComponent(where.pathname) : where.href;
}

/** Whether `where` is read from the file system (Node, a path or a file: URL). */
export function isLocalFile(where) {
  return IS_NODE && (typeof where === 'string' || where.protocol === 'file:');
}

/** The first bytes of a body, for error messages: text when printable, else hex. */
export function firstBytes(bytes, n = 24) {
  const head = bytes.subarray(0, n);
  if (head.length === 0) return 'an empty body';
  const printable = head.every((b) => (b >= 0x20 && b < 0x7f) || b === 9 || b === 10 || b === 13);
  const more = bytes.length > n ? '...' : '';
  if (printable) return `"${String.fromCharCode(...head).replace(/\s+/g, ' ')}${more}"`;
  return `bytes ${Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ')}${more}`;
}

/**
 * Read `where` fully. Resolves to {bytes, from} where `from` says what answered (for the error
 * messages of callers that check the content): 'HTTP 200, content-type text/html' or 'file'.
 * A `hint` (e.g. how to serve the package's assets) is appended to the error when reading fails.
 */
export async function readBytes(where, hint = null) {
  try {
    return await readWhole(where);
  } catch (err) {
    if (hint && err instanceof EmxError) throw new EmxError(err.code, `${err.message} (${hint})`, err.status, { cause: err });
    throw err;
  }
}

async function readWhole(where) {
  try {
    if (isLocalFile(where)) {
      const fs = await nodeFs();
      const buf = await fs.readFile(where);
      return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), from: 'the file' };
    }
    if (typeof fetch !== 'function') throw new Error('fetch() is not available');
    const res = await fetch(where);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const type = res.headers.get('content-type') || 'none';
    const from = `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}, content-type ${type}`;
    if (!res.ok) {
      throw new EmxError('LOAD', `cannot fetch ${describe(where)}: ${from}, body ${firstBytes(bytes)}`);
    }
    return { bytes, from };
  } catch (err) {
    if (err instanceof EmxError) throw err;
    const why = err && err.code === 'ENOENT' ? 'no such file' : err && err.message ? err.message : String(err);
    throw new EmxError('LOAD', `cannot read ${describe(where)}: ${why}`, null, { cause: err });
  }
}

// A typed array's length, offset and buffer read through the %TypedArray%.prototype getters, and
// an ArrayBuffer's size through ArrayBuffer.prototype's: the caller's object cannot lie about
// them (an overridden `length` getter, a Proxy, a subclass), and for anything that is not the
// real thing the tag getter answers undefined / the size getter throws, running no code of theirs.
const TA_PROTO = Object.getPrototypeOf(Uint8Array.prototype);
const taGet = (key) => Object.getOwnPropertyDescriptor(TA_PROTO, key).get;
const TA_TAG = taGet(Symbol.toStringTag);
const TA_BUFFER = taGet('buffer');
const TA_OFFSET = taGet('byteOffset');
const TA_BYTES = taGet('byteLength');
const TA_LENGTH = taGet('length');
const AB_BYTES = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
const dvGet = (key) => Object.getOwnPropertyDescriptor(DataView.prototype, key).get;
const DV_BUFFER = dvGet('buffer');
const DV_OFFSET = dvGet('byteOffset');
const DV_BYTES = dvGet('byteLength');
const SAB_BYTES =
  typeof SharedArrayBuffer === 'function' ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength').get : null;

/** The element type of a typed array ('Uint8Array', 'Float32Array', ...), undefined for anything else. */
export function typedArrayKind(x) {
  return TA_TAG.call(x);
}

/** A typed array's real element count (0 once its buffer is detached or shrunk under it). */
export function typedArrayLength(x) {
  return TA_LENGTH.call(x);
}

function bufferSize(x, getter) {
  if (!getter || x === null || typeof x !== 'object') return -1;
  try {
    return getter.call(x);
  } catch {
    return -1; // not that kind of buffer
  }
}

/**
 * The bytes a BufferSource (ArrayBuffer, SharedArrayBuffer or any typed array / DataView) holds
 * now, as a new fixed-length Uint8Array view (no copy) made from its internal slots; null when
 * x is none of those. A detached buffer gives 0 bytes. The view never changes length: checking
 * view.length and copying the view copies exactly what was checked, whatever the caller's object
 * does later (a resizable buffer grown, an overridden length getter).
 */
export function byteView(x) {
  if (TA_TAG.call(x) !== undefined) {
    const n = TA_BYTES.call(x);
    return n === 0 ? new Uint8Array(0) : new Uint8Array(TA_BUFFER.call(x), TA_OFFSET.call(x), n);
  }
  if (bufferSize(x, DV_BYTES) !== -1 || (x !== null && typeof x === 'object' && ArrayBuffer.isView(x))) {
    try {
      const n = DV_BYTES.call(x);
      return n === 0 ? new Uint8Array(0) : new Uint8Array(DV_BUFFER.call(x), DV_OFFSET.call(x), n);
    } catch {
      return new Uint8Array(0); // a DataView over a detached buffer
    }
  }
  for (const getter of [AB_BYTES, SAB_BYTES]) {
    const n = bufferSize(x, getter);
    if (n >= 0) return n === 0 ? new Uint8Array(0) : new Uint8Array(x, 0, n);
  }
  return null;
}

/** Whether x is a BufferSource byteView() reads. */
export function isBufferSource(x) {
  return byteView(x) !== null;
}

/** Bytes of a BufferSource as a Uint8Array view (no copy, see byteView), or null when it is not one. */
export const asBytes = byteView;

export function isBlob(x) {
  return typeof Blob !== 'undefined' && x instanceof Blob;
}
