// Shapes shared by the image and video paths.

/** 8-bit RGB pixels, row-major, interleaved: data.length === width · height · 3. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A vision input's patch grid: [temporal groups, patch rows, patch columns] (grid_thw). */
export type GridThw = readonly [t: number, h: number, w: number];

export function assertRgbImage(image: RgbImage): void {
  if (image.data.length !== image.width * image.height * 3) {
    throw new RangeError(`RGB image ${image.width}×${image.height} needs ${image.width * image.height * 3} bytes, got ${image.data.length}`);
  }
}
