// emx_probs.mjs - an .emx model's probabilities for EVERY image of a FER+ folder, through the
// WebAssembly core (the package's own load / decodeImage / classify), for a teacher: `emoxnet
// eval --predictions` scores only the images the majority protocol keeps, while train.py's
// soft targets use every image with a usable vote.
//
//   node training/emx_probs.mjs MODEL.emx DIR OUT.csv [--limit N] [--shard K/N]
//
// --shard K/N: only the K-th of N contiguous slices of the rows (K from 0), so N processes can
// share the work (the core is one thread; an ensemble scores ~10 Train images a second).
// OUT.csv: file, then the 8 FER+ class probabilities (FER+ order, found by name in the model's
// classes, as `emoxnet eval` finds them), one row per label.csv row, in label.csv order.
// training/pipeline.py (emx_teacher) turns it into the .npy train.py --teacher takes.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load, decodeImage } from '../wasm/emoxnet.js';
import { FERPLUS_CLASSES, ferplusKeys, parseLabelCsv } from '../bin/ferplus.js';

const args = process.argv.slice(2);
const li = args.indexOf('--limit');
const limit = li >= 0 ? Number(args.splice(li, 2)[1]) : Infinity;
const si = args.indexOf('--shard');
const [shard, shards] = si >= 0 ? args.splice(si, 2)[1].split('/').map(Number) : [0, 1];
if (args.length !== 3 || !(limit > 0) || !Number.isInteger(shard) || !Number.isInteger(shards) ||
    !(shard >= 0 && shard < shards)) {
  process.stderr.write('usage: node training/emx_probs.mjs MODEL.emx DIR OUT.csv [--limit N] [--shard K/N]\n');
  process.exit(2);
}
const [modelPath, dir, out] = args;
const all = parseLabelCsv(await readFile(join(dir, 'label.csv'), 'utf8')).slice(0, limit);
const rows = all.slice(Math.floor((shard * all.length) / shards), Math.floor(((shard + 1) * all.length) / shards));
const model = await load(await readFile(modelPath));
try {
  const keys = ferplusKeys(model.classNames);
  if (keys.some((k) => k === undefined)) throw new Error(`${modelPath}: not an 8-class FER+ model (${model.classNames})`);
  const lines = [`file,${FERPLUS_CLASSES.join(',')}`];
  const t0 = Date.now();
  for (const [i, row] of rows.entries()) {
    if (row.box === undefined) throw new Error(`${row.file}: malformed face box in label.csv`);
    const img = await decodeImage(await readFile(join(dir, row.file)));
    const { scores } = model.classify(img, row.box ?? undefined);
    lines.push([row.file, ...keys.map((k) => scores[k])].join(','));
    if ((i + 1) % 2000 === 0) process.stderr.write(`${i + 1}/${rows.length} (${((i + 1) / ((Date.now() - t0) / 1000)).toFixed(0)} images/s)\n`);
  }
  await writeFile(out, lines.join('\n') + '\n');
  process.stderr.write(`wrote ${out}: ${rows.length} images\n`);
} finally {
  model.dispose();
}
