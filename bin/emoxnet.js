#!/usr/bin/env node
// emoxnet - command line front end of the WebAssembly build (wasm/emoxnet.js): classify images
// and evaluate a model on a FER+-layout folder. Reported accuracies (the `valid_accuracy`
// metadata of shipped models) come from `emoxnet eval`, so the number is measured through the
// very code path users run.
import { copyFile, mkdir, open, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { load, decodeImage, annotate, EmxError } from '../wasm/emoxnet.js';
import { blendHeat } from './heatmap.js';
import { FERPLUS_CLASSES, ferplusKeys, parseLabelLine, keptRows, meanClassRecall, expectedCalibrationError } from './ferplus.js';

// Confidence bins of the calibration error eval reports (15: the common choice in the literature).
const ECE_BINS = 15;

// Input bounds: every file is stat'ed first and read only when it is a regular file under its
// cap, so `emoxnet classify /dev/zero` or a FIFO fails at once instead of growing without end.
const MAX_MODEL_BYTES = 256 * 2 ** 20; // the .emx format's own limit (models/FORMAT.md)
const MAX_IMAGE_BYTES = 128 * 2 ** 20; // far above any photo; the decoder refuses > 64 Mpx
const MAX_LABEL_CSV_BYTES = 64 * 2 ** 20; // FER+'s largest label.csv is 1.4 MB
const MAX_LABEL_LINE = 4096; // characters; a FER+ line is about 40

/** The bytes of a regular file of at most `max` bytes, or a CliError saying why not. */
async function readBounded(path, max, what) {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  if (!st.isFile()) throw new CliError(`cannot read ${what} ${path}: not a regular file`);
  if (st.size > max) throw new CliError(`cannot read ${what} ${path}: ${st.size} bytes, over the ${max}-byte limit`);
  // Read at most max + 1 bytes from the open file: it may have grown since stat.
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) throw new CliError(`cannot read ${what} ${path}: it grows while being read`);
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, n);
  } catch (err) {
    throw err instanceof CliError ? err : new CliError(`cannot read ${what} ${path}: ${err.message}`);
  } finally {
    await fh.close();
  }
}

const USAGE = `usage:
  emoxnet classify IMAGE... [--model lite|ensemble|PATH] [--balance B] [--json]
                   [--annotate OUT.png] [--explain OUT.png]
                   [--whole] [--min-face PX] [--max-faces N] [--threshold T] [--tiles N|auto]
      Print the predicted expression and the class scores of every face in each image (PNG
      or JPEG). Photos and frames are searched for faces (BlazeFace, models/blazeface.emx);
      an image no larger than twice the model's input (a face crop, like FER+'s 48x48) or
      any image with --whole is taken as one face. --json: one JSON object per line.
      --annotate OUT.png: write the image (one IMAGE only) with boxes and labels drawn.
      --explain OUT.png: write the image (one IMAGE only) with each face's class activation
      map for its label blended over the eye-levelled crop it was classified on (red:
      strongest evidence).
      --min-face PX: ignore faces smaller than PX pixels; --max-faces N (default 32);
      --threshold T: detector confidence 0..1 (default 0.5).
      --tiles N|auto: for small faces (group photos; the detector alone misses faces under
      about a fifth of the image height), also search an N x N grid of overlapping windows,
      N 2..4, at N * N + 1 detector passes; 0: the whole image only. Default auto: N from
      the image size, the most tiles whose smallest faces are still about 48 px (shorter
      side under 360 px: 0, 360: 2, 480: 3, 600 and more: 4), as the live demo does.
  emoxnet eval DIR [--model lite|ensemble|PATH] [--balance B] [--json] [--limit N]
               [--predictions OUT.csv]
      Accuracy on a FER+-layout folder (label.csv beside the PNGs) under the FER+ majority
      protocol: per-class recall, their mean, the calibration error (ECE, 15 bins) and the
      confusion matrix. --json: a single JSON line (with the balance used).
      --limit N: only the first N images the protocol keeps.
      --predictions OUT.csv: one row per scored image: file, true and predicted class index
      (FER+ order), the 8 probabilities (e.g. to compare with another framework).
  emoxnet assets DIR
      Copy the package's runtime files (the three .wasm builds and the three .emx models) into
      DIR, for apps that serve them themselves: then call init({ baseUrl: 'URL of DIR' }).
      Needed with bundlers that do not copy new URL(..., import.meta.url) assets (esbuild).
  emoxnet --help | --version

options:
  --model M   'lite' (default, models/emoxnet-lite.emx), 'ensemble' (models/emoxnet.emx)
              or the path of an .emx file
  --balance B 0..1 (default 0): divide B of FER+ Train's class prior out of the scores
              (load()'s balance option): rare expressions (contempt, disgust, fear) are named
              more often, for a little top-1 accuracy; FER+-ordered models only
  --scalar    use the WebAssembly build without SIMD`;

