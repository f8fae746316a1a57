// Where each face's label goes on the picture, so that no two labels overlap and labels cover
// faces as little as possible (group photos: issue 19). Pure geometry, no DOM.

const overlap = (a, b) => Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) *
  Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

/**
 * boxes: face boxes {x, y, width, height} in canvas pixels (already mirrored if the view is);
 * sizes: each label's {w, h}. Returns one rectangle {x, y, w, h} per face, or null where no free
 * place was found (the caller then draws the face's number only). Candidates, in order: above
 * the box, below it, inside its top, inside its bottom, each aligned left or right; the first
 * that overlaps no placed label and no other face wins, else the one that covers least of the
 * other faces while still overlapping no label.
 */
export function placeLabels(boxes, sizes, W, H) {
  const faces = boxes.map((b) => ({ x: b.x, y: b.y, w: b.width, h: b.height }));
  const placed = [];
  // bigger faces first: they are the ones a viewer looks at, and have the most room
  const order = boxes.map((_, i) => i).sort((i, j) => boxes[j].width - boxes[i].width);
  const out = new Array(boxes.length).fill(null);
  for (const i of order) {
    const f = faces[i];
    const { w, h } = sizes[i];
    const xs = [f.x, f.x + f.w - w];
    const ys = [f.y - h, f.y + f.h, f.y, f.y + f.h - h];
    let best = null;
    let bestCost = Infinity;
    for (const y0 of ys) {
      for (const x0 of xs) {
        const r = { x: Math.min(Math.max(0, x0), W - w), y: Math.min(Math.max(0, y0), H - h), w, h };
        if (placed.some((p) => overlap(p, r) > 0)) continue;
        const cost = faces.reduce((s, g, j) => s + (j === i ? 0 : overlap(g, r)), 0) + overlap(f, r) * 0.05;
        if (cost < bestCost) {
          best = r;
          bestCost = cost;
        }
        if (cost === 0) break;
      }
      if (bestCost === 0) break;
    }
    if (best) placed.push(best);
    out[i] = best;
  }
  return out;
}
