// Reads a model package's manifest (with the runtime's schema and format-version check) and checks
// the folder against it: every listed file present with its size, and with `verify` its SHA-256.
// Folder-level problems (no manifest, unreadable or incompatible manifest) throw; file problems
// are collected in the report so one run lists all of them.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseModelManifest, type ModelManifest } from '../../manifest/common/model-manifest.ts';
import { MANIFEST_FILE, PARTIAL_SUFFIX, sha256File } from './package-layout.ts';

export interface PackageFileReport {
  name: string;
  /** Size and hash the manifest records. */
  bytes: number;
  sha256: string;
  /** Size on disk; null when the file is missing. */
  actualBytes: number | null;
  /** Hash on disk; null unless verified (and present with the right size). */
  actualSha256: string | null;
  /** What is wrong with this file, or null. */
  problem: string | null;
}

export interface PackageInspection {
  dir: string;
  manifest: ModelManifest;
  files: PackageFileReport[];
  /** Files in the folder that the manifest does not list (reported, not an error). */
  unlistedFiles: string[];
  /** Whether hashes were computed (verify) or only presence and sizes were checked. */
  hashesChecked: boolean;
  totalBytes: number;
  problems: string[];
  ok: boolean;
}

export interface InspectOptions {
  /** Also hash every file (reads the whole package). */
  verify?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: { stage: 'verify'; done: number; total: number }) => void;
}

/** Reads and validates `<dir>/manifest.json`; throws with what to do when there is none or it is unusable. */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  const root = path.resolve(dir);
  let info;
  try {
    info = await stat(root);
  } catch {
    throw new Error(`${root} does not exist; build a package with 'trove model build <checkpoint-dir> --out ${root}'.`);
  }
  if (!info.isDirectory()) throw new Error(`${root} is a file, not a model package folder; point at the folder that holds manifest.json.`);
  const file = path.join(root, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    const partial = path.basename(root).includes(PARTIAL_SUFFIX) ? ' (it is the leftover of an interrupted build; delete it)' : '';
    throw new Error(`${root} is not a Trove model package: it has no ${MANIFEST_FILE}${partial}; build one with 'trove model build <checkpoint-dir> --out <package-dir>'.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); the package is damaged — rebuild it with 'trove model build'.`);
  }
  return parseModelManifest(json, file);
}

/** A file name the manifest may list: a plain name inside the package folder. */
function isPlainName(name: string): boolean {
  return name !== '.' && name !== '..' && path.basename(name) === name && !name.includes('/') && !name.includes('\\');
}

/** Checks the package folder against its manifest; throws only when the manifest itself is missing or unusable. */
export async function inspectModelPackage(dir: string, options: InspectOptions = {}): Promise<PackageInspection> {
  const root = path.resolve(dir);
  const manifest = await readModelManifest(root);
  const verify = options.verify ?? false;
  const problems: string[] = [];
  const listed = new Set(manifest.files.map((f) => f.name));
  for (const graph of [manifest.graphs.vision, manifest.graphs.decoder]) {
    if (!listed.has(graph)) problems.push(`${graph}: named as a graph but not listed in the manifest's files`);
  }
  const totalBytes = manifest.files.reduce((a, f) => a + f.bytes, 0);
  let hashedBytes = 0;
  const files: PackageFileReport[] = [];
  for (const entry of manifest.files) {
    const report: PackageFileReport = { name: entry.name, bytes: entry.bytes, sha256: entry.sha256, actualBytes: null, actualSha256: null, problem: null };
    files.push(report);
    if (!isPlainName(entry.name)) {
      report.problem = 'not a plain file name inside the package folder';
    } else {
      const file = path.join(root, entry.name);
      try {
        report.actualBytes = (await stat(file)).size;
      } catch {
        report.problem = 'missing';
      }
      if (report.actualBytes !== null && report.actualBytes !== entry.bytes) {
        report.problem = `${report.actualBytes} bytes on disk, the manifest says ${entry.bytes}`;
      } else if (report.actualBytes !== null && verify) {
        const before = hashedBytes;
        report.actualSha256 = (await sha256File(file, {
          signal: options.signal,
          onBytes: (bytes) => options.onProgress?.({ stage: 'verify', done: before + bytes, total: totalBytes }),
        })).sha256;
        if (report.actualSha256 !== entry.sha256) report.problem = `SHA-256 ${report.actualSha256} on disk, the manifest says ${entry.sha256}`;
      }
    }
    hashedBytes += entry.bytes;
    if (report.problem) problems.push(`${entry.name}: ${report.problem}`);
  }
  const unlistedFiles = (await readdir(root)).filter((name) => name !== MANIFEST_FILE && !listed.has(name)).sort();
  return { dir: root, manifest, files, unlistedFiles, hashesChecked: verify, totalBytes, problems, ok: problems.length === 0 };
}
