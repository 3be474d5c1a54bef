// Starts a worker_threads entry that sits beside its caller: `model-worker-main.ts` next to
// `model-client.ts` in the sources, `model-worker-main.js` next to the bundle in a build.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * `callerUrl` is the caller's import.meta.url, `entry` the worker's name without extension. From
 * TypeScript sources the worker starts through a small eval'd bootstrap that registers tsx inside
 * it: on Node 20, `execArgv: ['--import', 'tsx']` does not apply to a worker's entry module, which
 * then fails with ERR_UNKNOWN_FILE_EXTENSION. From a bundle, the bundler must emit `<entry>.js`
 * beside the calling bundle (scripts/build-electron.ts).
 */
export function startWorkerBeside(callerUrl: string, entry: string, options: WorkerOptions = {}): Worker {
  if (callerUrl.endsWith('.ts')) {
    const source = new URL(`./${entry}.ts`, callerUrl).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
    return new Worker(bootstrap, { ...options, eval: true });
  }
  return new Worker(new URL(`./${entry}.js`, callerUrl), options);
}
