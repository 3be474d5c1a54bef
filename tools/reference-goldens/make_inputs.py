"""Writes the golden inputs that are not taken from ../shared/corpora: images of every Pillow
mode Trove decodes, at sizes chosen for the resize cases, and the raw frames of the test videos
(run.sh encodes them with ffmpeg). Deterministic: numpy's PCG64 with fixed seeds, Pillow's
encoders with fixed settings. The outputs are committed under test/fixtures/goldens/inputs/, so
the CI test never needs Python; rerun this only to change the inputs (then regenerate the goldens).

    python3 make_inputs.py OUT_DIR
"""
import json
import pathlib
import struct
import sys
import zlib

import numpy as np
from PIL import Image

OUT = pathlib.Path(sys.argv[1])


def detail(width, height, seed, channels=3, noise=8.0, stripes=40.0):
    """Smooth gradients plus stripes plus noise: resize differences show, files stay small."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for c in range(channels):
        fx, fy = rng.uniform(0.05, 0.6, 2)
        base = 128 + 70 * np.sin(fx * x + c) * np.cos(fy * y - c) + stripes * ((x // (3 + c)) % 2) - stripes / 2
        planes.append(base + rng.normal(0, noise, (height, width)))
    return np.clip(np.rint(np.stack(planes, -1)), 0, 255).astype(np.uint8)


def smooth(width, height, seed):
    """Low-frequency colour waves (large frames that compress well)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for c in range(3):
        fx, fy = rng.uniform(0.005, 0.03, 2)
        planes.append(128 + 100 * np.sin(fx * x + c) * np.cos(fy * y - c))
    return np.clip(np.rint(np.stack(planes, -1)), 0, 255).astype(np.uint8)


def save(image, name, **options):
    path = OUT / name
    image.save(path, **options)
    return name


def png16(name, array, colour_type):
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit RGB/RGBA/LA)."""
    height, width = array.shape[:2]
    raw = b"".join(b"\x00" + array[row].astype(">u2").tobytes() for row in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    (OUT / name).write_bytes(data)
    return name


def wide16(width, height, seed, channels):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = [(x * 997 + y * 613 + c * 4099 + rng.integers(0, 4096, (height, width))) % 65536 for c in range(channels)]
    # The top third stays below 256: Pillow clips I;16 to 8 bits, so most of it turns white.
    planes = [np.where(y < height // 3, p % 256, p) for p in planes]
    return np.stack(planes, -1).astype(np.uint16)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    made = {}
    # Resize cases (RGB PNG): each axis growing or shrinking, both Pillow pass orders.
    for w, h, seed in [(100, 80, 1), (120, 50, 2), (150, 300, 3), (200, 90, 4), (140, 100, 5), (20, 12, 6), (1000, 16, 7), (12, 900, 8), (4, 1000, 9)]:
        made[f"rgb-{w}x{h}"] = save(Image.fromarray(detail(w, h, seed)), f"rgb-{w}x{h}.png")
    # Colour modes, 8-bit.
    rgba = np.concatenate([detail(90, 70, 11), detail(90, 70, 12, 1)], -1)
    rgba[:20, :30, 3] = 0  # fully transparent corner: its colour must not show
    made["rgba"] = save(Image.fromarray(rgba, "RGBA"), "rgba-90x70.png")
    la = np.concatenate([detail(90, 70, 13, 1), detail(90, 70, 14, 1)], -1)
    made["la"] = save(Image.fromarray(la, "LA"), "la-90x70.png")
    made["l"] = save(Image.fromarray(detail(90, 70, 15, 1)[..., 0], "L"), "l-90x70.png")
    palette = Image.fromarray(detail(90, 70, 16)).quantize(colors=61, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    made["p"] = save(palette, "p-90x70.png")
    made["p-transparent"] = save(palette, "p-transparent-90x70.png", transparency=3)
    made["cmyk-jpeg"] = save(Image.fromarray(np.concatenate([detail(90, 70, 17), detail(90, 70, 18, 1)], -1), "CMYK"), "cmyk-90x70.jpg", quality=95)
    made["rgb-jpeg"] = save(Image.fromarray(detail(90, 70, 19)), "rgb-90x70.jpg", quality=90)
    # Containers beside PNG/JPEG: EXIF orientation (never applied), GIF palette with a
    # transparent index, lossless WebP with alpha, CMYK TIFF.
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    made["jpeg-exif-rotated"] = save(Image.fromarray(detail(90, 70, 25)), "exif-rotated-90x70.jpg", quality=90, exif=exif)
    made["gif-transparent"] = save(palette, "transparent-90x70.gif", transparency=5)
    made["webp-lossless-rgba"] = save(Image.fromarray(rgba, "RGBA"), "rgba-90x70.webp", lossless=True)
    made["tiff-cmyk"] = save(Image.fromarray(np.concatenate([detail(90, 70, 26), detail(90, 70, 27, 1)], -1), "CMYK"), "cmyk-90x70.tif")
    # 16-bit.
    made["i16"] = png16("i16-90x70.png", wide16(90, 70, 21, 1)[..., 0], 0)
    made["rgb16"] = png16("rgb16-90x70.png", wide16(90, 70, 22, 3), 2)
    made["rgba16"] = png16("rgba16-90x70.png", wide16(90, 70, 23, 4), 6)
    made["la16"] = png16("la16-90x70.png", wide16(90, 70, 24, 2), 4)
    # Video frames: raw RGB, encoded by run.sh.
    videos = {}
    for name, (w, h, fps, frames, seed) in {
        "clip-64x48-5fps": (64, 48, 5, 20, 31),
        "clip-96x64-10fps": (96, 64, 10, 95, 32),
        "clip-80x60-7fps": (80, 60, 7, 23, 33),
        "clip-1280x720-2fps": (1280, 720, 2, 5, 34),
    }.items():
        rng = np.random.default_rng(seed)
        large = w > 640
        # The 720p clip (the per-frame token budget case) is smooth and noise-free so that its file stays small.
        base = smooth(w, h, seed) if large else detail(w, h, seed, noise=2.0)
        with open(OUT / f"{name}.rgb", "wb") as f:
            for k in range(frames):
                moved = np.roll(base, (k * 3, k * 5), (0, 1)).astype(np.int16)
                if not large:
                    moved += rng.integers(-3, 4, base.shape)
                f.write(np.clip(moved, 0, 255).astype(np.uint8).tobytes())
        videos[name] = {"width": w, "height": h, "fps": fps, "frames": frames}
    (OUT / "videos.json").write_text(json.dumps(videos, indent=2) + "\n")
    (OUT / "images.json").write_text(json.dumps(made, indent=2) + "\n")


main()
