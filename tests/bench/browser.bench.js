// browser.bench.js - the per-face and detect+classify figures in a real browser, beside Node's:
// the same code (perface.js) on the same build (wasm/dist) and frame (frame.js), first in this
// Node process, then in Debian's Chromium, headless, driven by playwright-core (never a
// downloaded browser), on a page next to the demo's server (scripts/serve.js, port 0).
//
//   node [--experimental-wasm-relaxed-simd] tests/bench/browser.bench.js [--runs N] [--rounds R]
//        [--smoke] [--throttle R] [--builds relaxed,simd]
//
// --builds: the .wasm builds compared, taking turns sample by sample (perface.js): relaxed SIMD
// (fused multiply-add) and SIMD128 by default. Chromium runs relaxed SIMD; Node 20 only with
// --experimental-wasm-relaxed-simd (npm run bench passes it), else its relaxed cells are empty.
//
// --throttle R: also run the page with Chromium's CPU throttling at R x (DevTools
// Emulation.setCPUThrottlingRate; 4 ~ a mid-range phone), as a third column.
// --rounds R: run the whole sequence R times (default 2), keep each cell's best median.
// --smoke: 3 samples per figure, short warm-up, one round (npm test keeps it from rotting).
// (Not under --no-experimental-fetch: playwright-core needs the fetch globals.)
// Without /usr/bin/chromium (or CHROMIUM) the browser column is skipped, visibly, exit 0.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as api from '../../wasm/emoxnet.js';
import { MIME, serve } from '../../scripts/serve.js';
import { oneFaceFrame } from './frame.js';
import { BUILDS, measure } from './perface.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGE_FILES = ['browser-page.html', 'perface.js'];
// as scripts/serve.js sends them: the page is cross-origin isolated like the demo
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const args = process.argv.slice(2);
let opts = { runs: 50, group: 10, warm: 200, builds: ['relaxed', 'simd'] };
let throttle = 0;
let rounds = 2;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') opts.runs = Number(args[++i]);
  else if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--smoke') { opts = { ...opts, runs: 3, group: 2, warm: 3 }; rounds = 1; }
  else if (args[i] === '--builds') opts.builds = args[++i].split(',');
  else if (args[i] === '--throttle') throttle = Number(args[++i]);
  else throw new Error(`unknown argument ${args[i]}`);
}

const { frame, face, facePath } = await oneFaceFrame(root);
if (!face) console.log(`(no FER+ face at ${facePath}: the frame has no face, analyze() = detect only)`);
// Node and Chromium cannot take turns call by call (two processes), so the whole sequence runs
// `rounds` times and each cell keeps its best median: on shared cores a load spike then costs a
// round, not the comparison.
const columns = new Map(); // name -> Map(key/build -> row)
const keep = (name, rows) => {
  const cells = columns.get(name) ?? new Map();
  for (const r of rows) {
    const id = `${r.key}/${r.build}`;
    if (!cells.has(id) || r.med < cells.get(id).med) cells.set(id, r);
  }
  columns.set(name, cells);
};

