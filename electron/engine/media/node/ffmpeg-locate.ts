// Finds the ffmpeg and ffprobe executables Trove decodes video with. Order: the TROVE_FFMPEG /
// TROVE_FFPROBE environment variables, then PATH, then the optional npm packages
// `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe` (imported only if installed).
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface FfmpegTools {
  readonly ffmpeg: string;
  readonly ffprobe: string;
  /** `[major, minor]` of ffmpeg, or null for builds without a release number (git snapshots). */
  readonly version: readonly [number, number] | null;
}

const EXE = process.platform === 'win32' ? '.exe' : '';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name + EXE);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

/** The `path` export of an optional installer package, or null when it is not installed. */
async function fromPackage(pkg: string): Promise<string | null> {
  try {
    const mod = (await import(/* optional dependency */ pkg)) as { path?: string; default?: { path?: string } };
    const found = mod.path ?? mod.default?.path;
    return found && (await isExecutable(found)) ? found : null;
  } catch {
    return null;
  }
}

async function findOne(tool: 'ffmpeg' | 'ffprobe', envVar: string, pkg: string, sibling: string | null): Promise<string | null> {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return fromEnv;
    throw new Error(`${envVar} is set to '${fromEnv}', which is not an executable file. Fix the path or unset ${envVar}.`);
  }
  if (sibling) {
    const next = path.join(path.dirname(sibling), tool + EXE);
    if (await isExecutable(next)) return next;
  }
  return (await onPath(tool)) ?? (await fromPackage(pkg));
}

function parseVersion(text: string): readonly [number, number] | null {
  const m = /ffmpeg version n?(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function readVersion(ffmpeg: string): Promise<readonly [number, number] | null> {
  return new Promise((resolve) => {
    execFile(ffmpeg, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => resolve(err ? null : parseVersion(String(stdout))));
  });
}

let cached: Promise<FfmpegTools> | null = null;

/** Locates ffmpeg + ffprobe once per process; throws an error naming every way to provide them. */
export function locateFfmpeg(): Promise<FfmpegTools> {
  cached ??= (async () => {
    const envFfmpeg = process.env.TROVE_FFMPEG || null;
    const ffmpeg = await findOne('ffmpeg', 'TROVE_FFMPEG', '@ffmpeg-installer/ffmpeg', null);
    // An explicit TROVE_FFMPEG usually has its ffprobe beside it.
    const ffprobe = await findOne('ffprobe', 'TROVE_FFPROBE', '@ffprobe-installer/ffprobe', envFfmpeg);
    const missing = [!ffmpeg && 'ffmpeg', !ffprobe && 'ffprobe'].filter(Boolean).join(' and ');
    if (!ffmpeg || !ffprobe) {
      throw new Error(
        `Trove needs ${missing} to read videos, and none was found. Either set TROVE_FFMPEG (and TROVE_FFPROBE) ` +
          'to the executables, or install FFmpeg so it is on PATH (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg; ' +
          'Windows: winget install ffmpeg), or add the npm packages @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe.',
      );
    }
    return { ffmpeg, ffprobe, version: await readVersion(ffmpeg) };
  })();
  cached.catch(() => {
    cached = null; // let a later call retry after the user installs ffmpeg
  });
  return cached;
}

/** Forget the located tools (tests; after the user changes settings). */
export function resetFfmpegLocation(): void {
  cached = null;
}
