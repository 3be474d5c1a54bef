// Stands in for electron/engine/app/node/trove-engine.ts when the engine-host bundle is tested:
// the test aliases the real module to this one, so the bundle's wiring is checked on its own.
import type { EngineOptions, TroveEngine } from '../../electron/engine/app/node/trove-engine-types.ts';

export async function openTroveEngine(options: EngineOptions): Promise<TroveEngine> {
  if (options.dataDir === '/fail') throw new Error('cannot open /fail');
  return {
    handlers: {
      'roots.list': async () => [{ id: 1, path: options.dataDir, include: [], exclude: [], present: true, addedAt: 0 }],
    } as unknown as TroveEngine['handlers'],
    media: { thumbnail: async () => null, filePath: async () => null, rootPaths: async () => [options.dataDir] },
    on: () => () => undefined,
    idle: async () => undefined,
    close: async () => undefined,
  };
}
