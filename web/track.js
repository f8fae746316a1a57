// Temporal smoothing of expression scores per face across video frames: faces are tracked from
// frame to frame by box overlap (IoU, greedy best-first matching) and each track keeps an
// exponential moving average of its class probabilities (and of its box, to steady the overlay).
// No DOM: runs in the page, a worker or Node (tests/js/track.test.js).

/** Intersection over union of two {x, y, width, height} boxes (0 when either is empty). */
export function iou(a, b) {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** prev + alpha * (next - prev), key by key over next's keys (a missing prev key takes next). */
export function ema(prev, next, alpha) {
  const out = {};
  for (const k of Object.keys(next)) {
    out[k] = alpha < 1 && prev && Number.isFinite(prev[k]) ? prev[k] + alpha * (next[k] - prev[k]) : next[k];
  }
  return out;
}

/** The key with the highest value (the first one on ties); null for an empty object. */
export function argmax(scores) {
  let best = null;
  let bestValue = -Infinity;
  for (const [k, v] of Object.entries(scores || {})) {
    if (v > bestValue) {
      best = k;
      bestValue = v;
    }
  }
  return best;
}

export class FaceTracker {
  /**
   * alpha: weight of the newest frame, (0, 1]; 1 turns smoothing off (tracking still gives ids).
   * iouThreshold: least overlap for a detection to continue a track.
   * maxMissed: frames a track survives without a detection (it is not reported meanwhile).
   */
  constructor({ alpha = 0.35, iouThreshold = 0.3, maxMissed = 5 } = {}) {
    this.alpha = alpha;
    this.iouThreshold = iouThreshold;
    this.maxMissed = maxMissed;
    this.tracks = [];
    this.nextId = 1;
  }

  reset() {
    this.tracks = [];
  }

  /**
   * Feed one frame's faces ({box, score, landmarks, label, scores} as analyze() returns them).
   * Returns the faces of this frame, in input order, each with `id` (stable across frames),
   * `box` and `scores` smoothed, `label` = argmax of the smoothed scores, `raw` = the input face
   * and `age` (frames seen).
   */
  update(faces) {
    const alpha = Math.min(1, Math.max(1e-3, Number(this.alpha) || 1));
    const pairs = [];
    faces.forEach((f, i) => {
      this.tracks.forEach((t, j) => {
        const o = iou(t.box, f.box);
        if (o >= this.iouThreshold) pairs.push([o, i, j]);
      });
    });
    pairs.sort((p, q) => q[0] - p[0]);
    const faceTrack = new Array(faces.length).fill(-1);
    const taken = new Set();
    for (const [, i, j] of pairs) {
      if (faceTrack[i] !== -1 || taken.has(j)) continue;
      faceTrack[i] = j;
      taken.add(j);
    }
    const out = [];
    const kept = [];
    this.tracks.forEach((t, j) => {
      if (!taken.has(j)) {
        t.missed++;
        if (t.missed <= this.maxMissed) kept.push(t);
      }
    });
    faces.forEach((f, i) => {
      const hasScores = f.scores && Object.keys(f.scores).length > 0;
      let t;
      if (faceTrack[i] === -1) {
        t = { id: this.nextId++, box: { ...f.box }, scores: hasScores ? { ...f.scores } : {}, missed: 0, age: 0 };
      } else {
        t = this.tracks[faceTrack[i]];
        t.box = ema(t.box, f.box, alpha);
        if (hasScores) t.scores = ema(t.scores, f.scores, alpha);
        t.missed = 0;
      }
      t.age++;
      kept.push(t);
      out.push({
        ...f,
        id: t.id,
        box: { ...t.box },
        scores: { ...t.scores },
        label: argmax(t.scores),
        age: t.age,
        raw: f,
      });
    });
    this.tracks = kept;
    return out;
  }
}
