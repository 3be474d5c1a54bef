// A failure's reason as it is listed beside the file's path (files.failures: the app's list,
// `trove status`): without that path repeated inside it. The reasons come from many places that
// name the file so their messages stand alone elsewhere (a decoder's "Cannot decode image
// '/home/ada/…/IMG_0042.jpg': …", ffmpeg's "…: Invalid data found"), and a path of 100 characters
// twice in a row buries what went wrong. Only the file's own path is taken out; other paths a
// reason names (a part inside a document, another folder) stay.

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `reason` without `path` in it, still a sentence: "'<path>' cannot be read: …" becomes "This file
 * cannot be read: …" ("This folder" for a folder), "Image '<path>' is empty" becomes "This image is
 * empty", "Cannot decode image '<path>': …" becomes
 * "Cannot decode image: …", "Cannot make a thumbnail of '<path>': …" becomes "Cannot make a
 * thumbnail: …"; the first letter is a capital.
 */
export function pathFreeReason(reason: string, path: string, what: 'file' | 'folder' = 'file'): string {
  let out = reason;
  if (path !== '' && out.includes(path)) {
    const p = escapeRegExp(path);
    const quoted = `['"\u2018\u201c]${p}['"\u2019\u201d]`;
    out = out
      // "'<path>': Not a text file: …" (the path was only a label)
      .replace(new RegExp(`^${quoted}:\\s*`), '')
      // "Image '<path>' is empty …": "This image is empty …"
      .replace(new RegExp(`^(Image|Video|PDF|Document|Text file|File|Folder) ${quoted}`), (_, noun: string) => `This ${noun === 'PDF' ? noun : noun.toLowerCase()}`)
      // "'<path>' cannot be read: …"
      .replace(new RegExp(`^${quoted}`), what === 'folder' ? 'This folder' : 'This file')
      // "Cannot make a thumbnail of '<path>': …", "Cannot decode image '<path>': …", "PDF '<path>' has …"
      .replace(new RegExp(`(?: of| in| at)? ${quoted}`, 'g'), '')
      // A tool's own words, unquoted: "… | <path>: Invalid data found when processing input."
      .replace(new RegExp(`${p}:\\s*`, 'g'), '')
      // Anywhere else: the file is the one beside the reason.
      .replace(new RegExp(`${quoted}|${p}(?![\\w./\\\\-])`, 'g'), what === 'folder' ? 'this folder' : 'this file');
  }
  out = out.trimStart();
  return out.charAt(0).toUpperCase() + out.slice(1);
}
