// Events the shell itself pushes to the window beside the engine's API events (api-events.ts).
// `engine.status` says whether the engine's utility process is running, restarting or stopped,
// so the UI can show a banner instead of failing silently while it restarts.
import type { ApiEventPayload } from '../../contract/common/api-events.ts';

export const ENGINE_STATUS_EVENT = 'engine.status';
export const SHELL_EVENTS: readonly string[] = [ENGINE_STATUS_EVENT];

export type EngineStatus = ApiEventPayload<'engine.status'>;
