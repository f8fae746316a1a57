// scripts/stage.sh, the guard every CI stage runs under (scripts/test.sh): a stage that hangs
// must fail, named, within its limit, and Node's test runner as the stages call it ($NODE_TEST)
// must neither wait forever on a test file whose process does not exit nor on a test that never
// settles. Session 20's CI stopped after one Node test file and was killed at 5400 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ROOT } from './helpers.js';

// Runs `sh -c SCRIPT` in the repository with scripts/stage.sh sourced; kills it after `kill` s.
function withStage(script, env = {}, kill = 60) {
  const t0 = Date.now();
  // without NODE_TEST_CONTEXT: a runner started from inside a test file would skip its files
  const { NODE_TEST_CONTEXT, ...parent } = process.env;
  const r = spawnSync('sh', ['-c', `. scripts/stage.sh; status=0; ${script}; echo "status=$status"`], {
    cwd: ROOT, encoding: 'utf8', timeout: kill * 1000, env: { ...parent, ...env },
  });
  return { out: r.stdout + r.stderr, seconds: (Date.now() - t0) / 1000, killed: r.signal !== null };
}

test('stage: a passing stage reports its time; a failing one sets status=1 and the next still runs', () => {
  const r = withStage('stage ok 10 true; stage bad 10 false; stage after 10 true');
  assert.match(r.out, /== ok\n-- ok: \d+ s, exit 0/);
  assert.match(r.out, /-- bad: \d+ s, exit 1/);
  assert.match(r.out, /== after\n-- after: \d+ s, exit 0/);
  assert.match(r.out, /status=1$/m);
});

test('stage: a stage that hangs is ended at its limit, with its children, and fails named', () => {
  // sh -c: the sleep is a child of the stage's command; timeout(1) ends the whole group
  const r = withStage('stage hang 2 sh -c "sleep 100; echo woke"; stage next 10 true');
  assert.ok(!r.killed && r.seconds < 30, `took ${r.seconds} s`);
  assert.match(r.out, /-- hang: TIMED OUT after \d+ s \(limit 2 s\)/);
  assert.doesNotMatch(r.out, /woke/);
  assert.match(r.out, /-- next: \d+ s, exit 0/);
  assert.match(r.out, /status=1$/m);
});

test('$NODE_TEST ends a test file whose process would not exit; its passing tests pass', () => {
  const r = withStage('stage open 50 $NODE_TEST tests/fixtures/hang/open-handle.mjs', { NODE_TEST_TIMEOUT_MS: '20000' }, 90);
  assert.ok(!r.killed, `runner still waiting after ${r.seconds} s:\n${r.out}`);
  assert.match(r.out, /ok 1 - passes, then leaves a timer running/);
  assert.match(r.out, /-- open: \d+ s, exit 0/);
  assert.ok(r.seconds < 20, `took ${r.seconds} s`);
});

test('$NODE_TEST fails a test that never settles after NODE_TEST_TIMEOUT_MS', () => {
  const r = withStage('stage stuck 50 $NODE_TEST tests/fixtures/hang/never-settles.mjs', { NODE_TEST_TIMEOUT_MS: '2000' }, 90);
  assert.ok(!r.killed, `runner still waiting after ${r.seconds} s:\n${r.out}`);
  // the file (its process) or the test itself, whichever the runner times out first
  assert.match(r.out, /not ok \d+ - .*never.settles/);
  assert.match(r.out, /timed out after 2000ms/);
  assert.match(r.out, /-- stuck: \d+ s, exit 1/);
  assert.ok(r.seconds < 40, `took ${r.seconds} s`);
});
