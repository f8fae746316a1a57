// balance.js - load()'s `balance` option: post-hoc prior correction of an FER+ model's
// probabilities, p'_i proportional to p_i * prior_i^(-b), renormalised. The shipped models learnt
// FER+ Train's skewed prior (a third of the faces neutral, under 0.5% contempt or disgust), so
// they rarely name a rare expression; dividing part of that prior out (b in 0..1; 1: the
// class-balanced posterior) raises the rare classes' recall for a little top-1 accuracy, with
// no retraining. It applies only to classes in exactly this order: the prior is per index.

/** The 8 FER+ expressions, in the shipped models' output order (and the prior's). */
export const EXPRESSIONS = Object.freeze(['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt']);

// FER+ Train images per class under the majority protocol (25045 kept), from
//   cd training && /usr/bin/python3 -c "import numpy as np, ferplus as f;
//     _, v = f.read_label_csv('../../shared/data/ferplus/FER2013Train');
//     y = f.majority_labels(v); print(np.bincount(y[y >= 0], minlength=8).tolist())"
// The prior is these counts over their sum, kept as counts so that it is exact:
//   0.348692 0.290836 0.125215 0.120663 0.0837692 0.00463166 0.0214015 0.00479138
const TRAIN_COUNTS = [8733, 7284, 3136, 3022, 2098, 116, 536, 120];
const TRAIN_TOTAL = TRAIN_COUNTS.reduce((a, b) => a + b, 0);

/** FER+ Train's class prior (majority protocol), in EXPRESSIONS order. */
export const FERPLUS_TRAIN_PRIOR = Object.freeze(TRAIN_COUNTS.map((c) => c / TRAIN_TOTAL));

/** Whether a model's classes are the 8 FER+ expressions in their order (balance applies). */
export function isFerplusOrder(classNames) {
  return classNames.length === EXPRESSIONS.length && EXPRESSIONS.every((c, i) => classNames[i] === c);
}

/** The per-class factors prior^-b for balance b (> 0), in EXPRESSIONS order. */
export function balanceWeights(b) {
  return Float64Array.from(FERPLUS_TRAIN_PRIOR, (p) => p ** -b);
}

/**
 * probs (a model's probabilities) times weights, renormalised to sum to 1, in float64. Scores
 * that cannot be renormalised (all zero: a face analyze() could not crop) come back as they are.
 */
export function applyBalance(probs, weights) {
  const out = Float64Array.from(probs, (p, i) => p * weights[i]);
  let total = 0;
  for (const v of out) total += v;
  if (!(total > 0 && Number.isFinite(total))) return Float64Array.from(probs);
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

/** The index of the highest value (the first one on ties, as the core picks labels). */
export function argmaxIndex(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * The label index the core picks (emx_pick_label in include/emoxnet.h): the class whose raw
 * probability (the model's own output) reaches its threshold (thresholds[i] > 0; of several,
 * the one with the lowest threshold, then the likelier), else the highest of `scores` (the ones
 * shown: raw, or balanced), the first on ties. thresholds: one per class (0: none), or null. A
 * calibrated model file carries them (the shipped ones: contempt and disgust, which they rarely
 * rank first even when they are the answer; the lowest threshold marks the class the model
 * under-ranks most); they were fitted on the raw output, so balanced scores never reach them.
 */
export function pickLabel(scores, thresholds, raw = scores) {
  const best = argmaxIndex(scores);
  if (!thresholds) return best;
  let hit = -1;
  for (let i = 0; i < raw.length; i++) {
    const t = thresholds[i];
    if (t > 0 && raw[i] >= t && (hit < 0 || t < thresholds[hit] || (t === thresholds[hit] && raw[i] > raw[hit]))) hit = i;
  }
  return hit >= 0 ? hit : best;
}

/**
 * The raw probabilities behind balanced scores (applyBalance's inverse: scores / weights,
 * renormalised), for a label of smoothed balanced scores (FaceTracker).
 */
export function unbalance(scores, weights) {
  return applyBalance(scores, Float64Array.from(weights, (w) => 1 / w));
}
