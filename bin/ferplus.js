// ferplus.js - the FER+ folder layout and the "FER+ majority" evaluation protocol
// (/work/shared/data/README.md), in one small module so the CLI (`emoxnet eval`) and the tests
// share exactly one implementation of the rules every reported accuracy depends on.

/** The 8 FER+ emotions, in label.csv column order (then come 'unknown' and 'NF'). */
export const FERPLUS_CLASSES = Object.freeze([
  'neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt',
]);
const N_VOTES = 10; // 8 emotions + unknown + NF (not a face)

/**
 * The protocol's label for one row of 10 vote counts: the emotion index 0..7, or -1 when the
 * image is dropped.
 *  1. every count <= 1 becomes 0 (single votes are annotator noise);
 *  2. s = sum, m = max; keep only if m > 0.5 * s and the (first) argmax is an emotion.
 */
export function majorityLabel(votes) {
  if (votes.length !== N_VOTES) throw new Error(`expected ${N_VOTES} vote counts, got ${votes.length}`);
  let s = 0;
  let m = 0;
  let arg = -1;
  for (let i = 0; i < N_VOTES; i++) {
    const v = votes[i] <= 1 ? 0 : votes[i];
    s += v;
    if (v > m) { // strict: the first maximum wins ties
      m = v;
      arg = i;
    }
  }
  if (arg < 0 || !(m > 0.5 * s) || arg >= FERPLUS_CLASSES.length) return -1;
  return arg;
}

// One CSV record split on commas outside double quotes ("(0, 0, 48, 48)" holds commas).
function splitCsv(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

// "(x, y, w, h)" -> {x, y, width, height}; null when the field is empty (the whole image);
// undefined when it is there but malformed ("(NaN, 0, 48, 48)", a negative size): such a row
// is reported by the caller, never silently classified as the whole image.
export function parseBox(text) {
  if (text.trim() === '') return null;
  const nums = text.replace(/[()\s]/g, '').split(',').map((v) => (v === '' ? NaN : Number(v)));
  if (nums.length !== 4 || nums.some((n) => !Number.isFinite(n)) || !(nums[2] > 0 && nums[3] > 0)) return undefined;
  return { x: nums[0], y: nums[1], width: nums[2], height: nums[3] };
}

/**
 * One line of label.csv (lineNo counts from 1): {file, box, votes}, null for a blank line or
 * the header, or throws an Error naming the line. box is undefined when malformed.
 */
export function parseLabelLine(line, lineNo) {
  if (line.trim() === '') return null;
  const f = splitCsv(line);
  const votes = f.slice(2).map((v) => (v === '' ? NaN : Number(v)));
  const ok = f.length === 2 + N_VOTES && f[0] !== '' && votes.every((v) => Number.isInteger(v) && v >= 0);
  if (!ok) {
    // A first line with words where the counts belong is a header, not damage.
    if (lineNo === 1 && f.slice(2).some((v) => v !== '' && Number.isNaN(Number(v)))) return null;
    throw new Error(`label.csv line ${lineNo}: expected "file,box,${N_VOTES} vote counts", got: ${line.slice(0, 120)}`);
  }
  return { file: f[0], box: parseBox(f[1]), votes };
}

/**
 * Parse a FER+ label.csv: rows `file,"(x, y, w, h)",n0,...,n9`. Returns
 * [{file, box, votes}] in file order. A non-numeric first line is taken as a header and skipped;
 * any other malformed line throws an Error naming its line number.
 */
export function parseLabelCsv(text) {
  const rows = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const row = parseLabelLine(lines[i], i + 1);
    if (row) rows.push(row);
  }
  return rows;
}

/**
 * The model's class name for each FER+ class, in FER+ order, found by name (case-insensitive),
 * so a model with its classes in another order (or with extra ones) is read on the same 8-way
 * task; undefined where the model has no such class.
 */
export function ferplusKeys(classNames) {
  const lower = classNames.map((c) => c.toLowerCase());
  return FERPLUS_CLASSES.map((c) => classNames[lower.indexOf(c)]);
}

/** The rows the protocol keeps, each with its emotion index: [{file, box, votes, label}]. */
export function keptRows(rows) {
  const kept = [];
  for (const r of rows) {
    const label = majorityLabel(r.votes);
    if (label >= 0) kept.push({ ...r, label });
  }
  return kept;
}

/** Count kept rows per class: {total, per_class: {neutral: n, ...}}. */
export function protocolCounts(rows) {
  const kept = keptRows(rows);
  const per = Object.fromEntries(FERPLUS_CLASSES.map((c) => [c, 0]));
  for (const r of kept) per[FERPLUS_CLASSES[r.label]]++;
  return { total: kept.length, per_class: per };
}

/**
 * Mean of the per-class recalls over the classes that have images (the headline number for
 * minority expressions: top-1 accuracy can stay high while disgust or contempt are never found).
 * confusion[true][pred] counts.
 */
export function meanClassRecall(confusion) {
  const recalls = confusion
    .map((row, k) => [row[k], row.reduce((a, b) => a + b, 0)])
    .filter(([, n]) => n > 0)
    .map(([hit, n]) => hit / n);
  return recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : null;
}

/**
 * Expected calibration error with equal-width confidence bins (Guo et al. 2017; 15 bins is the
 * usual choice): sum over bins of (bin share) * |accuracy in bin - mean confidence in bin|.
 * confidences: top-class probabilities; correct: whether that class was right.
 */
export function expectedCalibrationError(confidences, correct, bins = 15) {
  const n = confidences.length;
  if (n === 0 || correct.length !== n) return null;
  const conf = new Array(bins).fill(0);
  const hits = new Array(bins).fill(0);
  const count = new Array(bins).fill(0);
  for (let i = 0; i < n; i++) {
    // Bin b holds (b/bins, (b+1)/bins]; a confidence of exactly 0 goes to bin 0.
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(confidences[i] * bins) - 1));
    conf[b] += confidences[i];
    hits[b] += correct[i] ? 1 : 0;
    count[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += Math.abs(hits[b] - conf[b]) / n;
  return ece;
}
