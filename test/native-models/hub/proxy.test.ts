// HTTP_PROXY / NO_PROXY (either case) are honoured: requests go through a forward proxy unless
// the host is excluded.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { downloadSnapshot } from '../../../native-models/hub/node/snapshot-download.ts';
import { startFakeHub, startForwardProxy, type FakeHub, type ForwardProxy } from '../../support/fake-hub-server.ts';
import { SHARDED_REPO, assertSameFiles, hubOptions, listFiles, shardedRepoFolder } from './hub-fixtures.ts';

let root: string;
let sharded: string;
let hub: FakeHub;
let proxy: ForwardProxy;
let counter = 0;
const dest = () => path.join(root, `dest-${++counter}`);

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-hub-proxy-'));
  sharded = await shardedRepoFolder(root);
  hub = await startFakeHub({ repos: { [SHARDED_REPO]: sharded } });
  proxy = await startForwardProxy();
});

after(async () => {
  await hub.close();
  await proxy.close();
  await rm(root, { recursive: true, force: true });
});

for (const name of ['HTTP_PROXY', 'http_proxy']) {
  test(`${name} routes every request through the proxy`, async () => {
    hub.reset();
    proxy.requests.splice(0);
    const out = dest();
    await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub, { env: { [name]: proxy.url } }));
    assert.ok(hub.requests.length > 0);
    assert.equal(proxy.requests.length, hub.requests.length);
    assert.ok(proxy.requests.every((u) => u.startsWith(`${hub.url}/`)), proxy.requests.join('\n'));
    await assertSameFiles(out, sharded, await listFiles(sharded));
  });
}

test('NO_PROXY bypasses the proxy for the listed host', async () => {
  hub.reset();
  proxy.requests.splice(0);
  await downloadSnapshot({ repo: SHARDED_REPO }, dest(), hubOptions(hub, { env: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' } }));
  assert.ok(hub.requests.length > 0);
  assert.equal(proxy.requests.length, 0);
});
