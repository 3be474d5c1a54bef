// The app's own command-line flags, picked out of Electron's argv (which also holds the binary,
// the app path and Chromium switches). Same names as the CLI: --data, --model, --reranker.
export interface ShellArgs {
  /** `--data DIR`: the data folder (else TROVE_DATA_DIR, else the OS app-data folder). */
  readonly data?: string;
  /** `--model DIR`: embedding model package (else TROVE_MODEL). */
  readonly model?: string;
  /** `--reranker DIR`: reranker model package (else TROVE_RERANKER). */
  readonly reranker?: string;
}

const FLAGS = { '--data': 'data', '--model': 'model', '--reranker': 'reranker' } as const;

export function parseShellArgs(argv: readonly string[]): ShellArgs {
  const out: { data?: string; model?: string; reranker?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!(name in FLAGS)) continue;
    const key = FLAGS[name as keyof typeof FLAGS];
    const value = eq === -1 ? argv[i + 1] : arg.slice(eq + 1);
    if (eq === -1) i++;
    if (value === undefined || value === '' || (eq === -1 && value.startsWith('--'))) {
      throw new Error(`${name} needs a folder path, e.g. ${name} /path/to/folder`);
    }
    out[key] = value;
  }
  return out;
}
