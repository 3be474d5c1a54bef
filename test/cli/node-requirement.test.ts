// The Node.js requirement is enforced where `trove` starts: an older Node gets one sentence that
// names the version needed and how to get it (not a syntax error or a native module's crash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { MINIMUM_NODE, nodeVersionProblem } from '../../bin/node-requirement.js';

const run = promisify(execFile);
const TROVE = path.resolve('bin/trove.js');

test('versions below the minimum are refused, the minimum and newer ones pass', () => {
  assert.equal(nodeVersionProblem(MINIMUM_NODE), null);
  assert.equal(nodeVersionProblem('20.20.2'), null);
  assert.equal(nodeVersionProblem('v22.12.0'), null);
  assert.equal(nodeVersionProblem('24.0.0'), null);
  assert.match(nodeVersionProblem('20.8.1') ?? '', /^trove needs Node\.js 20\.9\.0 or newer; this is Node\.js 20\.8\.1\. Install a current LTS release/);
  assert.match(nodeVersionProblem('18.19.1') ?? '', /this is Node\.js 18\.19\.1/);
});

test('bin/trove.js on an older Node says so and exits 1 before loading anything', async () => {
  // The child believes it is Node 18 (process.versions.node is what the check reads).
  const fakeOld = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"18.19.1"})';
  await assert.rejects(run(process.execPath, ['--import', fakeOld, TROVE, '--version']), (e: { code: number; stdout: string; stderr: string }) => {
    assert.equal(e.code, 1);
    assert.equal(e.stdout, '');
    assert.match(e.stderr, /^trove needs Node\.js 20\.9\.0 or newer; this is Node\.js 18\.19\.1\./);
    return true;
  });
  const { stdout } = await run(process.execPath, [TROVE, '--version']);
  assert.match(stdout, /^trove \d+\.\d+\.\d+\n$/);
});
