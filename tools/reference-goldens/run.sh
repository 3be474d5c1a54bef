#!/usr/bin/env bash
# Regenerates the reference goldens in test/fixtures/goldens/ with the official Python stack in
# a chroot (see README.md). Run from anywhere, as root (chroot needs it):
#
#   tools/reference-goldens/run.sh [--make-inputs] [ROOT]
#
# ROOT is the reference-stack chroot (default /srv/qwen-ref, built by the reference stack's
# `setup`). --make-inputs also regenerates the input images and videos (make_inputs.py, then
# ffmpeg on this machine) before the goldens; without it the committed inputs are used.
set -euo pipefail

MAKE_INPUTS=0
if [[ "${1:-}" == "--make-inputs" ]]; then MAKE_INPUTS=1; shift; fi
ROOT="${1:-/srv/qwen-ref}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOL="$REPO/tools/reference-goldens"
FIXTURES="$REPO/test/fixtures/goldens"
CORPORA="$REPO/../shared/corpora"
INSIDE=/tmp/trove-reference-goldens
WORK="$ROOT$INSIDE"

[[ -x "$ROOT/usr/bin/python3" ]] || { echo "error: no reference stack at $ROOT; build it with the reference stack's setup script first" >&2; exit 2; }
[[ -d "$CORPORA/pngsuite" && -d "$CORPORA/qwen-examples" ]] || { echo "error: $CORPORA/{pngsuite,qwen-examples} not found; the goldens read inputs from the shared corpora" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "error: ffmpeg not found (needed to encode the test videos)" >&2; exit 2; }

rm -rf "$WORK"
mkdir -p "$WORK/tool" "$WORK/inputs" "$WORK/corpora" "$WORK/processor"
cp "$TOOL"/*.py "$WORK/tool/"
cp "$FIXTURES/weight-recipe.json" "$WORK/"

if [[ "$MAKE_INPUTS" == 1 ]]; then
  chroot "$ROOT" python3 "$INSIDE/tool/make_inputs.py" "$INSIDE/inputs"
  # Videos: H.264 (yuv420p) from the raw RGB frames; libx264 with one thread and -bitexact so a
  # rerun with the same ffmpeg writes the same bytes. Decoding H.264 is bit-exact everywhere.
  python3 - "$WORK/inputs" <<'PY'
import json, subprocess, sys, pathlib
folder = pathlib.Path(sys.argv[1])
for name, v in json.loads((folder / "videos.json").read_text()).items():
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{v['width']}x{v['height']}",
                    "-r", str(v["fps"]), "-i", str(folder / f"{name}.rgb"), "-c:v", "libx264", "-preset", "medium", "-crf", "28",
                    "-pix_fmt", "yuv420p", "-threads", "1", "-bitexact", "-map_metadata", "-1", str(folder / f"{name}.mp4")], check=True)
    (folder / f"{name}.rgb").unlink()
PY
  rm -rf "$FIXTURES/inputs"
  mkdir -p "$FIXTURES/inputs"
  cp "$WORK/inputs"/* "$FIXTURES/inputs/"
else
  cp "$FIXTURES/inputs"/* "$WORK/inputs/"
fi
cp -r "$CORPORA/pngsuite" "$CORPORA/qwen-examples" "$WORK/corpora/"

# Tokenizer and processor files: the project's own (the real Qwen3 vocabulary, its chat template).
(cd "$REPO" && node --import tsx --input-type=module --eval "
  const { writeTinyProcessorFiles } = await import('./native-models/tiny/generate-tiny-checkpoint.ts');
  await writeTinyProcessorFiles(process.argv[1]);" "$WORK/processor")

chroot "$ROOT" python3 "$INSIDE/tool/generate.py" "$INSIDE"
cp "$WORK/out"/*.json "$FIXTURES/"
echo "goldens written to $FIXTURES"
