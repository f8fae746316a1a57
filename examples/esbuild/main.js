// esbuild does not copy files referenced by new URL('...', import.meta.url), so the package's
// files are copied next to the bundle by `emoxnet assets dist/emoxnet` (see package.json) and
// init({ baseUrl }) points the package there, once, for every model and the .wasm.
import { init, load, EmxError } from 'emoxnet';

init({ baseUrl: new URL('./emoxnet/', import.meta.url) });

async function main() {
  const status = document.querySelector("#status");
  try {
    const photo = document.querySelector("#photo");
    await photo.decode(); // classify/analyze need a loaded image
    const model = await load("lite");
    // An <img>, <video>, canvas, ImageBitmap, VideoFrame or ImageData goes straight in.
    const faces = await model.analyze(photo);
    status.textContent = faces.length
      ? faces.map((f) => `${f.label} ${Math.round(100 * f.scores[f.label])}%`).join(", ")
      : "no face found";
    document.body.dataset.result = JSON.stringify(faces.map((f) => ({ label: f.label, box: f.box })));
    document.body.dataset.variant = model.variant; // the .wasm build that ran: 'relaxed', 'simd' or 'scalar'
    model.dispose();
  } catch (err) {
    // Every error the package throws on purpose is an EmxError with a .code.
    status.textContent = err instanceof EmxError ? `${err.code}: ${err.message}` : String(err);
    document.body.dataset.error = status.textContent;
  }
}
main();
