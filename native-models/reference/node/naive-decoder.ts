// Naive float64 Qwen3-VL text decoder (tests only): docs/qwen3-vl-model.md#text-decoder, checked against
// transformers' Qwen3VLModel.forward / Qwen3VLTextModel / Qwen3VLTextAttention.
import { addInPlace, applyRotary, linear, mapInPlace, rmsNorm, silu, softmax } from '../common/naive-ops.ts';
import type { NaiveVisionOutput } from './naive-vision.ts';
import { EMBED_TOKENS, TEXT_PREFIX, type NaiveTextConfig, type NaiveWeights } from './naive-weights.ts';

const f32 = Math.fround;
/** Added to disallowed attention scores: finite, so a fully masked (pad) query row stays finite. */
export const MASKED_SCORE = -1e30;

export interface NaiveDecoderInput {
  readonly inputIds: readonly (readonly number[])[];
  readonly attentionMask: readonly (readonly number[])[];
  /** [3][batch][seq] (T, H, W), as get_rope_index returns them. */
  readonly positionIds: readonly (readonly (readonly number[])[])[];
  /** Vision outputs of the images, in order of appearance (row-major over (b, s)). */
  readonly imageEmbeds?: readonly NaiveVisionOutput[];
  /** Vision outputs of the videos, in order of appearance. */
  readonly videoEmbeds?: readonly NaiveVisionOutput[];
}

export interface NaiveDecoderOutput {
  /** Final-RMSNorm'ed hidden states [batch][seq][hidden] (`last_hidden_state`). */
  readonly lastHidden: Float64Array[][];
  /** Token embeddings with image/video features scattered in (the fused `inputs_embeds`). */
  readonly inputsEmbeds: Float64Array[][];
  /** Output of decoder layer ℓ as a forward hook on the layer sees it: before the DeepStack add. */
  readonly layerOutputs: Float64Array[][][];
  /** Hidden state entering layer ℓ+1: layer ℓ's output plus DeepStack ℓ at visual positions. */
  readonly afterDeepstack: Float64Array[][][];
}

/**
 * Which position axis (0 = T, 1 = H, 2 = W) drives each of the head_dim/2 rotary frequencies:
 * apply_interleaved_mrope starts from all-T and overwrites, for axis a ∈ {1, 2}, the slots
 * a, a+3, a+6, … below 3·mrope_section[a]. With [24, 20, 20]: H at j%3==1 && j<60, W at
 * j%3==2 && j<60, T elsewhere (including the tail 60..63).
 */
export function mropeAxisOfSlot(mropeSection: readonly [number, number, number], slots: number): number[] {
  const axis = new Array<number>(slots).fill(0);
  for (const a of [1, 2]) {
    for (let j = a; j < Math.min(3 * mropeSection[a], slots); j += 3) axis[j] = a;
  }
  return axis;
}

/** Text rotary inverse frequencies in float32, as Qwen3VLTextRotaryEmbedding's default init. */
export function textInverseFrequencies(text: NaiveTextConfig): number[] {
  const out: number[] = [];
  for (let j = 0; j < text.headDim; j += 2) out.push(f32(1 / f32(text.ropeTheta ** f32(j / text.headDim))));
  return out;
}

/** cos/sin [head_dim] of one token from its (T, H, W) position ids. */
export function textRotary(text: NaiveTextConfig, position: readonly [number, number, number]): { cos: Float64Array; sin: Float64Array } {
  const freqs = textInverseFrequencies(text);
  const axis = mropeAxisOfSlot(text.mropeSection, freqs.length);
  // Angles formed exactly from the float32 frequencies (HF multiplies in float32; the
  // difference, ≤ pos·2⁻²⁴ rad, is noise the graphs are allowed).
  const angles = freqs.map((f, j) => position[axis[j]] * f);
  const emb = [...angles, ...angles];
  return { cos: Float64Array.from(emb, Math.cos), sin: Float64Array.from(emb, Math.sin) };
}

interface LayerWeights {
  inputNorm: Float64Array; postNorm: Float64Array;
  q: Float64Array; k: Float64Array; v: Float64Array; o: Float64Array;
  qNorm: Float64Array; kNorm: Float64Array;
  gate: Float64Array; up: Float64Array; down: Float64Array;
}

