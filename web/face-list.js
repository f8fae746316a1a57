// The live demo's face list: a card per face (its top expression, a bar per class and a plot
// of the last minute), or, with many faces, one compact row each (a stacked bar of the 8).
import { argmax } from '../wasm/lib/video.js';
import { drawTimeline } from './timeline.js';

export const CLASSES = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt'];
// one colour per class for the timelines and stacked bars (face colours tell faces apart)
const CLASS_COLORS = ['#b0bec5', '#ffd54f', '#81d4fa', '#7986cb', '#e57373', '#aed581', '#ba68c8', '#ff8a65'];

/**
 * The note a face's title gets when its label is not its most probable class: the model's label
 * threshold named it (contempt, whose real faces get only a few percent: README, Labels), so
 * "contempt 5%" beside "neutral 70%" is explained, not taken for a bug. '' otherwise.
 */
export function thresholdNote(f) {
  if (!f.label) return '';
  const top = argmax(f.scores);
  if (!(f.scores[top] > f.scores[f.label])) return ''; // the top itself, or tied with it
  return `reached its threshold (${top} ${Math.round(f.scores[top] * 100)}%)`;
}
const THRESHOLD_TIP = 'The model names this expression when its probability reaches the threshold fitted for it, even when another is more probable: real faces of it get only a few percent.';

function faceCard() {
  const li = document.createElement('li');
  li.className = 'face';
  li.innerHTML = `<p class="face-title"><b class="num"></b> <span class="top"></span> <span class="p"></span> <small class="why"></small></p><div class="stack" aria-hidden="true">${CLASSES.map((c, k) => `<span style="background:${CLASS_COLORS[k]}"></span>`).join('')}</div>
    <dl class="bars">${CLASSES.map((c, k) => `
      <dt data-c="${c}"><i style="background:${CLASS_COLORS[k]}"></i>${c}</dt>
      <dd><div class="bar" role="meter" aria-label="${c}" aria-valuemin="0" aria-valuemax="100"><span></span></div></dd>
      <dd class="pct" data-c="${c}"></dd>`).join('')}</dl>
    <canvas class="timeline" aria-label="The 8 probabilities over the last minute" role="img"></canvas>`;
  // the parts updated on every list update, found once
  li.parts = {
    num: li.querySelector('.num'),
    top: li.querySelector('.top'),
    p: li.querySelector('.face-title .p'),
    why: li.querySelector('.face-title .why'),
    stack: [...li.querySelector('.stack').children],
    bars: CLASSES.map((c) => li.querySelector(`.bar[aria-label="${c}"]`)),
    pct: CLASSES.map((c) => li.querySelector(`dd.pct[data-c="${c}"]`)),
    dt: CLASSES.map((c) => li.querySelector(`dt[data-c="${c}"]`)),
    timeline: li.querySelector('.timeline'),
  };
  return li;
}

/** Sets el's text, or its attribute / style property, only when it changes (no restyle otherwise). */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}
function setWidth(el, value) {
  if (el.style.width !== value) el.style.width = value;
}

/**
 * Update `ol` to list `faces` (tracked: id, label, scores, box), reusing its items.
 * colors: one per face id; timeline: (id) => the face's recent rows, or null for no plots.
 */
export function renderFaceList(ol, faces, { compact, colors, timeline }) {
  while (ol.children.length > faces.length) ol.lastElementChild.remove();
  faces.forEach((f, i) => {
    let li = ol.children[i];
    if (!li) {
      li = faceCard();
      ol.append(li);
    }
    const color = colors[(f.id - 1) % colors.length];
    if (li.style.getPropertyValue('--c') !== color) li.style.setProperty('--c', color);
    const p = f.label ? f.scores[f.label] : 0;
    const label = f.label ?? '';
    if (li.dataset.label !== label) li.dataset.label = label;
    if (li.dataset.id !== String(f.id)) li.dataset.id = f.id;
    li.dataset.cx = String(Math.round(f.box.x + f.box.width / 2));
    li.dataset.cy = String(Math.round(f.box.y + f.box.height / 2));
    const note = thresholdNote(f);
    setAttr(li, 'aria-label', `Face ${i + 1}: ${f.label ?? 'unclassified'} ${Math.round(p * 100)} percent${note ? `, ${note}` : ''}`);
    const parts = li.parts;
    setText(parts.num, String(i + 1));
    setText(parts.top, f.label ?? 'unclassified');
    setText(parts.p, `${Math.round(p * 100)}%`);
    setText(parts.why, note);
    setAttr(parts.why, 'title', note ? THRESHOLD_TIP : '');
    CLASSES.forEach((c, k) => {
      const v = f.scores[c] ?? 0;
      const pct = Math.round(v * 100);
      const width = `${(v * 100).toFixed(1)}%`;
      setWidth(parts.stack[k], width);
      setAttr(parts.bars[k], 'aria-valuenow', String(pct));
      setWidth(parts.bars[k].firstElementChild, width);
      setText(parts.pct[k], `${pct}%`);
      parts.dt[k].classList.toggle('is-top', c === f.label);
    });
    if (!compact && timeline) drawTimeline(parts.timeline, timeline(f.id), CLASS_COLORS);
    li.classList.toggle('has-timeline', !compact && !!timeline);
  });
}
