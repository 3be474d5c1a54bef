// Shared by kill-safety.test.ts and its child process.
import type { AnnParams } from '../../../electron/engine/store/node/ann-index.ts';

export const KILL_TEST_DIMS = 64;
export const KILL_TEST_PARAMS: Partial<AnnParams> = { prefix: 32, m: 12, efConstruction: 64, ef: 64 };
/** Two shards as shipped; rebuild steps of 8 vectors, so a kill can land inside a background rebuild. */
export const KILL_TEST_TUNING = { shards: 2, rebuildStep: 8 };