function layerWeights(weights: NaiveWeights, text: NaiveTextConfig, index: number): LayerWeights {
  const p = `${TEXT_PREFIX}layers.${index}.`;
  const { hiddenSize: hid, numHeads, numKvHeads, headDim: hd, intermediateSize: inter } = text;
  const w = (name: string, shape: number[]) => weights.get(p + name, shape).data;
  return {
    inputNorm: w('input_layernorm.weight', [hid]),
    postNorm: w('post_attention_layernorm.weight', [hid]),
    q: w('self_attn.q_proj.weight', [numHeads * hd, hid]),
    k: w('self_attn.k_proj.weight', [numKvHeads * hd, hid]),
    v: w('self_attn.v_proj.weight', [numKvHeads * hd, hid]),
    o: w('self_attn.o_proj.weight', [hid, numHeads * hd]),
    qNorm: w('self_attn.q_norm.weight', [hd]),
    kNorm: w('self_attn.k_norm.weight', [hd]),
    gate: w('mlp.gate_proj.weight', [inter, hid]),
    up: w('mlp.up_proj.weight', [inter, hid]),
    down: w('mlp.down_proj.weight', [hid, inter]),
  };
}

/** Splits a projection into per-head vectors, RMS-normalises each (q_norm/k_norm), then rotates. */
function headsNormedRotated(
  projected: Float64Array,
  heads: number,
  text: NaiveTextConfig,
  normWeight: Float64Array,
  rotary: { cos: Float64Array; sin: Float64Array },
): Float64Array[] {
  const hd = text.headDim;
  const out: Float64Array[] = [];
  for (let h = 0; h < heads; h++) {
    const normed = rmsNorm(projected.subarray(h * hd, (h + 1) * hd), normWeight, text.rmsNormEps);
    out.push(applyRotary(normed, rotary.cos, rotary.sin));
  }
  return out;
}

/** One Qwen3 decoder layer over one sequence (batch rows never interact). */
function decoderLayer(x: Float64Array[], mask: readonly number[], rotary: { cos: Float64Array; sin: Float64Array }[], lw: LayerWeights, text: NaiveTextConfig): Float64Array[] {
  const { hiddenSize: hid, numHeads, numKvHeads, headDim: hd, rmsNormEps: eps } = text;
  const S = x.length;
  const groups = numHeads / numKvHeads;
  const normed = x.map((r) => rmsNorm(r, lw.inputNorm, eps));
  const q = normed.map((r, s) => headsNormedRotated(linear(lw.q, undefined, r, numHeads * hd), numHeads, text, lw.qNorm, rotary[s]));
  const k = normed.map((r, s) => headsNormedRotated(linear(lw.k, undefined, r, numKvHeads * hd), numKvHeads, text, lw.kNorm, rotary[s]));
  const v = normed.map((r) => linear(lw.v, undefined, r, numKvHeads * hd));

  const out: Float64Array[] = [];
  for (let i = 0; i < S; i++) {
    const attended = new Float64Array(numHeads * hd);
    for (let h = 0; h < numHeads; h++) {
      const kvHead = Math.floor(h / groups); // GQA: query heads [kv·groups, (kv+1)·groups) share kv head kv
      const scores = new Float64Array(S);
      for (let j = 0; j < S; j++) {
        let s = 0;
        for (let d = 0; d < hd; d++) s += q[i][h][d] * k[j][kvHead][d];
        const allowed = j <= i && mask[j] === 1; // causal + key padding
        scores[j] = s / Math.sqrt(hd) + (allowed ? 0 : MASKED_SCORE);
      }
      const p = softmax(scores);
      for (let j = 0; j < S; j++) {
        for (let d = 0; d < hd; d++) attended[h * hd + d] += p[j] * v[j][kvHead * hd + d];
      }
    }
    const r = addInPlace(linear(lw.o, undefined, attended, hid), x[i]);
    const y = rmsNorm(r, lw.postNorm, eps);
    const gate = mapInPlace(linear(lw.gate, undefined, y, text.intermediateSize), silu);
    const up = linear(lw.up, undefined, y, text.intermediateSize);
    for (let m = 0; m < gate.length; m++) gate[m] *= up[m];
    out.push(addInPlace(linear(lw.down, undefined, gate, hid), r));
  }
  return out;
}

function concatRows(outputs: readonly NaiveVisionOutput[] | undefined, pick: (o: NaiveVisionOutput) => Float64Array[]): Float64Array[] {
  return (outputs ?? []).flatMap(pick);
}

/**
 * Embeds the tokens and scatters the vision features into the pad positions (masked_scatter:
 * k-th image-pad position in row-major (b, s) order gets the k-th image row; videos likewise),
 * and lists the DeepStack row added at each visual position, per tap.
 */
