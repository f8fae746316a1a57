// io.js - reading bytes from wherever the caller or the package points: fetch() in browsers
// (and for http(s) URLs in Node), the file system in Node. Every failure names the location
// and what came back, because "not an .emx file" alone cannot tell a missing file from a
// bundler that served index.html in its place.
//
// No top-level Node imports: bundlers for the browser would otherwise try to resolve 'fs'.
// Node's file system is reached through a dynamic import whose specifier is computed at run
// time (see nodeFs()).
import { EmxError } from './errors.js';

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
    throw new EmxError('INVALID_ARG', 'expected a non-empty string or URL');
  }
  if (isUrlString(where)) return new URL(where);
  if (IS_NODE) return where; // a path, relative to the working directory
  return new URL(where, pageUrl());
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
 */
export async function readBytes(where) {
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

/** Bytes of a BufferSource as a Uint8Array view (no copy), or null when it is not one. */
export function asBytes(x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return null;
}

export function isBlob(x) {
  return typeof Blob !== 'undefined' && x instanceof Blob;
}
