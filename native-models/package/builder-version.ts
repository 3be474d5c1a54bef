// The builder identity recorded in every manifest: the project's name and version, read from
// package.json at run time so a release bump needs no code change.
import { readFile } from 'node:fs/promises';

export interface BuilderIdentity {
  name: string;
  version: string;
}

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

let cached: Promise<BuilderIdentity> | undefined;

export function builderIdentity(): Promise<BuilderIdentity> {
  cached ??= (async () => {
    const json = JSON.parse(await readFile(PACKAGE_JSON, 'utf8')) as { name?: unknown; version?: unknown };
    if (typeof json.name !== 'string' || typeof json.version !== 'string') {
      throw new Error(`${PACKAGE_JSON.pathname}: "name" and "version" must be strings; the Trove installation is damaged — reinstall it.`);
    }
    return { name: json.name, version: json.version };
  })();
  return cached;
}
