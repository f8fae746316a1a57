// The group summary shown when several faces are in view: "5 of 6 happy · 1 neutral".

const ADJ = {
  neutral: 'neutral', happiness: 'happy', surprise: 'surprised', sadness: 'sad',
  anger: 'angry', disgust: 'disgusted', fear: 'fearful', contempt: 'contemptuous',
};

/** '' for fewer than two faces; else the most common expression first. */
export function groupSummary(faces) {
  if (faces.length < 2) return '';
  const counts = new Map();
  for (const f of faces) {
    const k = f.label ?? 'unclassified';
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const word = (k) => ADJ[k] || k;
  const [top, n] = sorted[0];
  return [`${n} of ${faces.length} ${word(top)}`, ...sorted.slice(1).map(([k, m]) => `${m} ${word(k)}`)].join(' · ');
}
