// `trove serve`: the engine plus the web UI on 127.0.0.1, for headless machines and browsers.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openTroveEngine } from '../../engine/app/node/trove-engine.ts';
import { startApiServer } from '../../server/node/api-server.ts';
import { CliUsageError } from '../cli-error.ts';
import { ENGINE_ARG_OPTIONS, engineOptionsFrom } from '../engine-options.ts';

const HELP = `Usage: trove serve [--port N] [--data DIR] [--model PKG] [--reranker PKG]

Starts the engine (watching your folders) and serves the Trove UI on http://127.0.0.1:PORT.
Open the printed address: it carries this run's access token. Ctrl-C stops.`;

const RENDERER_DIST = fileURLToPath(new URL('../../../renderer/dist/', import.meta.url));

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...ENGINE_ARG_OPTIONS, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`--port must be a port number (0–65535), got '${values.port}'.`);
  const staticDir = existsSync(RENDERER_DIST) ? RENDERER_DIST : undefined;
  if (!staticDir) console.error("trove: the UI is not built (renderer/dist is missing): run 'npm run build:renderer'. Serving the API only.");

  const engine = await openTroveEngine(engineOptionsFrom(values, true));
  const server = await startApiServer({
    handlers: engine.handlers,
    events: engine,
    media: engine.media,
    staticDir,
    port,
    log: (line) => console.error(line),
  });
  console.log(`Trove is running at ${server.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await engine.close();
  return 0;
}
