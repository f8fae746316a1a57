// The overlay on the picture: each face's box, its label (placed by labels.js so that no two
// overlap) and, if asked, its heat map (heat.js), in canvas pixels, mirrored for a selfie view.
import { placeLabels } from './labels.js';
import { heatCanvas } from './heat.js';

const hit = (a, b) => a && a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Draw `faces` (tracked: id, box, label, scores, and with maps cam + crop) on ctx's canvas.
 * options: mirrored, heatOpacity (0: no maps), colors (per face id), cssWidth (the canvas's
 * width on screen: text keeps its size on screen), compact (many faces: smaller labels without
 * percentages). Returns { labels, heatCrops }: the label rectangles drawn and the crops the maps
 * fill ({cx, cy, side, angle} in canvas pixels, as drawn: mirrored with the view).
 */
export function drawOverlay(ctx, faces, { mirrored, heatOpacity, colors, cssWidth, compact }) {
  const W = ctx.canvas.width;
  const H = ctx.canvas.height;
  const k = W / Math.max(1, cssWidth || W); // canvas px per CSS px
  const flip = (b) => (mirrored ? { ...b, x: W - b.x - b.width } : { ...b });
  // A mirror turns the crop the other way: (x, y) -> (W - x, y) makes angle a into -a.
  const flipCrop = (c) => (mirrored ? { ...c, cx: W - c.cx, angle: -c.angle } : { ...c });
  const heats = heatOpacity > 0 ? faces.filter((f) => f.cam && f.crop) : [];
  for (const f of heats) {
    // The map covers the crop the face was classified on (analyze() explain: emx_crop):
    // centred on it, turned with it, mirrored with the view.
    const c = flipCrop(f.crop);
    ctx.save();
    ctx.globalAlpha = heatOpacity;
    ctx.imageSmoothingEnabled = true;
    ctx.translate(c.cx, c.cy);
    ctx.rotate(c.angle);
    if (mirrored) ctx.scale(-1, 1);
    ctx.drawImage(heatCanvas(f.cam), -c.side / 2, -c.side / 2, c.side, c.side);
    ctx.restore();
  }
  const fontPx = Math.round((compact ? 13 : 15) * k);
  ctx.lineWidth = Math.max(2, (compact ? 2 : 3) * k);
  ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  const boxes = faces.map((f) => flip(f.box));
  const texts = faces.map((f, i) => {
    const p = f.label ? f.scores[f.label] : 0;
    // many faces: number and label only (the percentages are in the rows beside)
    return compact ? `${i + 1} ${f.label ?? 'face'}` : `${i + 1} ${f.label ?? 'face'} ${Math.round(p * 100)}%`;
  });
  const pad = 5 * k;
  const th = fontPx + 8 * k;
  const spots = placeLabels(boxes, texts.map((t) => ({ w: ctx.measureText(t).width + 2 * pad, h: th })), W, H);
  const drawn = [];
  faces.forEach((f, i) => {
    const color = colors[(f.id - 1) % colors.length];
    const b = boxes[i];
    ctx.strokeStyle = color;
    ctx.strokeRect(b.x, b.y, b.width, b.height);
    let r = spots[i];
    let text = texts[i];
    if (!r) { // no free place for the whole label: its number, inside the box's corner
      text = String(i + 1);
      r = { x: b.x, y: b.y, w: ctx.measureText(text).width + 2 * pad, h: th };
      // (unless it would overlap a label: then the box and its row in the list must do)
      if ([...spots, ...drawn].some((d) => hit(d, r))) return;
    }
    ctx.fillStyle = color;
    ctx.fillRect(r.x, r.y, r.w, r.h);
    ctx.fillStyle = '#000';
    ctx.fillText(text, r.x + pad, r.y + 4 * k);
    drawn.push(r);
  });
  return {
    labels: drawn.map((r) => ({ x: Math.round(r.x), y: Math.round(r.y), w: Math.round(r.w), h: Math.round(r.h) })),
    heatCrops: heats.map((f) => flipCrop(f.crop)),
  };
}