/** A user-facing error: printed as one line, no stack trace. */
class CliError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

function parseArgs(argv) {
  const opts = {
    model: 'lite', balance: 0, json: false, limit: null, scalar: false, help: false, version: false,
    annotate: null, explain: null, predictions: null, whole: false, minFace: 0, maxFaces: 32, threshold: 0.5,
    tiles: 'auto', // photos: the package's autoTiles() from each image's size
  };
  const number = (arg, v, lo, hi, integer = false) => {
    const n = Number(v);
    if (v === '' || !Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
      throw new CliError(`${arg} takes ${integer ? 'an integer' : 'a number'} in ${lo}..${hi}, got '${v}'`, 2);
    }
    return n;
  };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline = null;
    if (arg.startsWith('--') && arg.includes('=')) {
      inline = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    }
    const value = () => {
      if (inline !== null) return inline;
      if (i + 1 >= argv.length) throw new CliError(`${arg} needs a value`, 2);
      return argv[++i];
    };
    switch (arg) {
      case '-h':
      case '--help':
        opts.help = true;
        break;
      case '--version':
        opts.version = true;
        break;
      case '--json':
        opts.json = true;
        break;
      case '--scalar':
        opts.scalar = true;
        break;
      case '--model':
      case '-m':
        opts.model = value();
        break;
      case '--balance':
        opts.balance = number(arg, value(), 0, 1);
        break;
      case '--annotate':
        opts.annotate = value();
        break;
      case '--explain':
        opts.explain = value();
        break;
      case '--whole':
        opts.whole = true;
        break;
      case '--min-face':
        opts.minFace = number(arg, value(), 0, 16384);
        break;
      case '--max-faces':
        opts.maxFaces = number(arg, value(), 1, 1024, true);
        break;
      case '--threshold':
        opts.threshold = number(arg, value(), 0, 1);
        break;
      case '--tiles': {
        const v = value();
        if (v !== 'auto' && !/^[0-4]$/.test(v)) throw new CliError(`--tiles takes an integer in 0..4 or 'auto', got '${v}'`, 2);
        opts.tiles = v === 'auto' ? 'auto' : Number(v);
        break;
      }
      case '--predictions':
        opts.predictions = value();
        break;
      case '--limit': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new CliError(`--limit takes a positive integer, got '${v}'`, 2);
        opts.limit = Number(v);
        break;
      }
      case '--':
        positional.push(...argv.slice(i + 1));
        i = argv.length;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new CliError(`unknown option ${arg}`, 2);
        positional.push(arg);
    }
  }
  return { opts, positional };
}

async function loadModel(opts) {
  const shipped = opts.model === 'lite' || opts.model === 'ensemble';
  // A path is read here, bounded, and handed over as bytes (`--model /dev/zero` grew forever).
  const source = shipped
    ? opts.model
    : await readBounded(opts.model, MAX_MODEL_BYTES, 'model').catch((err) => {
        throw new CliError(err.message.replace(/^cannot read model /, 'cannot load model '));
      });
  try {
    const model = await load(source, { balance: opts.balance, ...(opts.scalar ? { simd: false } : {}) });
    return { model, file: shipped ? `models/${opts.model === 'lite' ? 'emoxnet-lite' : 'emoxnet'}.emx` : opts.model };
  } catch (err) {
    if (err instanceof EmxError && err.code === 'LOAD' && shipped && /\.emx/.test(err.message)) {
      throw new CliError(`the shipped model '${opts.model}' is not there (${err.message.replace(/^cannot read /, '')})`);
    }
    throw new CliError(`cannot load model ${opts.model}: ${err.message}`);
  }
}

