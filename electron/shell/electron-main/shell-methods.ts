// API methods the shell answers itself because they act on the desktop, which only the main
// process can do well (Electron's shell module: the default app, the file manager; the system's
// folder chooser). The engine
// still decides which file an item is; the path is re-checked against the current roots here.
import type { ApiCallOutcome } from '../../contract/common/api-call-outcome.ts';
import { API_METHODS } from '../../contract/common/api-methods.ts';
import { checkedLibraryFile } from '../../server/node/media-routes.ts';

export interface ShellMethodDeps {
  filePath(itemId: number): Promise<string | null>;
  rootPaths(): Promise<readonly string[]>;
  /** shell.openPath: resolves to '' on success, else an error message. */
  openPath(path: string): Promise<string>;
  showItemInFolder(path: string): void;
  /** dialog.showOpenDialog for one folder: its path, or null when the user cancelled. */
  pickFolder(title: string | undefined): Promise<string | null>;
}

export const SHELL_METHODS = ['files.open', 'files.reveal', 'dialog.pickFolder'] as const;
type ShellMethod = (typeof SHELL_METHODS)[number];

function isShellMethod(method: string): method is ShellMethod {
  return (SHELL_METHODS as readonly string[]).includes(method);
}

/** The outcome of a shell method, or null when `method` is for the engine. Never throws. */
export async function runShellMethod(method: string, params: unknown, deps: ShellMethodDeps): Promise<ApiCallOutcome | null> {
  if (!isShellMethod(method)) return null;
  if (method === 'dialog.pickFolder') return pickFolder(params, deps);
  const parsed = API_METHODS[method].params.safeParse(params ?? {});
  if (!parsed.success) return { ok: false, error: { code: 'invalid-params', message: `${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}` } };
  const { itemId } = parsed.data;
  try {
    const [candidate, roots] = await Promise.all([deps.filePath(itemId), deps.rootPaths()]);
    // The same check as trove://media: symlinks resolved, then inside a current root.
    const file = candidate === null ? null : await checkedLibraryFile(candidate, roots);
    if (!file) return { ok: false, error: { code: 'not-found', message: `item ${itemId} is not an indexed file in a current folder` } };
    if (method === 'files.reveal') {
      deps.showItemInFolder(file);
      return { ok: true, result: { ok: true } };
    }
    const failure = await deps.openPath(file);
    if (failure) return { ok: false, error: { code: 'failed', message: `could not open ${file}: ${failure}` } };
    return { ok: true, result: { ok: true } };
  } catch (error) {
    return { ok: false, error: { code: 'failed', message: `${method} failed: ${error instanceof Error ? error.message : String(error)}` } };
  }
}

async function pickFolder(params: unknown, deps: ShellMethodDeps): Promise<ApiCallOutcome> {
  const parsed = API_METHODS['dialog.pickFolder'].params.safeParse(params ?? {});
  if (!parsed.success) return { ok: false, error: { code: 'invalid-params', message: `dialog.pickFolder: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}` } };
  try {
    return { ok: true, result: { path: await deps.pickFolder(parsed.data.title) } };
  } catch (error) {
    return { ok: false, error: { code: 'failed', message: `the folder chooser failed: ${error instanceof Error ? error.message : String(error)}` } };
  }
}
