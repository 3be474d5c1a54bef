// How much the model runtime (onnxruntime and the GPU stacks it loads) may say on stderr.
// TROVE_LOG=error (the default: only errors), warning, info (what `--verbose` sets) or verbose
// (everything onnxruntime logs, node by node). Worker threads share process.env, so the CLI's
// --verbose reaches the model workers through it.
export const TROVE_LOG_LEVELS = ['error', 'warning', 'info', 'verbose'] as const;
export type TroveLogLevel = (typeof TROVE_LOG_LEVELS)[number];

export function troveLogLevel(env: NodeJS.ProcessEnv = process.env): TroveLogLevel {
  const value = (env.TROVE_LOG ?? '').trim().toLowerCase();
  return (TROVE_LOG_LEVELS as readonly string[]).includes(value) ? (value as TroveLogLevel) : 'error';
}

/** onnxruntime's severity numbers: 0 verbose, 1 info, 2 warning, 3 error. */
export function ortLogSeverity(level: TroveLogLevel): 0 | 1 | 2 | 3 {
  return ({ verbose: 0, info: 1, warning: 2, error: 3 } as const)[level];
}
