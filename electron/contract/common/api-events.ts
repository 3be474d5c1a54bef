// Events the engine pushes to every connected UI (IPC, WebSocket). Coalesced by the engine so a
// storm of file changes becomes a few events a second.
import { z } from 'zod';
import { indexingProgress, root } from './entities.ts';
import { modelsState } from './model-setup.ts';

export const API_EVENTS = {
  'indexing.progress': indexingProgress,
  'roots.changed': z.array(root),
  /** The library changed (files indexed, moved, deleted): open searches may want to refresh. */
  'library.changed': z.object({ indexed: z.number().int(), removed: z.number().int() }),
  'model.changed': z.object({ statement: z.string() }),
  /** The models' state changed: task progress (a few times a second at most), install, switch, backend. */
  'models.changed': modelsState,
  /**
   * Whether the engine process is running (pushed by the Electron shell, which restarts a
   * crashed engine): the UI shows a banner instead of failing silently while it restarts.
   */
  'engine.status': z.discriminatedUnion('state', [
    z.object({ state: z.literal('starting'), message: z.string() }),
    z.object({ state: z.literal('ready'), message: z.string() }),
    z.object({ state: z.literal('restarting'), message: z.string(), attempt: z.number().int(), retryInMs: z.number() }),
    z.object({ state: z.literal('stopped'), message: z.string() }),
  ]),
} as const;

export type ApiEvent = keyof typeof API_EVENTS;
export type ApiEventPayload<E extends ApiEvent> = z.output<(typeof API_EVENTS)[E]>;
