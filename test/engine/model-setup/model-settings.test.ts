// `<data>/models/settings.json`: what the engine remembers about its models. It may hold an
// inference server's API key, so only the user may read it; it is replaced whole, and a damaged
// file is reported and replaced by defaults rather than stopping the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MODEL_SETTINGS, modelsLayout, readModelSettings, writeModelSettings, type ModelSettings } from '../../../electron/engine/model-setup/node/model-settings.ts';

const REMOTE = { url: 'http://gpu-box.local:8000', embeddingModel: 'Qwen/Qwen3-VL-Embedding-2B', rerankerModel: null, apiKey: 'sk-secret-123' };

test('written whole, readable by the user only, and read back the same', { skip: process.platform === 'win32' ? 'POSIX file modes' : false }, () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'trove-model-settings-'));
  try {
    const settings: ModelSettings = { ...structuredClone(DEFAULT_MODEL_SETTINGS), embedding: { type: 'remote', settings: REMOTE }, remote: REMOTE };
    const { settings: file, root } = modelsLayout(dataDir);
    // A leftover temporary file from a kill, world-readable, must not pass its mode on.
    writeModelSettings(dataDir, DEFAULT_MODEL_SETTINGS);
    writeFileSync(`${file}.tmp`, 'half', { mode: 0o644 });
    writeModelSettings(dataDir, settings);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'settings.json is rw------- (it may hold an API key)');
    assert.deepEqual(readdirSync(root), ['settings.json'], 'no temporary file is left');
    assert.deepEqual(readModelSettings(dataDir), { settings, problem: null });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a damaged file is reported with what to do, and the defaults are used', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'trove-model-settings-'));
  try {
    writeModelSettings(dataDir, DEFAULT_MODEL_SETTINGS);
    writeFileSync(modelsLayout(dataDir).settings, '{"version": 1, "embedding": ');
    const { settings, problem } = readModelSettings(dataDir);
    assert.deepEqual(settings, DEFAULT_MODEL_SETTINGS);
    assert.match(problem ?? '', /settings\.json is damaged .*set up the model again in Settings → Models/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