let chromium = null;
if (!existsSync(CHROMIUM)) {
  console.log(`SKIP browser: ${CHROMIUM} not found (sh scripts/setup.sh installs Debian's chromium)`);
} else {
  ({ chromium } = await import('playwright-core'));
}
const { server, url } = await serve({ port: 0 });
const browser = chromium && await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
try {
  const page0 = new URL(`/tests/bench/browser-page.html?runs=${opts.runs}&group=${opts.group}&warm=${opts.warm}&builds=${opts.builds}`, url).href;
  for (let round = 0; round < rounds; round++) {
    keep(`Node ${process.version}`, await measure(api, { frame, ...opts }));
    for (const rate of !browser ? [] : throttle > 1 ? [1, throttle] : [1]) {
      const page = await browser.newPage();
      // scripts/serve.js serves only what the demo needs (web/, wasm/, models/); the page's own
      // files come from here, and the frame bytes from this process
      await page.route('**/tests/bench/*', (route) => {
        const name = basename(new URL(route.request().url()).pathname);
        const body = name === 'frame.rgb' ? Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength)
          : PAGE_FILES.includes(name) ? readFileSync(join(root, 'tests', 'bench', name)) : null;
        if (!body) return route.fulfill({ status: 404, body: `not found: ${name}` });
        return route.fulfill({ status: 200, body, headers: { ...ISOLATION, 'Content-Type': MIME[extname(name)] ?? 'application/octet-stream' } });
      });
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      if (rate > 1) {
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Emulation.setCPUThrottlingRate', { rate });
      }
      await page.goto(page0);
      const r = await page.evaluate(() => window.benchResult).catch((e) => {
        throw new Error(`benchmark page failed: ${e.message}${errors.length ? ` (${errors.join('; ')})` : ''}`);
      });
      if (!r.simd) throw new Error('Chromium reports no WebAssembly SIMD');
      if (opts.builds.includes('relaxed') && !r.relaxed) console.log('(this Chromium has no relaxed SIMD: its relaxed cells stay empty)');
      const version = /Chrom(?:e|ium)\/([\d.]+)/.exec(r.userAgent)?.[1] ?? browser.version();
      keep(`Chromium ${version} headless${rate > 1 ? `, CPU ${rate}x throttled` : ''}`, r.rows);
      await page.close();
    }
  }
} finally {
  await browser?.close();
  server.close();
}

const f3 = (v) => v.toFixed(3);
const cols = [...columns].map(([name, cells]) => ({ name, cells }));
// rows: every figure x build any column measured, in measure()'s order
const ids = [...new Map(cols.flatMap((c) => [...c.cells].map(([id, r]) => [id, r]))).entries()];
const cell = (c, id) => c.cells.get(id);
const fmt = (r) => (r ? `${f3(r.med)} (${f3(r.p95)})` : '-');
console.log(`ms, median (p95) of ${opts.runs} samples of ${opts.group} calls (detect, analyze, ensemble: 1 call) after ${opts.warm} warm-up calls, best of ${rounds} round(s); builds taking turns sample by sample; single thread`);
console.log();
console.log(`| figure | build | ${cols.map((c) => c.name).join(' | ')} |${cols.length > 1 ? ' Chromium / Node |' : ''}`);
console.log(`|---|---|${cols.map(() => '---:|').join('')}${cols.length > 1 ? '---:|' : ''}`);
for (const [id, row] of ids) {
  const a = cell(cols[0], id), b = cols[1] && cell(cols[1], id);
  const ratio = cols.length > 1 ? ` ${a && b ? (b.med / a.med).toFixed(2) : '-'} |` : '';
  console.log(`| ${row.label} | ${BUILDS[row.build].label} | ${cols.map((c) => fmt(cell(c, id))).join(' | ')} |${ratio}`);
}
if (opts.builds.includes('relaxed') && opts.builds.includes('simd')) {
  console.log();
  console.log('Relaxed SIMD (fused multiply-add) speed-up over SIMD128: SIMD128 median / relaxed median, same column');
  console.log();
  console.log(`| figure | ${cols.map((c) => c.name).join(' | ')} |`);
  console.log(`|---|${cols.map(() => '---:|').join('')}`);
  for (const [id, row] of ids.filter(([, r]) => r.build === 'relaxed')) {
    const sid = `${row.key}/simd`;
    console.log(`| ${row.label} | ${cols.map((c) => (cell(c, id) && cell(c, sid) ? `${(cell(c, sid).med / cell(c, id).med).toFixed(2)}x` : '-')).join(' | ')} |`);
  }
}
console.log();
console.log(`analyze(): ${cols.map((c) => `${c.name}: ${[...c.cells.values()].filter((r) => r.note).map((r) => `${BUILDS[r.build].label} ${r.note}`).join(', ') || '-'}`).join('; ')}`);
