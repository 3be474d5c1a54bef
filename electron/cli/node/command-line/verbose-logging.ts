// `--verbose` on any command: where the models run and why (the execution-provider details) and
// onnxruntime's warnings, on stderr — the same as TROVE_LOG=warning. TROVE_LOG=info or verbose
// (set by hand) adds onnxruntime's own logs, which are long. The engine and its model workers read
// TROVE_LOG (worker threads share process.env), so setting it before anything starts is enough.
const LEVELS = ['error', 'warning', 'info', 'verbose'];

function level(): number {
  return LEVELS.indexOf((process.env.TROVE_LOG ?? '').trim().toLowerCase());
}

export function enableVerboseLogging(): void {
  if (level() < LEVELS.indexOf('warning')) process.env.TROVE_LOG = 'warning';
}

/** Whether diagnostics were asked for (--verbose, or TROVE_LOG=warning/info/verbose). */
export function verboseLogging(): boolean {
  return level() >= LEVELS.indexOf('warning');
}
