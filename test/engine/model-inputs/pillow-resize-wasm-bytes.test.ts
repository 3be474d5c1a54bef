import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assembleResizeKernel, bytesModuleText, BYTES_MODULE_PATH, WAT_PATH } from '../../../scripts/build-resize-kernel.ts';
import { resizeKernelBytes } from '../../../electron/engine/model-inputs/common/pillow-resize-wasm.ts';

const REBUILD = 'node --import tsx scripts/build-resize-kernel.ts';

test('the committed kernel binary is what wabt assembles from pillow-resize-wasm.wat, byte for byte', async () => {
  const rebuilt = await assembleResizeKernel();
  const committed = resizeKernelBytes();
  assert.equal(committed.length, rebuilt.length, `pillow-resize-wasm-bytes.ts holds ${committed.length} bytes, the .wat assembles to ${rebuilt.length}; run: ${REBUILD}`);
  const first = committed.findIndex((b, i) => b !== rebuilt[i]);
  assert.equal(first, -1, `pillow-resize-wasm-bytes.ts differs from the assembled .wat at byte ${first}; run: ${REBUILD}`);
  assert.equal(readFileSync(BYTES_MODULE_PATH, 'utf8'), bytesModuleText(rebuilt), `pillow-resize-wasm-bytes.ts is not the script's output; run: ${REBUILD}`);
});

test('the comparison sees a change to the kernel text', async () => {
  // The initial memory size changed from 1 page to 2: an edit someone could forget to rebuild after.
  const wat = readFileSync(WAT_PATH, 'utf8');
  const edited = wat.replace('(memory (export "memory") 1)', '(memory (export "memory") 2)');
  assert.notEqual(edited, wat, 'the edit applies');
  const rebuilt = await assembleResizeKernel(edited);
  assert.ok(!Buffer.from(rebuilt).equals(Buffer.from(resizeKernelBytes())));
});
