// Which files Trove indexes, decided by extension alone: cheap (no read), predictable for the user
// ("my .heic photos are indexed"), and the extractor records a reason when the content disagrees
// (a text file named .jpg fails decoding with a message rather than being silently skipped).
import type { FileKind } from '../../../contract/common/entities.ts';

const EXTENSIONS: Readonly<Record<FileKind, readonly string[]>> = {
  image: ['jpg', 'jpeg', 'png', 'webp', 'gif', 'tif', 'tiff', 'bmp', 'heic', 'heif', 'avif'],
  video: ['mp4', 'mov', 'mkv', 'webm', 'avi', 'm4v'],
  pdf: ['pdf'],
  text: [
    // prose and data
    'txt', 'md', 'markdown', 'rst', 'csv', 'tsv', 'json', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'log', 'tex', 'org', 'adoc',
    // code
    'ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs', 'py', 'rs', 'go', 'java', 'c', 'cc', 'cpp', 'cxx', 'h', 'hh', 'hpp', 'cs',
    'rb', 'php', 'swift', 'kt', 'kts', 'scala', 'lua', 'r', 'jl', 'dart', 'sh', 'bash', 'zsh', 'fish', 'ps1', 'bat', 'sql',
    'html', 'htm', 'css', 'scss', 'less', 'xml', 'svg', 'vue', 'svelte', 'graphql', 'proto',
  ],
  document: ['docx', 'odt', 'pptx', 'rtf'],
};

const KIND_BY_EXTENSION: ReadonlyMap<string, FileKind> = new Map(
  (Object.entries(EXTENSIONS) as [FileKind, readonly string[]][]).flatMap(([kind, extensions]) => extensions.map((ext) => [ext, kind] as const)),
);

/** Extensions (lower case, no dot) of each kind, for the UI's "what is indexed" list. */
export const EXTENSIONS_BY_KIND = EXTENSIONS;

/**
 * The lower-cased extension of a file name or path, without the dot; '' when there is none (or
 * only a leading dot). Only '/' ends a folder: on Linux and macOS a backslash is an ordinary
 * name character (`notes\.txt` is a text file). A Windows path still works: its extension
 * follows the last dot, and a dot in a folder name leaves a backslash in what follows it, which
 * is no extension.
 */
export function extensionOf(pathOrName: string): string {
  const name = pathOrName.slice(pathOrName.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return '';
  const extension = name.slice(dot + 1);
  return extension.includes('\\') ? '' : extension.toLowerCase();
}

/** The kind Trove indexes a file as, or null: not indexed (that is not a failure). */
export function fileKindOf(pathOrName: string): FileKind | null {
  return KIND_BY_EXTENSION.get(extensionOf(pathOrName)) ?? null;
}
