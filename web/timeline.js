// Expressions over time: every analysed face is recorded (time, face id, the 8 probabilities,
// label, box), plotted per face over the last minute, and exported as CSV or JSON.

export const WINDOW_MS = 60000; // what the per-face plot shows
const MAX_ROWS = 200000; // ~1 h of two faces at 30 fps; the oldest rows go first

export class Recorder {
  constructor(classes) {
    this.classes = classes;
    this.clear();
  }

  clear() {
    this.rows = [];
    this.t0 = null;
    this.started = null;
  }

  /** One frame's faces (tracked: id, label, scores, box); source 'camera' | 'photo'. */
  add(faces, { model, source, now = performance.now() }) {
    if (this.t0 === null) {
      this.t0 = now;
      this.started = new Date().toISOString();
    }
    const t = Math.round(now - this.t0);
    for (const f of faces) {
      if (!f.scores || !f.label) continue;
      this.rows.push({ t, face: f.id, label: f.label, scores: this.classes.map((c) => f.scores[c] ?? 0), box: f.box, model, source });
    }
    if (this.rows.length > MAX_ROWS) this.rows.splice(0, this.rows.length - MAX_ROWS);
  }

  /** The rows of face `id` within the last WINDOW_MS (of the newest row). */
  recent(id) {
    const last = this.rows.length ? this.rows[this.rows.length - 1].t : 0;
    const out = [];
    for (let i = this.rows.length - 1; i >= 0 && this.rows[i].t >= last - WINDOW_MS; i--) {
      if (this.rows[i].face === id) out.push(this.rows[i]);
    }
    return out.reverse();
  }

  toCSV() {
    const head = ['time_s', 'face', 'label', ...this.classes, 'x', 'y', 'width', 'height', 'model', 'source'];
    const lines = this.rows.map((r) => [
      (r.t / 1000).toFixed(3), r.face, r.label, ...r.scores.map((v) => v.toFixed(4)),
      ...[r.box.x, r.box.y, r.box.width, r.box.height].map((v) => v.toFixed(1)), r.model, r.source,
    ].join(','));
    return [head.join(','), ...lines].join('\n') + '\n';
  }

  toJSON() {
    return {
      started: this.started,
      classes: this.classes,
      rows: this.rows.map((r) => ({ ...r, t: r.t / 1000, box: { ...r.box } })),
    };
  }
}

/** The 8 probabilities of one face over the last minute, a line per class, on `canvas`. */
export function drawTimeline(canvas, rows, colors) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const cx = canvas.getContext('2d');
  cx.clearRect(0, 0, w, h);
  const pad = 3 * dpr; // lines at 0% and 100% stay visible
  cx.fillStyle = 'rgba(255, 255, 255, 0.08)';
  cx.fillRect(0, Math.round(h / 2), w, Math.max(1, dpr)); // 50%
  if (rows.length < 2) return;
  const tEnd = rows[rows.length - 1].t;
  // the plot fills its width from the first seconds on, then scrolls once it holds a minute
  const span = Math.min(WINDOW_MS, Math.max(10000, tEnd - rows[0].t));
  const x = (t) => w - ((tEnd - t) / span) * w;
  const y = (v) => h - pad - v * (h - 2 * pad);
  cx.lineWidth = Math.max(1, dpr);
  for (let c = 0; c < colors.length; c++) {
    cx.strokeStyle = colors[c];
    cx.beginPath();
    rows.forEach((r, i) => (i ? cx.lineTo(x(r.t), y(r.scores[c])) : cx.moveTo(x(r.t), y(r.scores[c]))));
    cx.stroke();
  }
}

/** Starts a download of `text` as `name`. */
export function download(name, text, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
