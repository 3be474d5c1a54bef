// The architecture lint rule catches what it is there to catch (and lets the allowed through).
import { describe, it } from 'node:test';
import path from 'node:path';
import { RuleTester } from 'eslint';
import architecture from '../../eslint-rules/architecture.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it;

const root = path.resolve('.');
const at = (rel: string) => path.join(root, rel);
const tester = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } });

tester.run('trove/architecture', architecture, {
  valid: [
    { filename: at('electron/engine/models/common/a.ts'), code: "import { x } from '../../base/common/python-numerics.ts';" },
    { filename: at('electron/engine/models/node/a.ts'), code: "import sharp from 'sharp'; import fs from 'node:fs'; import { y } from '../common/b.ts';" },
    { filename: at('electron/cli/a.ts'), code: "import { z } from '../engine/models/node/b.ts'; import { t } from '../../native-models/tiny/c.ts';" },
    { filename: at('electron/main/a.ts'), code: "import { app } from 'electron';" },
    { filename: at('renderer/src/a.tsx'), code: "import { API_METHODS } from '../../electron/contract/common/api-methods.ts'; import React from 'react';" },
    { filename: at('test/a.test.ts'), code: "import { naiveEmbed } from '../native-models/reference/naive-forward.ts';" },
    { filename: at('renderer/src/a.tsx'), code: "import { createHttpApi } from '../../electron/contract/browser/http-transport.ts';" },
    { filename: at('electron/contract/browser/a.ts'), code: "import { API_EVENTS } from '../common/api-events.ts';" },
    { filename: at('electron/server/node/a.ts'), code: "import http from 'node:http'; import { settleApiCall } from '../../contract/common/api-call-outcome.ts';" },
  ],
  invalid: [
    { filename: at('electron/engine/models/common/a.ts'), code: "import fs from 'node:fs';", errors: [{ message: /common\/ folder/ }] },
    { filename: at('electron/engine/models/common/a.ts'), code: "import sharp from 'sharp';", errors: [{ message: /common\/ folder/ }] },
    { filename: at('electron/engine/models/common/a.ts'), code: "import { d } from '../node/decode.ts';", errors: [{ message: /node\/ folder/ }] },
    { filename: at('electron/engine/store/node/a.ts'), code: "import { app } from 'electron';", errors: [{ message: /imports Electron/ }] },
    { filename: at('electron/engine/models/node/a.ts'), code: "import { s } from '../../search/node/search.ts';", errors: [{ message: /higher layer 'engine\/search'/ }] },
    { filename: at('electron/engine/models/node/a.ts'), code: "import { b } from '../../../../native-models/package/build-package.ts';", errors: [{ message: /higher layer 'native-models'/ }] },
    { filename: at('electron/cli/a.ts'), code: "import { n } from '../../native-models/reference/naive-forward.ts';", errors: [{ message: /tests and benchmarks only/ }] },
    { filename: at('renderer/src/a.tsx'), code: "import { s } from '../../electron/engine/store/node/db.ts';", errors: [{ message: /renderer may import only/ }] },
    { filename: at('renderer/src/a.tsx'), code: "import { s } from '../../electron/server/node/api-server.ts';", errors: [{ message: /renderer may import only/ }] },
    { filename: at('electron/contract/browser/a.ts'), code: "import http from 'node:http';", errors: [{ message: /browser\/ folder \(runs in a page\)/ }] },
    { filename: at('electron/contract/browser/a.ts'), code: "import { s } from '../node/socket.ts';", errors: [{ message: /browser\/ folder .* from a node\/ folder/ }] },
    { filename: at('electron/contract/common/a.ts'), code: "import { h } from '../browser/http-transport.ts';", errors: [{ message: /common\/ folder but imports .* from a browser\/ folder/ }] },
    { filename: at('electron/engine/search/node/a.ts'), code: "export { x } from '../../app/node/engine.ts';", errors: [{ message: /higher layer 'engine\/app'/ }] },
  ],
});
