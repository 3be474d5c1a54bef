// `trove serve`: the engine plus the web UI on 127.0.0.1, for headless machines and browsers.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { openTroveEngine } from '../../../engine/app/node/trove-engine.ts';
import { startApiServer } from '../../../server/node/api-server.ts';
import { CliFailure } from '../command-line/cli-error.ts';
import { defineCommand } from '../command-line/command-line.ts';
import { assertChosenModelsLoaded, ENGINE_OPTIONS, prepareEngine } from './engine-options.ts';
import { integerOption } from '../command-line/option-values.ts';

const RENDERER_DIST = fileURLToPath(new URL('../../../../renderer/dist/', import.meta.url));

/** A sentence for the errors listen() gives, or null for others. */
export function listenProblem(error: unknown, port: number): string | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') {
    return `port ${port} is already in use (another Trove, or another program). Choose another with --port N, or leave --port out to take a free one.`;
  }
  if (code === 'EACCES') return `port ${port} needs administrator rights on this system. Choose one above 1023 with --port N, or leave --port out.`;
  return null;
}

/** Fails fast, before the engine loads its models, when the port cannot be had. */
async function checkPortFree(port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(new CliFailure(listenProblem(error, port) ?? `cannot listen on port ${port}: ${error.message}`)));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve()));
  });
}

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'The engine and the web UI on http://127.0.0.1 (watching your folders).',
  usage: '[options]',
  description:
    'Starts the engine (watching your folders) and serves the Trove UI on http://127.0.0.1:PORT.\n' +
    "Open the printed address: it carries this run's access token. Ctrl-C stops.",
  options: {
    ...ENGINE_OPTIONS,
    port: { type: 'string', value: 'N', help: 'the port to listen on, 0 to 65535 (default 0: a free one)' },
  },
  async run({ values }) {
    const port = integerOption(values.port, '--port', { min: 0, max: 65535 }, 0);
    const prepared = await prepareEngine(values, { watch: true, readOnly: false });
    await checkPortFree(port);
    const staticDir = existsSync(RENDERER_DIST) ? RENDERER_DIST : undefined;
    if (!staticDir) console.error("trove: the UI is not built (renderer/dist is missing): run 'npm run build:renderer'. Serving the API only.");

    const engine = await openTroveEngine(prepared.options);
    let server: Awaited<ReturnType<typeof startApiServer>>;
    try {
      await assertChosenModelsLoaded(engine, prepared);
      server = await startApiServer({
        handlers: engine.handlers,
        events: engine,
        media: engine.media,
        staticDir,
        port,
        log: (line) => console.error(line),
      });
    } catch (error) {
      await engine.close();
      const problem = listenProblem(error, port);
      throw problem ? new CliFailure(problem) : error;
    }
    console.log(`Trove is running at ${server.url}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    await engine.close();
    return 0;
  },
});
