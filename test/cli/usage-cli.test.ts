// The command line's own conduct, as a user meets it: help for every command and subcommand (both
// `trove CMD --help` and `trove help CMD`), --version, one format and exit code 2 for every usage
// error with a "did you mean" where a typo is likely, negative numbers refused in words, and a
// port in use answered with a sentence instead of `listen EADDRINUSE`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TROVE = path.resolve('bin/trove.js');
let dir = '';

async function trove(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TROVE, ...args], { env: { ...process.env, TROVE_EP: 'cpu', TROVE_DATA_DIR: path.join(dir, 'data') } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-usage-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const COMMANDS = ['index', 'search', 'status', 'serve', 'embed', 'rerank', 'model list', 'model pull', 'model build', 'model inspect', 'model tiny'];

test('every command and subcommand has help: trove CMD --help, trove CMD -h and trove help CMD, exit 0', async () => {
  for (const command of COMMANDS) {
    const words = command.split(' ');
    for (const args of [[...words, '--help'], ['help', ...words]]) {
      const shown = await trove(args);
      assert.equal(shown.code, 0, `${args.join(' ')}: ${shown.stderr}`);
      assert.match(shown.stdout, new RegExp(`^Usage: trove ${command} `), args.join(' '));
      assert.match(shown.stdout, /^Options:$/m, args.join(' '));
      assert.match(shown.stdout, /^ {2}-h, --help +show this help$/m, args.join(' '));
      assert.equal(shown.stderr, '', args.join(' '));
    }
  }
  const short = await trove(['status', '-h']);
  assert.equal(short.code, 0);
  assert.match(short.stdout, /^Usage: trove status /);

  // The group: 'trove model --help' lists its commands (it was an error).
  for (const args of [['model', '--help'], ['help', 'model'], ['model', '-h']]) {
    const group = await trove(args);
    assert.equal(group.code, 0, `${args.join(' ')}: ${group.stderr}`);
    assert.match(group.stdout, /^Usage: trove model <command> \[options\]/);
    for (const sub of ['list', 'pull', 'build', 'inspect', 'tiny']) assert.match(group.stdout, new RegExp(`^ {2}model ${sub} `, 'm'));
  }
  const overview = await trove(['--help']);
  assert.equal(overview.code, 0);
  for (const command of COMMANDS) assert.match(overview.stdout, new RegExp(`^ {2}${command} `, 'm'));
  assert.ok(!existsSync(path.join(dir, 'data')), 'help creates no library');
});

test('--version prints the version from package.json', async () => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const shown = await trove(['--version']);
  assert.equal(shown.code, 0);
  assert.equal(shown.stdout, `trove ${version}\n`);
});

test('usage errors: one format (trove CMD: message, then the usage line), exit 2, with "did you mean"', async () => {
  const cases: { args: string[]; message: RegExp; usage: RegExp }[] = [
    { args: ['index', dir, '--onc'], message: /^trove index: unknown option '--onc'; did you mean '--once'\?$/, usage: /^Usage: trove index <folder> \[options\] {3}\('trove index --help' for all options\)$/ },
    { args: ['search', 'x', '--limt', '3'], message: /^trove search: unknown option '--limt'; did you mean '--limit'\?$/, usage: /^Usage: trove search / },
    { args: ['status', '--jsno'], message: /^trove status: unknown option '--jsno'; did you mean '--json'\?$/, usage: /^Usage: trove status / },
    { args: ['model', 'pull', '--precison', 'fp16'], message: /^trove model pull: unknown option '--precison'; did you mean '--precision'\?$/, usage: /^Usage: trove model pull / },
    { args: ['status', 'json'], message: /^trove status: unexpected argument 'json'; did you mean '--json'\?$/, usage: /^Usage: trove status / },
    { args: ['search', 'x', '--limit'], message: /^trove search: --limit needs a value: --limit N\.$/, usage: /^Usage: trove search / },
    { args: ['search', 'x', '--limit', '--json'], message: /^trove search: --limit needs a value \(--limit N\), but '--json' came after it\.$/, usage: /^Usage: trove search / },
    { args: ['index', dir, '--once=yes'], message: /^trove index: --once takes no value \(got 'yes'\); write just --once\.$/, usage: /^Usage: trove index / },
    { args: ['search', 'x', '--kind', 'photo'], message: /^trove search: --kind must be one of image, video, pdf, text, document, got 'photo'\.$/, usage: /^Usage: trove search / },
  ];
  for (const { args, message, usage } of cases) {
    const result = await trove(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    const [first, second, ...rest] = result.stderr.trimEnd().split('\n');
    assert.match(first ?? '', message, args.join(' '));
    assert.match(second ?? '', usage, args.join(' '));
    assert.deepEqual(rest, [], `${args.join(' ')}: two lines, no stack`);
    assert.equal(result.stdout, '');
  }
  for (const [args, message] of [
    [['idnex', dir], /^trove: unknown command 'idnex'; did you mean 'index'\?$/m],
    [['model', 'pul'], /^trove: unknown 'model' command 'pul'; did you mean 'model pull'\?$/m],
    [['--verison'], /^trove: unknown option '--verison'; did you mean '--version'\?$/m],
    [['model'], /^trove: 'trove model' needs a command\.$/m],
  ] as const) {
    const result = await trove([...args]);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  assert.ok(!existsSync(path.join(dir, 'data')), 'a usage error creates no library');
});

test('negative numbers are refused in words, not as an "ambiguous" option', async () => {
  const cases: [string[], RegExp][] = [
    [['search', 'x', '--limit', '-3'], /^trove search: --limit must be a whole number from 1 to 500, got '-3'\.$/m],
    [['search', 'x', '--limit=-3'], /^trove search: --limit must be a whole number from 1 to 500, got '-3'\.$/m],
    [['search', 'x', '--limit', '2.5'], /^trove search: --limit must be a whole number from 1 to 500, got '2\.5'\.$/m],
    [['serve', '--port', '-1'], /^trove serve: --port must be a whole number from 0 to 65535, got '-1'\.$/m],
    [['model', 'tiny', '--out', path.join(dir, 'tiny'), '--seed', '-7'], /^trove model tiny: --seed must be a whole number from 0 to \d+, got '-7'\.$/m],
    [['embed', '--text', 'x', '--inputs-only', '--model', dir, '--dims', '-32'], /^trove embed: --dims must be a positive integer, got '-32'\.$/m],
  ];
  for (const [args, message] of cases) {
    const result = await trove(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
  }
});

test('a port in use gets a sentence and exit 1, before the engine starts', async () => {
  const holder: Server = createServer();
  const port = await new Promise<number>((resolve) => holder.listen({ port: 0, host: '127.0.0.1' }, () => resolve((holder.address() as { port: number }).port)));
  try {
    const result = await trove(['serve', '--port', String(port), '--data', path.join(dir, 'serve-data')]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr.trim(), `trove: port ${port} is already in use (another Trove, or another program). Choose another with --port N, or leave --port out to take a free one.`);
    assert.doesNotMatch(result.stderr, /EADDRINUSE/);
    assert.ok(!existsSync(path.join(dir, 'serve-data')), 'refused before the library was opened');
  } finally {
    holder.close();
  }
});
