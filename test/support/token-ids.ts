// Token ids of the Qwen2/Qwen3 vocabulary as docs/qwen3-vl-model.md#token-ids lists them, written out
// here rather than imported from the implementation so tests check against independent values.
export const PAD = 151643;
export const IM_START = 151644;
export const IM_END = 151645;
export const VISION_START = 151652;
export const VISION_END = 151653;
export const IMAGE_PAD = 151655;
export const VIDEO_PAD = 151656;
export const ASSISTANT = 77091;
export const NL = 198;
