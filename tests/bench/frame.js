// frame.js - the 640x480 RGB test frame of the detect benchmarks (detect.bench.js, and Node vs
// Chromium in browser.bench.js): one FER+ Valid face (fer0028642.png, from ../shared/data/ferplus
// or EMX_FERPLUS_DIR) upscaled to 200 px on a grey frame. Without the data the frame has no face
// (`face` false): detection is still timed, classification is not.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { decodeImage } from '../../wasm/emoxnet.js';

export const W = 640, H = 480;

export function ferValidDir(root) {
  return process.env.EMX_FERPLUS_DIR ?? join(root, '..', 'shared', 'data', 'ferplus', 'FER2013Valid');
}

export async function oneFaceFrame(root) {
  const S = 200, X = 220, Y = 130;
  const frame = { data: new Uint8Array(W * H * 3).fill(118), width: W, height: H, channels: 3 };
  const facePath = join(ferValidDir(root), 'fer0028642.png');
  if (!existsSync(facePath)) return { frame, face: false, facePath };
  const face = await decodeImage(readFileSync(facePath));
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const src = (Math.floor((y * face.height) / S) * face.width + Math.floor((x * face.width) / S)) * face.channels;
      const dst = ((y + Y) * W + x + X) * 3;
      for (let c = 0; c < 3; c++) frame.data[dst + c] = face.data[src + (face.channels >= 3 ? c : 0)];
    }
  }
  return { frame, face: true, facePath };
}
