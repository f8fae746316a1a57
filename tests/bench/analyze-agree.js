// analyze-agree.js - how much analyze()'s results moved with a change of its crop sampling
// (issue 20: the crop sampled straight into the classifier's input, a box filter, instead of a
// bilinear warp + stb_image_resize): N FER+ Valid faces (the protocol's kept rows, in order),
// each upscaled to 200 px on a grey 640x480 frame as in frame.js (at 15 positions), through this
// build and an older one; prints how many labels agree and each build's accuracy on the FER+
// majority labels of the faces both found. Needs FER+ (../shared/data/ferplus or EMX_FERPLUS_DIR).
//
//   node --no-experimental-fetch tests/bench/analyze-agree.js BASELINE_DIR [N=1000]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { decodeImage, load } from '../../wasm/emoxnet.js';
import { keptRows, parseLabelCsv } from '../../bin/ferplus.js';
import { ferValidDir } from './frame.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const [baseline, nArg] = process.argv.slice(2);
if (!baseline) throw new Error('usage: analyze-agree.js BASELINE_DIR [N]');
const dir = ferValidDir(root);
if (!existsSync(join(dir, 'label.csv'))) {
  console.log(`SKIP: no FER+ Valid at ${dir}`);
  process.exit(0);
}
const FER = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt'];
const rows = keptRows(parseLabelCsv(readFileSync(join(dir, 'label.csv'), 'utf8'))).slice(0, Number(nArg ?? 1000));
const lite = readFileSync(join(root, 'models', 'emoxnet-lite.emx'));
const cur = await load(lite, { simd: true, relaxed: false });
const old = await load(lite, { wasmBinary: readFileSync(join(baseline, 'emoxnet-simd.wasm')) });
const W = 640, H = 480, S = 200;
let n = 0, same = 0, okNew = 0, okOld = 0, maxd = 0, sumd = 0;
for (const [i, r] of rows.entries()) {
  const face = await decodeImage(readFileSync(join(dir, r.file)));
  const frame = { data: new Uint8Array(W * H * 3).fill(118), width: W, height: H, channels: 3 };
  const X = 120 + (i % 5) * 40, Y = 80 + (i % 3) * 40;
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const src = (Math.floor((y * face.height) / S) * face.width + Math.floor((x * face.width) / S)) * face.channels;
      const dst = ((y + Y) * W + x + X) * 3;
      for (let c = 0; c < 3; c++) frame.data[dst + c] = face.data[src + (face.channels >= 3 ? c : 0)];
    }
  }
  const a = await cur.analyze(frame), b = await old.analyze(frame);
  if (a.length !== 1 || b.length !== 1) continue;
  n++;
  same += a[0].label === b[0].label;
  okNew += a[0].label === FER[r.label];
  okOld += b[0].label === FER[r.label];
  const d = Math.max(...FER.map((k) => Math.abs(a[0].scores[k] - b[0].scores[k])));
  maxd = Math.max(maxd, d);
  sumd += d;
}
console.log(`analyze() on ${rows.length} FER+ Valid faces pasted at 200 px: ${n} found by both builds; ` +
  `same label ${same}/${n}; largest change of a probability ${maxd.toFixed(3)}, mean per face ${(sumd / n).toFixed(4)}; ` +
  `correct (FER+ majority): this build ${okNew}/${n}, baseline ${okOld}/${n}`);
cur.dispose();
old.dispose();
