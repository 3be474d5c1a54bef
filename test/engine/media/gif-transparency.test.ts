// The transparent colour Pillow shows for a GIF's first frame, read from the file's header blocks
// (the end-to-end check is the gif-transparent case of test/goldens/reference-goldens.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fillTransparentPixels, gifTransparentColour } from '../../../electron/engine/media/common/gif-transparency.ts';

/** A GIF's bytes up to the first image descriptor (enough for the parser). */
function gif(options: { global?: number[][]; local?: number[][]; transparent?: number; comment?: boolean }): Uint8Array {
  const table = (colours: number[][]) => {
    const size = Math.max(1, Math.ceil(Math.log2(colours.length)) - 1);
    const padded = [...colours];
    while (padded.length < 2 ** (size + 1)) padded.push([0, 0, 0]);
    return { flag: 0x80 | size, bytes: padded.flat() };
  };
  const g = options.global ? table(options.global) : undefined;
  const l = options.local ? table(options.local) : undefined;
  const bytes = [...Buffer.from('GIF89a'), 2, 0, 2, 0, g?.flag ?? 0, 0, 0, ...(g?.bytes ?? [])];
  if (options.comment) bytes.push(0x21, 0xfe, 3, 0x61, 0x62, 0x63, 0);
  if (options.transparent !== undefined) bytes.push(0x21, 0xf9, 4, 0x01, 0, 0, options.transparent, 0);
  bytes.push(0x2c, 0, 0, 0, 0, 2, 0, 2, 0, l?.flag ?? 0, ...(l?.bytes ?? []), 2);
  return Uint8Array.from(bytes);
}

const colours = [[10, 20, 30], [40, 50, 60], [70, 80, 90], [100, 110, 120]];

test('the transparent index is looked up in the global palette', () => {
  assert.deepEqual(gifTransparentColour(gif({ global: colours, transparent: 2 })), [70, 80, 90]);
  assert.deepEqual(gifTransparentColour(gif({ global: colours, transparent: 1, comment: true })), [40, 50, 60]);
});

test("a frame's local palette wins over the global one", () => {
  assert.deepEqual(gifTransparentColour(gif({ global: colours, local: [[1, 2, 3], [4, 5, 6]], transparent: 1 })), [4, 5, 6]);
});

test('no transparency, no GIF: nothing to fill; no palette at all: the index is a grey level', () => {
  assert.equal(gifTransparentColour(gif({ global: colours })), undefined);
  assert.equal(gifTransparentColour(Uint8Array.from(Buffer.from('\x89PNG\r\n\x1a\n'))), undefined);
  assert.deepEqual(gifTransparentColour(gif({ transparent: 7 })), [7, 7, 7]);
});

test('only fully transparent pixels get the colour', () => {
  const data = Uint8Array.from([0, 0, 0, 0, 9, 9, 9, 255, 0, 0, 0, 1]);
  fillTransparentPixels(data, [70, 80, 90]);
  assert.deepEqual([...data], [70, 80, 90, 0, 9, 9, 9, 255, 0, 0, 0, 1]);
});