function fuseInputs(weights: NaiveWeights, input: NaiveDecoderInput): { embeds: Float64Array[][]; deepstackAt: Map<string, Float64Array>[] } {
  const { text, imageTokenId, videoTokenId } = weights.config;
  const hid = text.hiddenSize;
  const table = weights.get(EMBED_TOKENS, [text.vocabSize, hid]).data;
  const imageRows = concatRows(input.imageEmbeds, (o) => o.merged);
  const videoRows = concatRows(input.videoEmbeds, (o) => o.merged);
  const taps = [0, 1, 2];
  const imageDeep = taps.map((t) => concatRows(input.imageEmbeds, (o) => o.deepstack[t]));
  const videoDeep = taps.map((t) => concatRows(input.videoEmbeds, (o) => o.deepstack[t]));
  const deepstackAt = taps.map(() => new Map<string, Float64Array>());
  let image = 0;
  let video = 0;
  const embeds = input.inputIds.map((ids, b) =>
    ids.map((id, s) => {
      if (!Number.isInteger(id) || id < 0 || id >= text.vocabSize) throw new RangeError(`token id ${id} outside the vocabulary`);
      if (id === imageTokenId || id === videoTokenId) {
        const isImage = id === imageTokenId;
        const k = isImage ? image++ : video++;
        const rows = isImage ? imageRows : videoRows;
        if (k >= rows.length) throw new Error(`more ${isImage ? 'image' : 'video'} pad tokens than features (${rows.length})`);
        if (rows[k].length !== hid) throw new RangeError(`vision feature width ${rows[k].length} ≠ hidden ${hid}`);
        taps.forEach((t) => deepstackAt[t].set(`${b},${s}`, (isImage ? imageDeep : videoDeep)[t][k]));
        return Float64Array.from(rows[k]);
      }
      return Float64Array.from(table.subarray(id * hid, (id + 1) * hid));
    }),
  );
  if (image !== imageRows.length) throw new Error(`image features and image tokens do not match: tokens ${image}, features ${imageRows.length}`);
  if (video !== videoRows.length) throw new Error(`video features and video tokens do not match: tokens ${video}, features ${videoRows.length}`);
  return { embeds, deepstackAt };
}

function checkShapes(input: NaiveDecoderInput): void {
  const B = input.inputIds.length;
  const S = B > 0 ? input.inputIds[0].length : 0;
  const ok2 = (m: readonly (readonly number[])[]) => m.length === B && m.every((r) => r.length === S);
  if (!ok2(input.inputIds) || !ok2(input.attentionMask)) throw new RangeError(`inputIds and attentionMask must both be [${B}][${S}]`);
  if (input.positionIds.length !== 3 || !input.positionIds.every(ok2)) throw new RangeError(`positionIds must be [3][${B}][${S}]`);
}

/** Runs the text decoder with the vision features fused in; returns last_hidden_state and taps. */
export function naiveDecoder(weights: NaiveWeights, input: NaiveDecoderInput): NaiveDecoderOutput {
  checkShapes(input);
  const text = weights.config.text;
  const { embeds, deepstackAt } = fuseInputs(weights, input);
  const rotary = input.inputIds.map((ids, b) =>
    ids.map((_, s) => textRotary(text, [input.positionIds[0][b][s], input.positionIds[1][b][s], input.positionIds[2][b][s]])),
  );
  const layerOutputs: Float64Array[][][] = [];
  const afterDeepstack: Float64Array[][][] = [];
  let x: Float64Array[][] = embeds.map((row) => row.map((v) => Float64Array.from(v)));
  for (let layer = 0; layer < text.numLayers; layer++) {
    const lw = layerWeights(weights, text, layer);
    x = x.map((row, b) => decoderLayer(row, input.attentionMask[b], rotary[b], lw, text));
    layerOutputs.push(x.map((row) => row.map((v) => Float64Array.from(v))));
    if (layer < deepstackAt.length) {
      for (const [key, add] of deepstackAt[layer]) {
        const [b, s] = key.split(',').map(Number);
        addInPlace(x[b][s], add);
      }
    }
    afterDeepstack.push(x.map((row) => row.map((v) => Float64Array.from(v))));
  }
  const finalNorm = weights.get(`${TEXT_PREFIX}norm.weight`, [text.hiddenSize]).data;
  const lastHidden = x.map((row) => row.map((v) => rmsNorm(v, finalNorm, text.rmsNormEps)));
  return { lastHidden, inputsEmbeds: embeds, layerOutputs, afterDeepstack };
}
