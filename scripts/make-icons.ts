// Renders the placeholder app and tray icons from resources/*.svg with sharp. The PNGs are
// committed (small), so packaging needs no extra step; rerun after changing an SVG:
//   node --import tsx scripts/make-icons.ts
// electron-builder turns 1024x1024.png into .icns (dmg) and 256x256.png into .ico (nsis); Linux
// takes the whole folder of NxN.png files.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'resources', 'icons');
export const APP_ICON_SIZES = [16, 32, 48, 64, 128, 256, 512, 1024] as const;

async function render(svg: string, size: number, file: string): Promise<void> {
  const source = path.join(ROOT, 'resources', svg);
  const { width = size } = await sharp(source).metadata();
  // Rasterise at (at least) the target size so small icons are downsampled, not upscaled.
  await sharp(source, { density: Math.max(72, (72 * size) / width) })
    .resize(size, size)
    .png({ compressionLevel: 9, palette: size <= 64 })
    .toFile(path.join(OUT, file));
}

export async function makeIcons(): Promise<string[]> {
  await mkdir(OUT, { recursive: true });
  const written: string[] = [];
  for (const size of APP_ICON_SIZES) {
    await render('icon.svg', size, `${size}x${size}.png`);
    written.push(`${size}x${size}.png`);
  }
  // Windows/Linux trays: 32 px; macOS: a template image ("Template" suffix) at 16 px and @2x.
  for (const [size, file] of [
    [32, 'tray.png'],
    [16, 'trayTemplate.png'],
    [32, 'trayTemplate@2x.png'],
  ] as const) {
    await render('tray.svg', size, file);
    written.push(file);
  }
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  makeIcons().then(
    (files) => console.log(`wrote ${files.length} icons to resources/icons/: ${files.join(', ')}`),
    (error: unknown) => {
      console.error(`make-icons: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