async function readImage(path, opts) {
  const bytes = await readBounded(path, MAX_IMAGE_BYTES, 'image');
  try {
    return await decodeImage(bytes, opts.scalar ? { simd: false } : undefined);
  } catch (err) {
    throw new CliError(`cannot decode image ${path}: ${err.message}`);
  }
}

// ---- classify

// An image no larger than twice the model's input is a face crop (FER+ images are 48x48).
function isFaceCrop(img, model) {
  const s = model.inputSpec;
  return img.width <= 2 * s.width && img.height <= 2 * s.height;
}

function printScores(model, scores, indent) {
  const width = Math.max(...model.classNames.map((c) => c.length));
  for (const c of model.classNames) process.stdout.write(`${indent}${c.padEnd(width)}  ${scores[c].toFixed(4)}\n`);
}

// ---- --explain: class activation maps blended over the face crops

async function explainPng(model, img, faces, opts) {
  const regions = [];
  const drawn = [];
  if (!faces) {
    const e = model.explain(img);
    regions.push({ map: e, x: 0, y: 0, w: img.width, h: img.height });
  } else {
    // each face's map from analyze({ explain: true }): the run that labelled it, on its
    // eye-levelled crop, drawn turned with that crop
    for (const f of faces) {
      if (!f.cam) continue;
      const c = f.crop;
      regions.push({ map: f.cam, x: c.cx - c.side / 2, y: c.cy - c.side / 2, w: c.side, h: c.side, angle: c.angle });
      drawn.push(f);
    }
  }
  const heat = blendHeat(img, regions);
  const k = heat.scale;
  const boxes = drawn.map((f) => ({ ...f, box: { x: f.box.x * k, y: f.box.y * k, width: f.box.width * k, height: f.box.height * k } }));
  return annotate(heat, boxes, opts.scalar ? { simd: false } : undefined);
}

async function classifyCommand(files, opts) {
  if (files.length === 0) throw new CliError('classify needs at least one IMAGE (see emoxnet --help)', 2);
  if (opts.annotate !== null && files.length !== 1) throw new CliError('--annotate takes exactly one IMAGE', 2);
  if (opts.explain !== null && files.length !== 1) throw new CliError('--explain takes exactly one IMAGE', 2);
  const { model } = await loadModel(opts);
  const detectOptions = {
    minFaceSize: opts.minFace, maxFaces: opts.maxFaces, scoreThreshold: opts.threshold, tiles: opts.tiles,
  };
  let failed = 0;
  try {
    for (const file of files) {
      let img;
      let result = null;
      let faces = null;
      try {
        img = await readImage(file, opts);
        if (opts.whole || isFaceCrop(img, model)) result = model.classify(img);
        else faces = await model.analyze(img, { ...detectOptions, explain: opts.explain !== null });
      } catch (err) {
        // One bad image does not stop the others; the exit status reports it.
        failed++;
        process.stderr.write(`emoxnet: ${err instanceof CliError ? err.message : `${file}: ${err.message}`}\n`);
        continue;
      }
      const r1 = (v) => Math.round(v * 10) / 10;
      if (opts.json) {
        const obj = result
          ? { file, label: result.label, scores: result.scores }
          : {
              file,
              faces: faces.map((f) => ({
                box: { x: r1(f.box.x), y: r1(f.box.y), width: r1(f.box.width), height: r1(f.box.height) },
                score: f.score,
                landmarks: f.landmarks?.map((p) => ({ x: r1(p.x), y: r1(p.y) })),
                label: f.label,
                scores: f.scores,
              })),
            };
        process.stdout.write(JSON.stringify(obj) + '\n');
      } else if (result) {
        process.stdout.write(`${file}: ${result.label} (${result.scores[result.label].toFixed(3)})\n`);
        printScores(model, result.scores, '  ');
      } else {
        process.stdout.write(`${file}: ${faces.length === 0 ? 'no face found' : `${faces.length} face${faces.length > 1 ? 's' : ''}`}\n`);
        faces.forEach((f, i) => {
          const b = f.box;
          const where = `at x=${Math.round(b.x)} y=${Math.round(b.y)} ${Math.round(b.width)}x${Math.round(b.height)}, detector score ${f.score.toFixed(2)}`;
          if (f.label === null) {
            process.stdout.write(`  face ${i + 1}: not classified (too large to crop) ${where}\n`);
            return;
          }
          process.stdout.write(`  face ${i + 1}: ${f.label} (${f.scores[f.label].toFixed(3)}) ${where}\n`);
          printScores(model, f.scores, '    ');
        });
      }
      if (opts.annotate !== null) {
        const drawn = faces ?? [{ box: { x: 0, y: 0, width: img.width, height: img.height }, score: 1, ...result }];
        try {
          await writeFile(opts.annotate, await annotate(img, drawn, opts.scalar ? { simd: false } : undefined));
        } catch (err) {
          throw new CliError(`cannot write ${opts.annotate}: ${err.message}`);
        }
        if (!opts.json) process.stdout.write(`wrote ${opts.annotate}\n`);
      }
      if (opts.explain !== null) {
        try {
          const png = await explainPng(model, img, result ? null : faces, opts);
          await writeFile(opts.explain, png);
        } catch (err) {
          throw new CliError(`cannot write ${opts.explain}: ${err.message}`);
        }
        if (!opts.json) process.stdout.write(`wrote ${opts.explain}\n`);
      }
    }
  } finally {
    model.dispose();
  }
  return failed ? 1 : 0;
}

