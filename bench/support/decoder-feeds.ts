// Text-only feeds for a decoder graph (the contract of docs/model-packages.md#graph-inputs-and-outputs)
// shared by the model benchmarks: right-padded rows of the given lengths, seeded token ids drawn
// below `vocabRows` (the benches' cut embedding tables have no pad id 151643), text positions on
// all three rope axes, no visual rows.
import * as ort from 'onnxruntime-node';

export function textDecoderFeeds(lengths: readonly number[], options: { hidden: number; vocabRows: number }): Record<string, ort.Tensor> {
  const batch = lengths.length;
  const seq = Math.max(...lengths);
  const count = batch * seq;
  const ids = new BigInt64Array(count);
  const mask = new BigInt64Array(count);
  const positions = new BigInt64Array(3 * count);
  let state = 99;
  lengths.forEach((length, b) => {
    for (let s = 0; s < seq; s++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const real = s < length;
      ids[b * seq + s] = BigInt(real ? state % options.vocabRows : 0);
      mask[b * seq + s] = real ? 1n : 0n;
      for (let axis = 0; axis < 3; axis++) positions[axis * count + b * seq + s] = BigInt(s);
    }
  });
  return {
    input_ids: new ort.Tensor('int64', ids, [batch, seq]),
    attention_mask: new ort.Tensor('int64', mask, [batch, seq]),
    position_ids: new ort.Tensor('int64', positions, [3, batch, seq]),
    visual_embeds: new ort.Tensor('float32', new Float32Array(0), [0, options.hidden]),
    deepstack_embeds: new ort.Tensor('float32', new Float32Array(0), [3, 0, options.hidden]),
    visual_index: new ort.Tensor('int64', new BigInt64Array(count).fill(-1n), [batch, seq]),
    last_index: new ort.Tensor('int64', BigInt64Array.from(lengths, (l) => BigInt(l - 1)), [batch]),
  };
}
