// `node --import tsx bench/device-probe.ts [--json FILE]`: which onnxruntime-node execution providers
// load on this machine, each said in one plain line (bench/device-run.sh runs the model benchmarks on
// those that do). An EP "loads" when a session on a small attention-like graph (MatMul, Softmax,
// MatMul) is created with it and gives the CPU's answer. Lines look like
//   cpu: loads (onnxruntime-node 1.30.0)
//   cuda: missing: onnxruntime-node was installed without its CUDA provider …
//   webgpu: failed: Failed to get a WebGPU adapter: No supported adapters
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { currentEnvironment, skipReason, type ExecutionProviderName } from '../electron/engine/inference/node/runtime/execution-providers.ts';
import { GraphBuilder } from '../native-models/onnx/node/graph-builder.ts';

/** The EPs a Linux GPU machine can have, CPU first (the baseline). */
const PROBED: ExecutionProviderName[] = ['cpu', 'cuda', 'webgpu'];

export interface ProbeResult {
  readonly ep: ExecutionProviderName;
  readonly outcome: 'loads' | 'missing' | 'failed';
  readonly detail: string;
}

const firstLine = (error: unknown) => String(error instanceof Error ? error.message : error).split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? '';

async function probeGraph(dir: string): Promise<string> {
  const g = new GraphBuilder('device_probe', { scratchDir: dir });
  const x = g.input('x', 'float32', ['rows', 64]);
  const w = g.weight('w', Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i) / 8), [64, 64]);
  const scores = g.node('MatMul', [x, g.node('Transpose', [g.node('MatMul', [x, w])], { perm: [1, 0] })]);
  g.output('y', 'float32', ['rows', 64], g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), x]));
  return (await g.save(path.join(dir, 'probe.onnx'))).onnxFile;
}

export async function probeProviders(): Promise<ProbeResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-device-probe-'));
  try {
    const file = await probeGraph(dir);
    const input = { x: new ort.Tensor('float32', Float32Array.from({ length: 128 * 64 }, (_, i) => Math.cos(i * 0.37)), [128, 64]) };
    const env = { ...currentEnvironment(), override: undefined };
    let expected: Float32Array | null = null;
    const results: ProbeResult[] = [];
    for (const ep of PROBED) {
      // The runtime's own reasons for not trying an EP (a provider library absent, wrong platform).
      const reason = ep === 'cpu' ? null : skipReason(ep, env);
      if (reason !== null) {
        results.push({ ep, outcome: 'missing', detail: reason });
        continue;
      }
      try {
        const session = await ort.InferenceSession.create(file, { executionProviders: [ep], logSeverityLevel: 3 });
        try {
          const y = (await session.run(input)).y!.data as Float32Array;
          if (expected === null) expected = y;
          let maxAbs = 0;
          for (let i = 0; i < y.length; i++) maxAbs = Math.max(maxAbs, Math.abs(y[i]! - expected[i]!));
          results.push(maxAbs <= 1e-2
            ? { ep, outcome: 'loads', detail: ep === 'cpu' ? `onnxruntime-node ${ort.env.versions.common}` : `max |Δ| to CPU ${maxAbs.toExponential(1)}` }
            : { ep, outcome: 'failed', detail: `runs but differs from CPU by ${maxAbs}` });
        } finally {
          await session.release();
        }
      } catch (error) {
        results.push({ ep, outcome: 'failed', detail: firstLine(error) });
      }
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results = await probeProviders();
  for (const r of results) console.log(`${r.ep}: ${r.outcome}${r.detail ? `: ${r.detail}` : ''}`);
  const json = process.argv.indexOf('--json');
  if (json > 0) await writeFile(process.argv[json + 1]!, JSON.stringify(results, null, 2));
}

await main();