// ---- eval

function progress(done, total, correct) {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((width * done) / total);
  const acc = done ? ((100 * correct) / done).toFixed(1) : '0.0';
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}  acc ${acc}%`);
}

function pct(x) {
  return x === null ? '   -  ' : `${(100 * x).toFixed(1).padStart(5)}%`;
}

async function evalCommand(args, opts) {
  if (args.length !== 1) throw new CliError('eval takes exactly one DIR (see emoxnet --help)', 2);
  const dir = args[0];
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new CliError(`no such directory: ${dir}`);
  }
  if (!st.isDirectory()) throw new CliError(`not a directory: ${dir}`);
  const rows = await readLabelCsv(dir);
  const problems = []; // rows reported and skipped: a bad box, a name outside the folder
  const realDir = await realpath(dir);
  const usable = [];
  for (const r of rows) {
    if (r.box === undefined) problems.push(`${r.file}: malformed face box (label.csv line ${r.line}), skipped`);
    else if (!insideDir(realDir, r.file)) problems.push(`${r.file}: not a file inside ${dir} (label.csv line ${r.line}), skipped`);
    else usable.push(r);
  }
  let kept = keptRows(usable);
  if (opts.limit !== null) kept = kept.slice(0, opts.limit);
  if (kept.length === 0) throw new CliError(`no image in ${dir} is kept by the FER+ majority protocol`);

  const { model, file: modelFile } = await loadModel(opts);
  const skipped = [];
  const K = FERPLUS_CLASSES.length;
  const confusion = Array.from({ length: K }, () => new Array(K).fill(0));
  let correct = 0;
  const confidences = [];
  const hits = [];
  const predRows = [`file,label,pred,${FERPLUS_CLASSES.join(',')}`];
  const t0 = Date.now();
  try {
    // Score only the 8 FER+ classes, found by name, so a model with its classes in another
    // order (or with extra classes) is still scored on the same 8-way task.
    const keyOf = ferplusKeys(model.classNames);
    const missing = FERPLUS_CLASSES.filter((_, k) => keyOf[k] === undefined);
    if (missing.length) throw new CliError(`the model has no class ${missing.join(', ')} (its classes: ${model.classNames.join(', ')})`);

    let lastDraw = 0;
    for (let i = 0; i < kept.length; i++) {
      const row = kept[i];
      const path = join(dir, row.file);
      let result;
      try {
        // The real path too must stay inside the folder (a symlinked image is followed only
        // when it points inside).
        if (!insideDir(realDir, relative(realDir, await realpath(path).catch(() => path)))) {
          throw new CliError(`cannot read image ${path}: it leads outside ${dir}`);
        }
        const img = await readImage(path, opts);
        result = model.classify(img, row.box ?? undefined);
      } catch (err) {
        // One missing or broken image is reported and counted, not the end of the run.
        skipped.push(err instanceof CliError ? err.message : `cannot classify ${path}: ${err.message}`);
        continue;
      }
      // The model's own label (its label thresholds included: what a user of classify() gets);
      // the top FER+ score when that label is a class outside the 8.
      let pred = keyOf.indexOf(result.label);
      if (pred < 0) {
        pred = 0;
        for (let k = 1; k < K; k++) if (result.scores[keyOf[k]] > result.scores[keyOf[pred]]) pred = k;
      }
      confusion[row.label][pred]++;
      if (opts.predictions) predRows.push([row.file, row.label, pred, ...keyOf.map((k) => result.scores[k])].join(','));
      if (pred === row.label) correct++;
      confidences.push(result.scores[keyOf[pred]]);
      hits.push(pred === row.label);
      const now = Date.now();
      if (now - lastDraw > 100 || i + 1 === kept.length) {
        lastDraw = now;
        progress(i + 1, kept.length, correct);
      }
    }
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  } finally {
    model.dispose();
  }
  const seconds = (Date.now() - t0) / 1000;
  if (opts.predictions) {
    try {
      await writeFile(opts.predictions, predRows.join('\n') + '\n');
    } catch (err) {
      throw new CliError(`cannot write ${opts.predictions}: ${err.message}`);
    }
  }

  for (const msg of [...problems, ...skipped]) process.stderr.write(`emoxnet: ${msg}\n`);
  const n = kept.length - skipped.length;
  if (n === 0) throw new CliError(`no image of ${dir} could be scored (${skipped.length} skipped)`);
  const perN = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const recall = confusion.map((r, k) => (perN[k] ? r[k] / perN[k] : null));
  const name = model.meta.name ?? basename(modelFile).replace(/\.emx$/, '');
  const summary = {
    model: name,
    model_file: modelFile,
    dir,
    balance: opts.balance,
    protocol: 'ferplus-majority',
    n,
    correct,
    accuracy: correct / n,
    mean_class_recall: meanClassRecall(confusion),
    ece: expectedCalibrationError(confidences, hits, ECE_BINS),
    ece_bins: ECE_BINS,
    per_class: Object.fromEntries(FERPLUS_CLASSES.map((c, k) => [c, recall[k]])),
    per_class_n: Object.fromEntries(FERPLUS_CLASSES.map((c, k) => [c, perN[k]])),
    classes: FERPLUS_CLASSES,
    confusion,
    seconds,
    skipped: skipped.length,
    bad_rows: problems.length,
  };
  // Scored on fewer images than asked: the summary stands, the exit status says so.
  const code = skipped.length || problems.length ? 1 : 0;
  if (opts.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return code;
  }
  const w = Math.max(...FERPLUS_CLASSES.map((c) => c.length)) + 1;
  const out = [];
  out.push(`model     ${name} (${modelFile}, ${model.variant} wasm${opts.balance ? `, --balance ${opts.balance}` : ''})`);
  out.push(`data      ${dir}: ${n} images kept by the FER+ majority protocol (of ${rows.length})${opts.limit !== null ? `, --limit ${opts.limit}` : ''}`);
  out.push(`accuracy  ${(100 * summary.accuracy).toFixed(2)}%  (${correct}/${n}, ${(n / seconds).toFixed(0)} images/s)`);
  out.push(`mean per-class recall  ${(100 * summary.mean_class_recall).toFixed(2)}%`);
  out.push(`calibration error (ECE, ${ECE_BINS} bins)  ${(100 * summary.ece).toFixed(2)}%`);
  if (skipped.length || problems.length) out.push(`skipped   ${skipped.length} image(s) that could not be read or classified, ${problems.length} bad label.csv row(s) (listed on stderr)`);
  out.push('');
  out.push(`${'class'.padEnd(w)}  ${'n'.padStart(5)}  recall`);
  FERPLUS_CLASSES.forEach((c, k) => out.push(`${c.padEnd(w)}  ${String(perN[k]).padStart(5)}  ${pct(recall[k])}`));
  out.push('');
  out.push('confusion matrix (rows: true class, columns: predicted)');
  out.push(''.padEnd(w) + FERPLUS_CLASSES.map((c) => c.padStart(w)).join(''));
  FERPLUS_CLASSES.forEach((c, k) => out.push(c.padEnd(w) + confusion[k].map((v) => String(v).padStart(w)).join('')));
  process.stdout.write(out.join('\n') + '\n');
  return code;
}

/** True when `name` (relative to the real folder `realDir`) stays inside it. */
function insideDir(realDir, name) {
  if (typeof name !== 'string' || name === '' || name.includes('\0') || isAbsolute(name)) return false;
  const rel = relative(realDir, resolve(realDir, name));
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}

/** label.csv of a FER+ folder, streamed line by line under size and line-length caps (a
 * 300 MB file aborted Node when read whole): [{file, box, votes, line}]. */
async function readLabelCsv(dir) {
  const path = join(dir, 'label.csv');
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new CliError(`${dir} has no readable label.csv (expected the FER+ layout: label.csv beside the images)`);
  }
  if (!st.isFile()) throw new CliError(`${path}: not a regular file`);
  if (st.size > MAX_LABEL_CSV_BYTES) throw new CliError(`${path}: ${st.size} bytes, over the ${MAX_LABEL_CSV_BYTES}-byte limit`);
  const rows = [];
  const stream = createReadStream(path, { encoding: 'utf8', end: MAX_LABEL_CSV_BYTES });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.length > MAX_LABEL_LINE) throw new CliError(`${path} line ${lineNo}: over ${MAX_LABEL_LINE} characters`);
      let row;
      try {
        row = parseLabelLine(line, lineNo);
      } catch (err) {
        throw new CliError(`${path}: ${err.message}`);
      }
      if (row) rows.push({ ...row, line: lineNo });
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return rows;
}

// ---- assets

// The files init({ baseUrl }) expects in one folder (wasm/lib/assets.js), from this package.
const ASSET_FILES = [
  ['wasm/dist', 'emoxnet-relaxed.wasm'],
  ['wasm/dist', 'emoxnet-simd.wasm'],
  ['wasm/dist', 'emoxnet-scalar.wasm'],
  ['models', 'emoxnet-lite.emx'],
  ['models', 'emoxnet.emx'],
  ['models', 'blazeface.emx'],
];

async function assetsCommand(args) {
  if (args.length !== 1) throw new CliError(`assets takes one folder\n${USAGE}`, 2);
  const dir = args[0];
  await mkdir(dir, { recursive: true });
  for (const [from, name] of ASSET_FILES) {
    const src = new URL(`../${from}/${name}`, import.meta.url);
    try {
      await copyFile(src, join(dir, name));
    } catch (err) {
      throw new CliError(`cannot copy ${name} to ${dir}: ${err.code === 'ENOENT' ? 'missing (build the package first: npm run build)' : err.message}`);
    }
  }
  process.stdout.write(`copied ${ASSET_FILES.length} files to ${dir}: serve them and call init({ baseUrl }) with their URL\n`);
  return 0;
}

// ---- main

async function version() {
  try {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

async function main(argv) {
  const { opts, positional } = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`emoxnet ${await version()}\n`);
    return 0;
  }
  const [command, ...rest] = positional;
  if (command === 'classify') return classifyCommand(rest, opts);
  if (command === 'eval') return evalCommand(rest, opts);
  if (command === 'assets') return assetsCommand(rest);
  if (command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  throw new CliError(command ? `unknown command '${command}'\n${USAGE}` : USAGE, 2);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // Messages, not stack traces: the stack of an expected error helps nobody. EMOXNET_DEBUG=1
    // shows it for unexpected ones.
    const msg = err instanceof CliError || err instanceof EmxError ? err.message : `unexpected error: ${err && err.message ? err.message : err}`;
    process.stderr.write(`emoxnet: ${msg}\n`);
    if (process.env.EMOXNET_DEBUG && err && err.stack) process.stderr.write(err.stack + '\n');
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  },
);
