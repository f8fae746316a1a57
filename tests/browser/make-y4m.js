// Builds the fake camera for the browser tests: a 640x480 scene with two real FER+ Valid faces
// (a clearly happy one, >= 9 of 10 votes, on the left; a clearly surprised one on the right),
// upscaled to ~200 px on a soft background, written as YUV4MPEG2 (C420jpeg) for Chromium's
// --use-file-for-fake-video-capture, and as a PNG for the photo path.
//   node tests/browser/make-y4m.js OUT.y4m [OUT.png]
// FER+ comes from ../shared/data/ferplus/FER2013Valid (relative to the repository root), or
// from $FERPLUS_DIR/FER2013Valid.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makePng } from '../js/helpers.js';
import { FERPLUS_CLASSES } from '../../bin/ferplus.js';
import { decodeImage } from '../../wasm/emoxnet.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FERPLUS_DIR = process.env.FERPLUS_DIR || join(ROOT, '..', 'shared', 'data', 'ferplus');
export const VALID = join(FERPLUS_DIR, 'FER2013Valid');
export const W = 640;
const FRAME_W = W;
export const H = 480;
const CLASSES = FERPLUS_CLASSES; // one list: bin/ferplus.js

/** Where each face goes: [x, y, size] in the 640x480 frame, and the class it must show. */
export const PLACES = [
  { expected: 'happiness', x: 40, y: 130, size: 210 },
  { expected: 'surprise', x: 380, y: 120, size: 210 },
];

export function haveData() {
  return existsSync(join(VALID, 'label.csv'));
}

/** The first Valid image whose votes for `cls` are >= minVotes of 10 (label.csv order). */
export function pickFace(cls, minVotes = 9) {
  return pickFaces(cls, 1, minVotes)[0];
}

/** The first n such images. */
export function pickFaces(cls, n, minVotes = 9) {
  const col = CLASSES.indexOf(cls);
  const out = [];
  for (const line of readFileSync(join(VALID, 'label.csv'), 'utf8').split(/\r?\n/)) {
    const m = line.match(/^([^,]+\.png),"[^"]*",(.*)$/);
    if (!m) continue;
    const votes = m[2].split(',').map(Number);
    const total = votes.reduce((s, v) => s + v, 0);
    if (votes[col] >= minVotes && total === 10) out.push(m[1]);
    if (out.length === n) return out;
  }
  throw new Error(`no FER+ Valid face with >= ${minVotes} votes for ${cls}`);
}

// Bilinear upscale of a gray face into an RGB frame (W wide) at (x, y), turned by deg degrees
// (clockwise on screen) about its centre when asked.
function paste(frame, face, x, y, size, W = FRAME_W, deg = 0) {
  const c = face.channels;
  const p = (xx, yy) => face.data[(yy * face.width + xx) * c];
  // the face's pixel at (u, v) of its size x size square (fractional), bilinear
  const sample = (u, v) => {
    const sy = Math.min(face.height - 1, Math.max(0, (v * face.height) / size - 0.5));
    const sx = Math.min(face.width - 1, Math.max(0, (u * face.width) / size - 0.5));
    const y0 = Math.floor(sy);
    const x0 = Math.floor(sx);
    const y1 = Math.min(face.height - 1, y0 + 1);
    const x1 = Math.min(face.width - 1, x0 + 1);
    const fy = sy - y0;
    const fx = sx - x0;
    return (p(x0, y0) * (1 - fx) + p(x1, y0) * fx) * (1 - fy) + (p(x0, y1) * (1 - fx) + p(x1, y1) * fx) * fy;
  };
  const H = frame.length / 3 / W;
  const a = (deg * Math.PI) / 180;
  const r = deg ? Math.ceil(size * 0.75) : size / 2;
  const cx = x + size / 2;
  const cy = y + size / 2;
  for (let py = Math.floor(cy - r); py < cy + r; py++) {
    for (let px = Math.floor(cx - r); px < cx + r; px++) {
      if (px < 0 || py < 0 || px >= W || py >= H) continue;
      // the frame pixel's centre, turned back into the face's square
      const dx = px + 0.5 - cx;
      const dy = py + 0.5 - cy;
      const u = dx * Math.cos(a) + dy * Math.sin(a) + size / 2;
      const v = -dx * Math.sin(a) + dy * Math.cos(a) + size / 2;
      if (u < 0 || v < 0 || u >= size || v >= size) continue;
      const o = (py * W + px) * 3;
      frame[o] = frame[o + 1] = frame[o + 2] = Math.round(sample(u, v));
    }
  }
}

