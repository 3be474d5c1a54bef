// Paths of files that electron-builder unpacked from app.asar (asarUnpack in electron-builder.yml).
// Node's require finds them at their app.asar path, but the OS cannot execute or dlopen a file
// inside an archive, so executables must be named by their app.asar.unpacked path.
import path from 'node:path';

/** `…/resources/app.asar/node_modules/x/ffmpeg` → `…/resources/app.asar.unpacked/node_modules/x/ffmpeg`. */
export function toUnpackedAsarPath(file: string): string {
  const sep = path.sep === '\\' ? '[\\\\/]' : '/';
  return file.replace(new RegExp(`${sep}app\\.asar(?=${sep})`), (match) => `${match}.unpacked`);
}
