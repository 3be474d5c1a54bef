// `trove … | head`: a reader that stops early closes the pipe; trove stops quietly (exit 0, nothing
// on stderr) instead of crashing with a stack trace about EPIPE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

test('output into a pipe the reader has closed ends quietly', async () => {
  const child = spawn(process.execPath, [path.resolve('bin/trove.js'), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The reader is gone before trove writes a line (it takes a moment to start).
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(stderr, '', 'no stack trace');
  assert.equal(code, 0);
});
