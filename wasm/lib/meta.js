// meta.js - the keys of an .emx file's META chunk (models/FORMAT.md). The C API has no way to
// enumerate keys, so they are read here; the values come from the core (emx_wasm_meta).

import { EmxError, ST_LIMIT } from './errors.js';

// Keys from models/FORMAT.md, asked for in any case.
export const KNOWN_META_KEYS = ['name', 'description', 'training_data', 'valid_accuracy', 'license', 'source', 'task', 'keypoints'];

// Only called after the C loader accepted the file (magic, sizes and CRC checked), and still
// bounds-checked: any surprise just yields no keys. A META chunk with more than maxKeys pairs
// (the core's metadata-key budget, emx_model_params.max_meta_keys) is EmxError('LIMIT'): the
// core refuses it at load too, and reading 80 000 keys one by one would take seconds.
export function parseMetaKeys(bytes, maxKeys) {
  const keys = [];
  try {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = Math.min(dv.getUint32(8, true), bytes.length);
    const dec = new TextDecoder();
    let off = 16;
    while (off + 8 <= end) {
      const tag = String.fromCharCode(bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]);
      const size = dv.getUint32(off + 4, true);
      const body = off + 8;
      if (body + size > end) break;
      if (tag === 'META') {
        let p = body;
        const str = () => {
          const len = dv.getUint32(p, true);
          if (p + 4 + len > body + size) throw new Error('bad string');
          const s = dec.decode(bytes.subarray(p + 4, p + 4 + len));
          p += 4 + len;
          return s;
        };
        const n = dv.getUint32(p, true);
        if (n > maxKeys) {
          throw new EmxError('LIMIT', `the model has ${n} metadata keys, over the budget of ${maxKeys} (load() options.budget.maxMetaKeys)`, ST_LIMIT);
        }
        p += 4;
        for (let i = 0; i < n; i++) {
          keys.push(str());
          str();
        }
        break;
      }
      off = body + ((size + 3) & ~3);
    }
  } catch (err) {
    if (err instanceof EmxError) throw err;
    /* keep what we have */
  }
  return keys;
}
