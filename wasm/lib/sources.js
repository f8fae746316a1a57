// sources.js - the bytes of a model (or detector) from whatever load() was given: bytes, a
// Blob, a shipped model's name, a URL or a path. What was fetched is checked for the .emx magic
// here, where the URL and the server's answer are still known, so an HTML page served in place
// of a model is reported as such rather than as a bare "not an .emx file".
import { coreError, EmxError, ST_BAD_MAGIC, ST_TRUNCATED } from './errors.js';
import { byteView, describe, firstBytes, isBlob, isLocalFile, readBytes, resolveLocation } from './io.js';
import { ASSET_HINT, MODEL_FILES, assetLocation, isDefaultLocation } from './assets.js';

const EMX_MAGIC = [0x45, 0x4d, 0x58, 0x4e]; // "EMXN" (models/FORMAT.md)

const MODEL_NAMES = Object.keys(MODEL_FILES);
const USAGE = `.emx bytes (Uint8Array/ArrayBuffer/Blob), a URL or path of an .emx file, or a shipped model: ${MODEL_NAMES.map((n) => `'${n}'`).join(' or ')}`;

/** Whether a string is meant as a model name rather than a location: no slash, dot or scheme. */
function looksLikeName(s) {
  return !/[./\\:]/.test(s);
}

/** Fetch/read a model file and check it is one; errors name the location and the answer. */
export async function fetchModel(where, hint = null) {
  const { bytes, from } = await readBytes(where, hint);
  const name = describe(where);
  if (bytes.length === 0) throw new EmxError('TRUNCATED', `${name} is empty (got ${from})`, ST_TRUNCATED);
  if (!EMX_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new EmxError('BAD_MAGIC', `${name} is not an .emx model: got ${from}, body ${firstBytes(bytes)}${hint ? ` (${hint})` : ''}`, ST_BAD_MAGIC);
  }
  return bytes;
}

/** The .emx bytes of `source` (see USAGE); options: load()'s (baseUrl, locateFile). */
export async function sourceBytes(source, options = {}) {
  // Copied at once (a private snapshot): the caller's buffer may change after this call.
  const direct = byteView(source);
  if (direct) return direct.slice();
  if (isBlob(source)) return new Uint8Array(await source.arrayBuffer());
  if (typeof source === 'string' && Object.prototype.hasOwnProperty.call(MODEL_FILES, source)) {
    const where = assetLocation(MODEL_FILES[source], options);
    // The bundler hint only helps where a bundler could have moved the files: not on disk.
    return fetchModel(where, isDefaultLocation(options) && !isLocalFile(where) ? ASSET_HINT : null);
  }
  if (typeof source === 'string' && source !== '' && looksLikeName(source)) {
    throw coreError('INVALID_ARG', `unknown model '${source}': load() takes ${USAGE}`);
  }
  if ((typeof source === 'string' && source !== '') || source instanceof URL) return fetchModel(resolveLocation(source));
  throw coreError('INVALID_ARG', `load() takes ${USAGE}`);
}