/** The scene as RGB bytes (W x H x 3) plus the faces used; turn: degrees the right-hand face
 * is turned by (clockwise), e.g. for heat maps that must turn with its crop. */
export async function makeScene({ turn = 0 } = {}) {
  const rgb = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      rgb[o] = 70 + Math.round((60 * x) / W);
      rgb[o + 1] = 95 + Math.round((40 * y) / H);
      rgb[o + 2] = 120;
    }
  }
  const faces = [];
  for (const p of PLACES) {
    const file = pickFace(p.expected);
    const img = await decodeImage(readFileSync(join(VALID, file)));
    paste(rgb, img, p.x, p.y, p.size, W, p === PLACES[1] ? turn : 0);
    faces.push({ ...p, file });
  }
  return { rgb, width: W, height: H, faces };
}

/** A group photo: 5 clearly happy faces at 1/7 of the frame height (980x735), the size one
 * whole-frame detector pass misses; GROUP: where they are. */
export const GROUP = { width: 980, height: 735, size: 105, at: [[60, 120], [330, 90], [600, 140], [180, 460], [700, 480]] };
export async function makeGroupScene() {
  const { width, height, size, at } = GROUP;
  const rgb = new Uint8Array(width * height * 3).fill(96);
  const files = pickFaces('happiness', at.length);
  for (let i = 0; i < at.length; i++) {
    const img = await decodeImage(readFileSync(join(VALID, files[i])));
    paste(rgb, img, at[i][0], at[i][1], size, width);
  }
  return { rgb, width, height };
}

/** A photo of soft coloured blobs, no face: the detector alone scores it 0.67 (seed 11), as a
 * blurred building scored 0.61 (issue 19): a face at the default threshold 0.5. */
export function makeBlobs(seed = 11, width = 480, height = 640) {
  let s = seed;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const blobs = Array.from({ length: 12 }, () => ({ x: rand() * width, y: rand() * height, r: 20 + rand() * 120, c: [rand() * 255, rand() * 255, rand() * 255] }));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let c = [120, 120, 120];
      for (const b of blobs) {
        const a = Math.exp((-2 * ((x - b.x) ** 2 + (y - b.y) ** 2)) / (b.r * b.r));
        c = c.map((v, i) => v * (1 - a) + b.c[i] * a);
      }
      rgb.set(c.map(Math.round), (y * width + x) * 3);
    }
  }
  return { rgb, width, height };
}

/** YUV4MPEG2 4:2:0 (full-range BT.601, "C420jpeg") of `frames` copies of an RGB image, at fps. */
export function toY4m(rgb, width, height, frames = 10, fps = 30) {
  const cw = width >> 1;
  const ch = height >> 1;
  const Y = new Uint8Array(width * height);
  const U = new Uint8Array(cw * ch);
  const V = new Uint8Array(cw * ch);
  const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));
  for (let i = 0; i < width * height; i++) {
    Y[i] = clamp(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]);
  }
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let r = 0, g = 0, b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const o = ((2 * y + dy) * width + 2 * x + dx) * 3;
        r += rgb[o]; g += rgb[o + 1]; b += rgb[o + 2];
      }
      r /= 4; g /= 4; b /= 4;
      U[y * cw + x] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
      V[y * cw + x] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
    }
  }
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), Y, U, V]);
  return Buffer.concat([header, ...Array(frames).fill(frame)]);
}

/** The scene as an RGB PNG (the Node tests' encoder, colour type 2). */
export function toPng(rgb, width, height) {
  return makePng(width, height, 2, rgb);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [out = 'faces.y4m', png] = process.argv.slice(2);
  const scene = await makeScene();
  writeFileSync(out, toY4m(scene.rgb, scene.width, scene.height));
  if (png) writeFileSync(png, toPng(scene.rgb, scene.width, scene.height));
  console.log(`${out}: ${scene.faces.map((f) => `${f.file} (${f.expected}) at ${f.x},${f.y} size ${f.size}`).join('; ')}`);
}
