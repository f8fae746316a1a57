// cam.js - class activation maps as the package hands them out (explain(), analyze() with
// explain: true): the core's raw map (logit units, emx_explain in include/emoxnet.h) made
// 0..1, so that one colour ramp fits every face and model.

/**
 * In place: negative evidence clipped to 0 (ReLU), the rest divided by the maximum (all zeros
 * when nothing is positive). Returns data.
 */
export function normaliseCam(data) {
  let max = 0;
  for (const v of data) if (v > max) max = v;
  for (let i = 0; i < data.length; i++) data[i] = max > 0 && data[i] > 0 ? data[i] / max : 0;
  return data;
}
