// Turning a dropped, pasted or picked File into the bytes `search.run` accepts.
import type { ImageQuery } from './app-state.ts';

/** The engine decodes images, not arbitrary files; reject the rest before sending megabytes. */
export const MAX_QUERY_IMAGE_BYTES = 25 * 1024 * 1024;

export function firstImageFile(list: FileList | DataTransferItemList | null | undefined): File | null {
  if (!list) return null;
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    const file = entry instanceof File ? entry : entry && entry.kind === 'file' ? entry.getAsFile() : null;
    if (file && file.type.startsWith('image/')) return file;
  }
  return null;
}

export async function imageQueryFromFile(file: File): Promise<ImageQuery> {
  if (!file.type.startsWith('image/')) throw new Error(`${file.name || 'That file'} is not an image.`);
  if (file.size > MAX_QUERY_IMAGE_BYTES) throw new Error(`${file.name || 'That image'} is larger than 25 MB.`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return { name: file.name || 'Pasted image', mime: file.type, dataBase64: btoa(binary), previewUrl: URL.createObjectURL(file) };
}
