// The FER+ majority protocol (bin/ferplus.js), on hand-made vote rows and on the real label.csv
// files, whose kept counts are published in /work/shared/data/README.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FERPLUS_CLASSES, majorityLabel, parseLabelCsv, keptRows, protocolCounts, meanClassRecall, expectedCalibrationError,
} from '../../bin/ferplus.js';
import { FERPLUS_DIR } from './helpers.js';

test('majorityLabel applies the protocol', () => {
  //                neu hap sur sad ang dis fea con unk NF
  assert.equal(majorityLabel([10, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0);
  assert.equal(majorityLabel([4, 0, 0, 0, 1, 0, 0, 4, 1, 0]), -1); // 4 of 8: not a majority
  assert.equal(majorityLabel([1, 0, 0, 1, 0, 2, 0, 6, 0, 0]), 7); // single votes dropped: 6 of 8
  assert.equal(majorityLabel([7, 0, 0, 0, 2, 0, 0, 1, 0, 0]), 0);
  assert.equal(majorityLabel([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), -1); // all noise: s = 0
  assert.equal(majorityLabel([0, 0, 0, 0, 0, 0, 0, 0, 10, 0]), -1); // unknown wins
  assert.equal(majorityLabel([2, 0, 0, 0, 0, 0, 0, 0, 0, 8]), -1); // not a face
  assert.equal(majorityLabel([3, 3, 0, 0, 0, 0, 0, 0, 0, 0]), -1); // tie: no majority
  assert.equal(majorityLabel([0, 3, 2, 0, 0, 0, 0, 0, 0, 0]), 1); // 3 > 2.5
  assert.equal(majorityLabel([0, 0, 5, 1, 1, 1, 1, 1, 0, 0]), 2); // the 1s vanish: 5 of 5
  assert.equal(majorityLabel([0, 0, 0, 0, 0, 0, 2, 0, 0, 0]), 6);
  assert.throws(() => majorityLabel([1, 2, 3]));
});

test('parseLabelCsv: quoted boxes, CRLF, a header line, errors with line numbers', () => {
  const text = 'Image name,Face box,n,h,s,sa,a,d,f,c,u,nf\r\n' +
    'fer1.png,"(0, 0, 48, 48)",4,0,0,0,1,0,0,4,1,0\r\n' +
    '\r\n' +
    'fer2.png,"(2, 3, 40, 41)",0,9,0,0,0,0,0,0,1,0\n';
  const rows = parseLabelCsv(text);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], { file: 'fer1.png', box: { x: 0, y: 0, width: 48, height: 48 }, votes: [4, 0, 0, 0, 1, 0, 0, 4, 1, 0] });
  assert.deepEqual(rows[1].box, { x: 2, y: 3, width: 40, height: 41 });
  const kept = keptRows(rows);
  assert.equal(kept.length, 1);
  assert.equal(kept[0].file, 'fer2.png');
  assert.equal(FERPLUS_CLASSES[kept[0].label], 'happiness');
  assert.throws(() => parseLabelCsv('a.png,"(0, 0, 1, 1)",1,2,3\n'), /line 1/);
  assert.throws(() => parseLabelCsv('a.png,"(0, 0, 1, 1)",1,0,0,0,0,0,0,0,0,0\nb.png,x,1,2\n'), /line 2/);
  // a malformed box is marked (undefined) for the caller to report; an empty one is the whole image
  assert.equal(parseLabelCsv('a.png,bad box,1,0,0,0,0,0,0,0,0,9\n')[0].box, undefined);
  assert.equal(parseLabelCsv('a.png,"(NaN, 0, 48, 48)",1,0,0,0,0,0,0,0,0,9\n')[0].box, undefined);
  assert.equal(parseLabelCsv('a.png,,1,0,0,0,0,0,0,0,0,9\n')[0].box, null);
});

const splits = [
  ['FER2013Valid', 3191, { neutral: 1180, happiness: 862, surprise: 411, sadness: 348, anger: 289, disgust: 25, fear: 60, contempt: 16 }],
  ['FER2013Train', 25045, null],
];
for (const [split, total, perClass] of splits) {
  test(`protocol counts on ${split}: ${total} kept`, (t) => {
    const csv = join(FERPLUS_DIR, split, 'label.csv');
    if (!existsSync(csv)) {
      t.skip(`${csv} not found (set FERPLUS_DIR)`);
      return;
    }
    const counts = protocolCounts(parseLabelCsv(readFileSync(csv, 'utf8')));
    assert.equal(counts.total, total);
    if (perClass) assert.deepEqual(counts.per_class, perClass);
  });
}

test('meanClassRecall averages the recall of the classes that have images', () => {
  // class 0: 3 of 4 right; class 1: 0 of 2; class 2: no images (left out, not counted as 0).
  const confusion = [[3, 1, 0], [2, 0, 0], [0, 0, 0]];
  assert.equal(meanClassRecall(confusion), (0.75 + 0) / 2);
  assert.equal(meanClassRecall([[0, 0], [0, 0]]), null);
});

test('expectedCalibrationError: per-bin |accuracy - confidence| weighted by bin share', () => {
  // Perfectly calibrated: 0.7-confidence answers right 7 times in 10.
  const conf = new Array(10).fill(0.7);
  const right = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0].map(Boolean);
  assert.ok(Math.abs(expectedCalibrationError(conf, right)) < 1e-12);
  // Over-confident: 0.95 but right half the time -> 0.45. Two bins: (0.95, all wrong) and
  // (0.3, all right) -> 0.5 * 0.95 + 0.5 * 0.7.
  assert.ok(Math.abs(expectedCalibrationError([0.95, 0.95], [true, false]) - 0.45) < 1e-12);
  assert.ok(Math.abs(expectedCalibrationError([0.95, 0.3], [false, true]) - (0.5 * 0.95 + 0.5 * 0.7)) < 1e-12);
  // Bin edges: (0, 1/15] is the first bin, so 1/15 (right) and 0.05 (wrong) share it:
  // |1 - (1/15 + 0.05)| / 2, not (|1 - 1/15| + 0.05) / 2 as two bins would give.
  assert.ok(Math.abs(expectedCalibrationError([1 / 15, 0.05], [true, false]) - (1 - 1 / 15 - 0.05) / 2) < 1e-12);
  assert.ok(Math.abs(expectedCalibrationError([1, 0], [true, false])) < 1e-12); // 1.0 and 0 do not crash
  assert.equal(expectedCalibrationError([], []), null);
});
