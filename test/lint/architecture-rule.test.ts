// The architecture lint rule catches what it is there to catch (and lets the allowed through): the
// declared layer order, peers, environment folders, the shell's three processes, entry points, the
// reference forward, and the renderer's one way to the contract.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { RuleTester } from 'eslint';
import architecture, { ORDER, environmentOf, layerOf } from '../../eslint-rules/architecture.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it;

const root = path.resolve('.');
const at = (rel: string) => path.join(root, rel);
const tester = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } });

tester.run('trove/architecture', architecture, {
  valid: [
    { filename: at('electron/engine/model-inputs/common/a.ts'), code: "import { x } from '../../base/common/python-numerics.ts'; import { q } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';" },
    { filename: at('electron/engine/media/node/a.ts'), code: "import sharp from 'sharp'; import fs from 'node:fs'; import { y } from '../common/b.ts';" },
    { filename: at('electron/engine/inference/node/a.ts'), code: "import { s } from '../../store/node/store.ts'; import { e } from '../../model-inputs/node/embed-inputs.ts';" },
    { filename: at('electron/engine/model-setup/node/a.ts'), code: "import { i } from '../../jobs/node/indexer.ts'; import { c } from '../../../../native-models/catalog/common/recommend-models.ts';" },
    { filename: at('electron/cli/node/commands/a.ts'), code: "import { z } from '../../../engine/inference/node/b.ts'; import { t } from '../../../../native-models/tiny/node/c.ts'; import { s } from '../../../server/node/api-server.ts';" },
    { filename: at('electron/shell/electron-main/a.ts'), code: "import { app } from 'electron'; import { p } from '../common/engine-protocol.ts'; import { d } from '../../engine/store/node/data-dir.ts';" },
    { filename: at('electron/shell/electron-preload/a.ts'), code: "import { contextBridge } from 'electron'; import { e } from '../common/shell-events.ts';" },
    { filename: at('electron/shell/electron-utility/a.ts'), code: "import { p } from '../common/engine-protocol.ts'; import { t } from '../../engine/app/node/trove-engine-types.ts';" },
    { filename: at('electron/engine/store/node/ann-worker-main.ts'), code: "import { parentPort, workerData } from 'node:worker_threads';" },
    { filename: at('electron/engine/store/node/ann-handle.ts'), code: "import { Worker } from 'node:worker_threads';" },
    { filename: at('native-models/hub/node/a.ts'), code: "import { p } from '../../package/node/package-layout.ts'; import { g } from '../../../electron/engine/base/common/glob-pattern.ts';" },
    { filename: at('native-models/reference/node/a.ts'), code: "import { v } from '../../../electron/engine/media/common/vision-types.ts';" },
    { filename: at('renderer/src/a.tsx'), code: "import { API_METHODS } from '#contract/common/api-methods.ts'; import React from 'react'; import { s } from './state/app-state.ts';" },
    { filename: at('renderer/src/a.tsx'), code: "import { createHttpApi } from '#contract/browser/http-transport.ts';" },
    { filename: at('electron/contract/browser/a.ts'), code: "import { API_EVENTS } from '../common/api-events.ts';" },
    { filename: at('electron/server/node/a.ts'), code: "import http from 'node:http'; import { settleApiCall } from '../../contract/common/api-call-outcome.ts';" },
    { filename: at('test/a.test.ts'), code: "import { naiveEmbed } from '../native-models/reference/node/naive-forward.ts'; import { main } from '../electron/cli/node/cli-main.ts';" },
    { filename: at('bin/trove.js'), code: "const { main } = await import('../electron/cli/node/cli-main.ts');" },
  ],
  invalid: [
    // the declared order
    { filename: at('electron/engine/model-inputs/node/a.ts'), code: "import { s } from '../../search/node/search.ts';", errors: [{ message: /higher layer 'electron\/engine\/search'/ }] },
    { filename: at('native-models/package/node/a.ts'), code: "import { m } from '../../../electron/engine/model-inputs/common/patchify.ts';", errors: [{ message: /higher layer 'electron\/engine\/model-inputs'/ }] },
    { filename: at('electron/engine/base/common/a.ts'), code: "import { E } from '../../../contract/common/entities.ts';", errors: [{ message: /higher layer 'electron\/contract'/ }] },
    { filename: at('electron/engine/search/node/a.ts'), code: "export { x } from '../../app/node/engine.ts';", errors: [{ message: /higher layer 'electron\/engine\/app'/ }] },
    { filename: at('electron/engine/search/node/a.ts'), code: "import { i } from '../../jobs/node/indexer.ts';", errors: [{ message: /peers in the declared order/ }] },
    { filename: at('electron/engine/store/node/a.ts'), code: "import { d } from '../../media/node/image-decode.ts';", errors: [{ message: /peers in the declared order/ }] },
    { filename: at('electron/cli/node/a.ts'), code: "import { s } from '../../shell/electron-main/shell-main.ts';", errors: [{ message: /first file of a process/ }, { message: /node\/ \(code that needs Node\) .* from electron-main\// }, { message: /peers in the declared order/ }] },
    { filename: at('electron/engine/newthing/node/a.ts'), code: 'export const a = 1;', errors: [{ message: /in no declared layer/ }] },
    { filename: at('electron/engine/store/a.ts'), code: 'export const a = 1;', errors: [{ message: /in no environment folder/ }] },
    { filename: at('native-models/hub/a.ts'), code: 'export const a = 1;', errors: [{ message: /in no environment folder/ }] },
    // environments
    { filename: at('electron/engine/model-inputs/common/a.ts'), code: "import fs from 'node:fs';", errors: [{ message: /common\/ \(code that runs anywhere\) but imports 'node:fs'/ }] },
    { filename: at('native-models/catalog/common/a.ts'), code: "import sharp from 'sharp';", errors: [{ message: /common\/ \(code that runs anywhere/ }] },
    { filename: at('electron/engine/model-inputs/common/a.ts'), code: "import { d } from '../node/decode.ts';", errors: [{ message: /from node\/ .* common\/ code may import only common\/ code/ }] },
    { filename: at('native-models/checkpoint/common/a.ts'), code: "import { r } from '../node/safetensors-reader.ts';", errors: [{ message: /from node\// }] },
    { filename: at('electron/contract/browser/a.ts'), code: "import http from 'node:http';", errors: [{ message: /browser\/ \(code that runs in a page\)/ }] },
    { filename: at('electron/contract/browser/a.ts'), code: "import { s } from '../node/socket.ts';", errors: [{ message: /browser\/ .* from node\// }] },
    { filename: at('electron/contract/common/a.ts'), code: "import { h } from '../browser/http-transport.ts';", errors: [{ message: /common\/ .* from browser\// }] },
    { filename: at('electron/shell/electron-main/a.ts'), code: "import { h } from '../electron-utility/engine-host-core.ts';", errors: [{ message: /electron-main\/ .* from electron-utility\// }] },
    { filename: at('electron/shell/electron-utility/a.ts'), code: "import { s } from '../electron-main/engine-supervisor.ts';", errors: [{ message: /electron-utility\/ .* from electron-main\// }] },
    { filename: at('electron/shell/electron-preload/a.ts'), code: "import { d } from '../../engine/store/node/data-dir.ts';", errors: [{ message: /electron-preload\/ .* from node\// }] },
    { filename: at('electron/shell/electron-preload/a.ts'), code: "import fs from 'node:fs';", errors: [{ message: /sandboxed preload/ }] },
    { filename: at('electron/engine/store/node/a.ts'), code: "import { app } from 'electron';", errors: [{ message: /imports Electron/ }] },
    { filename: at('electron/shell/electron-utility/a.ts'), code: "import { app } from 'electron';", errors: [{ message: /imports Electron/ }] },
    // entry points
    { filename: at('electron/engine/inference/node/runtime/a.ts'), code: "import { x } from './model-worker-main.ts';", errors: [{ message: /first file of a process or thread/ }] },
    { filename: at('electron/engine/jobs/node/a.ts'), code: "import { parentPort } from 'node:worker_threads';", errors: [{ message: /name it '…-main\.ts'/ }] },
    // outside the order
    { filename: at('electron/cli/node/a.ts'), code: "import { n } from '../../../native-models/reference/node/naive-forward.ts';", errors: [{ message: /tests, benchmarks and scripts only/ }] },
    { filename: at('renderer/src/a.tsx'), code: "import { s } from '../../electron/engine/store/node/db.ts';", errors: [{ message: /renderer may import only/ }] },
    { filename: at('renderer/src/a.tsx'), code: "import { s } from '../../electron/server/node/api-server.ts';", errors: [{ message: /renderer may import only/ }] },
    { filename: at('renderer/src/a.tsx'), code: "import { e } from '../../electron/contract/common/entities.ts';", errors: [{ message: /as '#contract\/common\/entities\.ts'/ }] },
    { filename: at('renderer/src/a.tsx'), code: "import fs from 'node:fs';", errors: [{ message: /browser\/ \(code that runs in a page/ }] },
    { filename: at('electron/engine/app/node/a.ts'), code: "import { u } from '../../../../renderer/src/state/app-state.ts';", errors: [{ message: /imports renderer code/ }] },
    { filename: at('electron/engine/store/node/a.ts'), code: "import { f } from '../../../../test/support/fake-clock.ts';", errors: [{ message: /never imports tests/ }] },
    { filename: at('native-models/tiny/node/a.ts'), code: "import { c } from '../../../scripts/fixtures/mid-size-checkpoint.ts';", errors: [{ message: /never imports tests/ }] },
  ],
});

describe('the declared order', () => {
  it('names every layer once', () => {
    const names = ORDER.flatMap((row) => row.layers);
    assert.equal(new Set(names).size, names.length);
  });
  it('places nested folders by their own layer and finds the environment folder', () => {
    assert.equal(layerOf('native-models/hub/node/hf-cache.ts')?.name, 'native-models/hub');
    assert.equal(layerOf('electron/engine/inference/node/runtime/model-client.ts')?.name, 'electron/engine/inference');
    assert.equal(environmentOf('electron/engine/inference/node/runtime/model-client.ts'), 'node');
    assert.equal(environmentOf('electron/shell/electron-main/shell-main.ts'), 'electron-main');
    assert.equal(environmentOf('renderer/src/App.tsx'), 'browser');
    assert.equal(environmentOf('electron/engine/store/store.ts'), undefined);
  });
});
