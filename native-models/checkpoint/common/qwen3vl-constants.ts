// Fixed numbers of the Qwen3-VL-Embedding / -Reranker reference pipeline (docs/qwen3-vl-model.md says where each
// comes from). Model-size-dependent values come from config.json instead.

/** Vision patching. */
export const PATCH_SIZE = 16;
export const TEMPORAL_PATCH_SIZE = 2;
export const SPATIAL_MERGE_SIZE = 2;
/** smart_resize factor = patch size × merge size. */
export const IMAGE_FACTOR = PATCH_SIZE * SPATIAL_MERGE_SIZE; // 32
/** Values per patch row: channels × temporal × patch × patch. */
export const PATCH_DIM = 3 * TEMPORAL_PATCH_SIZE * PATCH_SIZE * PATCH_SIZE; // 1536
/** Learned position grid side (num_position_embeddings = 48²). */
export const POS_EMBED_GRID = 48;

/** Embedder image limits (qwen3_vl_embedding.py). */
export const IMAGE_MIN_PIXELS = 4096;
export const IMAGE_MAX_PIXELS = 1800 * 32 * 32; // 1,843,200
export const MAX_ASPECT_RATIO = 200;

/** Embedder video defaults. */
export const VIDEO_FPS = 1;
export const VIDEO_MAX_FRAMES = 64;
export const FRAME_MAX_PIXELS = 768 * 32 * 32; // 786,432
export const FRAME_LIST_TOTAL_PIXELS = 10 * FRAME_MAX_PIXELS; // 7,864,320
/** qwen-vl-utils video constants. */
export const FRAME_FACTOR = 2;
export const FPS_MIN_FRAMES = 4;
export const VIDEO_MIN_TOKEN_NUM = 128;
export const VIDEO_MAX_TOKEN_NUM = 768;
export const MODEL_SEQ_LEN = 128000;
/** Frame lists carry fake metadata at this fps (qwen-vl-utils `sample_fps` default). */
export const FRAME_LIST_FPS = 2.0;

/** Normalisation (mean = std = 0.5, rescale 1/255 fused to (x − 127.5) / 127.5). */
export const NORM_CENTER = 127.5;
export const NORM_SCALE = 127.5;

/** Special token ids of the Qwen2/Qwen3 vocabulary; asserted against tokenizer.json at load. */
export const TOKEN = {
  endOfText: 151643, // also the pad id
  imStart: 151644,
  imEnd: 151645,
  visionStart: 151652,
  visionEnd: 151653,
  visionPad: 151654,
  imagePad: 151655,
  videoPad: 151656,
} as const;
export const PAD_TOKEN_ID = TOKEN.endOfText;
/** The reranker's answer tokens "yes" and "no"; asserted against tokenizer.json at load. */
export const YES_TOKEN_ID = 9693;
export const NO_TOKEN_ID = 2152;

/** Sequence limits of the official wrappers. */
export const EMBEDDER_MAX_LENGTH = 8192;
export const RERANKER_MAX_LENGTH = 10240;

export const DEFAULT_EMBED_INSTRUCTION = "Represent the user's input.";
export const DEFAULT_RERANK_INSTRUCTION = 'Given a search query, retrieve relevant candidates that answer the query.';
export const RERANK_SYSTEM_PROMPT =
  'Judge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".';
