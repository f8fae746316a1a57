// Node: classify the faces in a PNG or JPEG file. The encoded bytes go straight to analyze();
// the package decodes them itself (no image library needed) and reads its .wasm and model
// files from its own folder.
//   node classify.mjs photo.jpg
import { readFile } from 'node:fs/promises';
import { load, EmxError } from 'emoxnet';

const file = process.argv[2];
if (!file) {
  console.error('usage: node classify.mjs IMAGE');
  process.exit(2);
}
try {
  const model = await load('lite');
  const faces = await model.analyze(await readFile(file));
  for (const f of faces) console.log(JSON.stringify({ label: f.label, score: f.scores[f.label], box: f.box }));
  if (faces.length === 0) console.log('no face found');
  model.dispose();
} catch (err) {
  console.error(err instanceof EmxError ? `${err.code}: ${err.message}` : err);
  process.exitCode = 1;
}
