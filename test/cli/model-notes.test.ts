// Why a model named for the run did not load comes from the engine's notes (ModelStatus.notes), the
// field made for it, not from words parsed out of the statement (which may word them differently).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TroveEngine } from '../../electron/engine/app/node/trove-engine-types.ts';
import { assertChosenModelsLoaded, type PreparedEngine } from '../../electron/cli/node/commands/engine-options.ts';
import { createFakeEngine, NO_MODEL } from '../support/fake-engine.ts';

test('a --model that did not load is refused with the note the engine gives for it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trove-model-notes-'));
  try {
    const fake = createFakeEngine(dir, '/home/ada/Pictures', { models: 'none' });
    const note = 'the embedding model could not be loaded: its text graph is damaged; rebuild the package';
    // The statement says it in its own words (no "Note:" prefix): the notes are the source.
    fake.setModel({ ...NO_MODEL, notes: [note], statement: 'No embedding model in use: keyword search only. The package given for this run did not load.' });
    const engine = { handlers: fake.handlers } as unknown as TroveEngine;
    const prepared: PreparedEngine = { options: { dataDir: dir }, chosen: { embedding: { dir: '/models/broken', from: '--model' }, reranker: null } };
    await assert.rejects(assertChosenModelsLoaded(engine, prepared), (error: Error) => {
      assert.equal(error.message, `--model /models/broken: ${note}`);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
