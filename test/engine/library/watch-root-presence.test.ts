// The watcher's root state machine alone (library/common/watch-root-presence.ts), on a fake clock
// with a fake probe: found, missing, back, replaced, closed; what is forgotten and announced, in
// which order; checks that never overlap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RootPresence } from '../../../electron/engine/library/common/watch-root-presence.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';

function harness(identity: string | null, options: { failWatch?: boolean } = {}) {
  const clock = new FakeClock();
  const disk = { identity };
  const log: string[] = [];
  const errors: unknown[] = [];
  let probes = 0;
  let blockProbe: Promise<void> | null = null;
  const presence = new RootPresence({
    checkEveryMs: 2000,
    clock,
    probe: async () => {
      probes += 1;
      if (blockProbe !== null) await blockProbe;
      return disk.identity;
    },
    watch: async () => {
      log.push('watch');
      if (options.failWatch) throw new Error('EMFILE: too many open files');
    },
    unwatch: async () => void log.push('unwatch'),
    forget: (why) => void log.push(`forget ${why}`),
    announce: async (event) => void log.push(event),
    onError: (error) => void errors.push(error),
  });
  return {
    clock,
    disk,
    log,
    errors,
    presence,
    probes: () => probes,
    block: () => {
      let release!: () => void;
      blockProbe = new Promise((resolve) => (release = resolve));
      return () => {
        blockProbe = null;
        release();
      };
    },
  };
}

test('a root that is there is watched at start, nothing announced', async () => {
  const h = harness('1:100');
  assert.equal(h.presence.state, 'starting');
  await h.presence.start();
  assert.equal(h.presence.state, 'watching');
  assert.deepEqual(h.log, ['watch']);
  h.presence.close();
});

test('a root missing at start is announced missing and not watched', async () => {
  const h = harness(null);
  await h.presence.start();
  assert.equal(h.presence.state, 'missing');
  assert.deepEqual(h.log, ['root-missing']);
  h.presence.close();
});

test('gone, then back: forget everything, stop, announce missing; then watch again and ask for a rescan', async () => {
  const h = harness('1:100');
  await h.presence.start();
  h.disk.identity = null;
  await h.clock.advance(1999);
  assert.equal(h.presence.state, 'watching', 'not checked yet');
  await h.clock.advance(1);
  assert.equal(h.presence.state, 'missing');
  assert.deepEqual(h.log, ['watch', 'forget missing', 'unwatch', 'root-missing']);
  await h.clock.advance(4000);
  assert.deepEqual(h.log.length, 4, 'still missing: nothing more');
  h.disk.identity = '1:100';
  await h.clock.advance(2000);
  assert.equal(h.presence.state, 'watching');
  assert.deepEqual(h.log.slice(4), ['watch', 'root-present']);
  h.presence.close();
});

test('another folder at the same place: forget the changes waiting, watch anew, ask for a rescan', async () => {
  const h = harness('1:100');
  await h.presence.start();
  h.disk.identity = '1:200'; // deleted and recreated, or another drive mounted there
  await h.presence.check();
  assert.equal(h.presence.state, 'watching');
  assert.deepEqual(h.log, ['watch', 'forget replaced', 'unwatch', 'watch', 'root-present']);
  await h.presence.check();
  assert.equal(h.log.length, 5, 'the same folder again: nothing');
  h.presence.close();
});

test('confirm: true while the root is there; otherwise it is missing from now on, announced once', async () => {
  const h = harness('1:100');
  await h.presence.start();
  assert.equal(await h.presence.confirm(), true);
  h.disk.identity = null;
  assert.equal(await h.presence.confirm(), false);
  assert.equal(await h.presence.confirm(), false);
  assert.equal(h.presence.state, 'missing');
  assert.deepEqual(h.log, ['watch', 'forget missing', 'unwatch', 'root-missing']);
  h.presence.close();
});

test('checks never overlap: a check asked for while one runs is that one', async () => {
  const h = harness('1:100');
  await h.presence.start();
  const probesBefore = h.probes();
  const release = h.block();
  const first = h.presence.check();
  const second = h.presence.check();
  await h.clock.advance(10_000); // periodic checks meanwhile join the running one too
  assert.equal(first, second);
  release();
  await first;
  assert.equal(h.probes() - probesBefore, 1);
  h.presence.close();
});

test('closed: no more checks, nothing announced, and settled waits for the check running', async () => {
  const h = harness('1:100');
  await h.presence.start();
  const release = h.block();
  void h.presence.check();
  h.disk.identity = null;
  h.presence.stopChecking();
  let settled = false;
  const done = h.presence.settled().then(() => (settled = true));
  await settle();
  assert.equal(settled, false, 'waits for the check in flight');
  h.presence.close();
  release();
  await done;
  assert.equal(h.presence.state, 'closed');
  assert.deepEqual(h.log, ['watch'], 'a check that ends after close changes nothing');
  assert.equal(h.clock.pendingTimers, 0);
  await h.presence.check();
  assert.equal(h.presence.state, 'closed');
});

test('a failure to start watching is reported, not thrown', async () => {
  const h = harness('1:100', { failWatch: true });
  await h.presence.start();
  assert.equal(h.errors.length, 1);
  assert.match(String(h.errors[0]), /EMFILE/);
  h.presence.close();
});
