// Golden nets (tests/golden/NAME.emx + NAME.input.f32 + NAME.expected.f32, listed in
// manifest.txt as `NAME N_CASES`), written by the exporter from PyTorch outputs: model.run()
// must reproduce them within 1e-4 in both wasm builds and with the reference ops.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { load } from '../../wasm/emoxnet.js';
import { GOLDEN_DIR, assertBuilt, goldenManifest, readF32 } from './helpers.js';

const TOL = 1e-4;
const manifest = [...goldenManifest(), ...goldenManifest('shipped.txt')];

before(assertBuilt);

if (manifest.length === 0) {
  test('golden nets', (t) => t.skip(`no ${join(GOLDEN_DIR, 'manifest.txt')} yet: nothing to compare`));
}

for (const { name, cases, model } of manifest) {
  test(`golden ${name} (${cases} cases)`, async (t) => {
    assert.ok(Number.isInteger(cases) && cases > 0, `manifest: bad case count for ${name}`);
    const emx = model ? join(GOLDEN_DIR, '..', '..', model) : join(GOLDEN_DIR, `${name}.emx`);
    for (const f of [emx, join(GOLDEN_DIR, `${name}.input.f32`), join(GOLDEN_DIR, `${name}.expected.f32`)]) {
      assert.ok(existsSync(f), `missing ${f}`);
    }
    const bytes = readFileSync(emx);
    const input = readF32(join(GOLDEN_DIR, `${name}.input.f32`));
    const expected = readF32(join(GOLDEN_DIR, `${name}.expected.f32`));
    for (const simd of [true, false]) {
      for (const reference of [false, true]) {
        const m = await load(bytes, { simd, reference });
        const inLen = m.inputSpec.width * m.inputSpec.height * m.inputSpec.channels;
        const K = m.classNames.length;
        assert.equal(input.length, cases * inLen, `${name}.input.f32 holds ${input.length} floats, not ${cases} x ${inLen}`);
        assert.equal(expected.length, cases * K, `${name}.expected.f32 holds ${expected.length} floats, not ${cases} x ${K}`);
        let worst = 0;
        for (let c = 0; c < cases; c++) {
          const got = m.run(input.subarray(c * inLen, (c + 1) * inLen));
          for (let k = 0; k < K; k++) {
            const d = Math.abs(got[k] - expected[c * K + k]);
            if (!(d <= TOL)) assert.fail(`${name} simd=${simd} reference=${reference} case ${c} class ${k}: got ${got[k]}, expected ${expected[c * K + k]}`);
            worst = Math.max(worst, d);
          }
        }
        t.diagnostic(`simd=${simd} reference=${reference}: max |diff| ${worst.toExponential(2)}`);
        m.dispose();
      }
    }
  });
}
