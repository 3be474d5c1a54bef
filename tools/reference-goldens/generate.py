"""Golden outputs of the official Qwen3-VL-Embedding / -Reranker wrappers on checkpoints written
by transformers itself, for test/goldens/reference-goldens.test.ts. Run through run.sh (it sets up
the folders below inside the reference-stack chroot); README.md says what this does and why.

    python3 generate.py WORK

WORK holds: inputs/ (make_inputs.py's files and the encoded videos), corpora/ (the pngsuite and
qwen-examples files the cases name), processor/ (tokenizer and processor files written by the
project's tiny-checkpoint code), weight-recipe.json. Outputs go to WORK/out/.
"""
import hashlib
import json
import math
import os
import pathlib
import shutil
import sys
import types

os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "torchcodec")
os.environ.setdefault("TORCHCODEC_NUM_THREADS", "1")
sys.path.insert(0, "/opt/upstream")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import PIL  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration  # noqa: E402
from transformers.models.qwen3_vl import modeling_qwen3_vl  # noqa: E402

# Adaptation 1: the reranker wrapper imports scipy.special and never uses it; scipy is not part of
# the reference stack. An empty stand-in module lets the published file import unchanged.
if "scipy" not in sys.modules:
    scipy_stub = types.ModuleType("scipy")
    scipy_stub.special = types.ModuleType("scipy.special")
    sys.modules["scipy"] = scipy_stub
    sys.modules["scipy.special"] = scipy_stub.special

import qwen3_vl_embedding  # noqa: E402
import qwen3_vl_reranker  # noqa: E402
import qwen_vl_utils  # noqa: E402
from qwen_vl_utils import vision_process  # noqa: E402
from qwen3_vl_embedding import Qwen3VLEmbedder, Qwen3VLForEmbedding  # noqa: E402
from qwen3_vl_reranker import Qwen3VLReranker  # noqa: E402

from seeded_weights import draw, load_recipe, rule_for  # noqa: E402

WORK = pathlib.Path(sys.argv[1])
OUT = WORK / "out"
REPO_INPUTS = "test/fixtures/goldens/inputs/"
REPO_CORPORA = "../shared/corpora/"
torch.manual_seed(0)
torch.set_num_threads(2)

# ---------------------------------------------------------------------------------------------
# Adaptation 2: Pillow's resize pass order. The wrappers were published with Pillow 12.0.0, which
# resamples horizontally first and vertically second; Pillow 13 (this stack) may run the vertical
# pass first, which changes pixels whenever the vertical pass shrinks more than the horizontal one
# or one axis grows while the other shrinks. Trove follows the published behaviour, so the goldens
# emulate Pillow 12 with two single-axis resizes (one pass each, horizontal first), which equals
# Pillow 12's two-pass resize byte for byte. Each image case also records what Pillow 13 gives.
_pillow_resize = Image.Image.resize
PILLOW_ORDER = {"mode": "pillow12"}


def _resize_like_pillow12(self, size, resample=None, box=None, reducing_gap=None):
    width, height = size
    bicubic = resample in (None, Image.Resampling.BICUBIC)
    if PILLOW_ORDER["mode"] == "pillow12" and box is None and reducing_gap is None and bicubic and self.mode == "RGB" and width != self.width and height != self.height:
        wide = _pillow_resize(self, (width, self.height), Image.Resampling.BICUBIC)
        return _pillow_resize(wide, (width, height), Image.Resampling.BICUBIC)
    return _pillow_resize(self, size, resample, box, reducing_gap)


Image.Image.resize = _resize_like_pillow12

# Adaptation 3: transformers 5's processor expands only <|video_pad|> and keeps the chat template's
# outer <|vision_start|> … <|vision_end|> around the timestamped frame groups (nested vision
# tokens); transformers 4.57, which the wrappers were published with, replaced the whole triple.
# The published prompt is restored by collapsing the triple before the processor expands it.
VIDEO_TRIPLE = "<|vision_start|><|video_pad|><|vision_end|>"


def collapse_video_triples(processor):
    template = processor.apply_chat_template

    def apply(*args, **kwargs):
        out = template(*args, **kwargs)
        if isinstance(out, str):
            return out.replace(VIDEO_TRIPLE, "<|video_pad|>")
        return [t.replace(VIDEO_TRIPLE, "<|video_pad|>") for t in out]

    processor.apply_chat_template = apply


# ---------------------------------------------------------------------------------------------
# Checkpoints: transformers' own classes, every saved tensor drawn from the seeded recipe.

def model_config(tied: bool) -> dict:
    return dict(
        text_config=dict(
            vocab_size=151936, hidden_size=48, intermediate_size=112, num_hidden_layers=3,
            num_attention_heads=4, num_key_value_heads=2, head_dim=32, hidden_act="silu",
            rms_norm_eps=1e-6, max_position_embeddings=262144,
            rope_parameters=dict(rope_type="default", rope_theta=5000000.0, mrope_section=[6, 5, 5], mrope_interleaved=True),
            tie_word_embeddings=tied,
        ),
        vision_config=dict(
            depth=5, hidden_size=48, intermediate_size=96, num_heads=3, out_hidden_size=48,
            deepstack_visual_indexes=[0, 2, 3], patch_size=16, temporal_patch_size=2,
            spatial_merge_size=2, num_position_embeddings=2304, hidden_act="gelu_pytorch_tanh",
        ),
        tie_word_embeddings=tied,
    )


CHECKPOINTS = {
    # name: (transformers class, tied embeddings)
    "embedder": (Qwen3VLForEmbedding, True),
    "reranker": (Qwen3VLForConditionalGeneration, False),
    "reranker-tied": (Qwen3VLForConditionalGeneration, True),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_checkpoint(name: str, recipe) -> pathlib.Path:
    cls, tied = CHECKPOINTS[name]
    seed = recipe["seeds"][name]
    model = cls(Qwen3VLConfig(**model_config(tied)))
    drawn = []
    with torch.no_grad():
        for tensor_name, parameter in model.named_parameters():
            rule = rule_for(recipe, tensor_name)
            values = draw(tensor_name, tuple(parameter.shape), seed, rule["mean"], rule["std"])
            parameter.copy_(torch.from_numpy(values))
            drawn.append(tensor_name)
    folder = WORK / "checkpoints" / name
    if folder.exists():
        shutil.rmtree(folder)
    model.save_pretrained(folder, safe_serialization=True)
    for f in (WORK / "processor").iterdir():
        shutil.copy(f, folder / f.name)
    weights = folder / "model.safetensors"
    tensors = []
    with safe_open(weights, "pt") as f:
        saved = sorted(f.keys())
        metadata = f.metadata()
        for key in saved:
            t = f.get_tensor(key)
            assert t.dtype == torch.float32, key
            tensors.append({"name": key, "dtype": "F32", "shape": list(t.shape), "sha256": sha256(t.contiguous().numpy().astype("<f4").tobytes())})
    # Every saved tensor must be one we drew under its own name (tied heads are not saved).
    assert set(saved) <= set(drawn), sorted(set(saved) - set(drawn))
    manifest = {
        "class": cls.__name__,
        "seed": seed,
        "metadata": metadata,
        "file_sha256": sha256(weights.read_bytes()),
        "file_bytes": weights.stat().st_size,
        "tensors": tensors,
    }
    (OUT / f"{name}-config.json").write_text((folder / "config.json").read_text())
    (OUT / f"{name}-tensors.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return folder


# ---------------------------------------------------------------------------------------------
# Recording helpers.

def repo_to_local(path: str) -> str:
    if path.startswith(REPO_INPUTS):
        return str(WORK / "inputs" / path[len(REPO_INPUTS):])
    if path.startswith(REPO_CORPORA):
        return str(WORK / "corpora" / path[len(REPO_CORPORA):])
    raise ValueError(path)


def f32_list(t) -> list:
    return [float(x) for x in t.detach().to(torch.float32).reshape(-1).tolist()]


def pixel_record(rows: torch.Tensor) -> dict:
    data = rows.detach().to(torch.float32).contiguous().numpy()
    return {"rows": int(data.shape[0]), "sha256": sha256(data.astype("<f4").tobytes()), "sum": float(data.astype(np.float64).sum())}


def split_rows(pixels, grids):
    out, start = [], 0
    for g in grids:
        n = int(g[0] * g[1] * g[2])
        out.append(pixels[start:start + n])
        start += n
    assert start == pixels.shape[0]
    return out


def video_record(metadata, processor, rows) -> dict:
    indices = [int(i) for i in (metadata["frames_indices"].tolist() if torch.is_tensor(metadata["frames_indices"]) else metadata["frames_indices"])]
    fps = float(metadata["fps"])
    times = processor._calculate_timestamps(list(indices), fps, processor.video_processor.temporal_patch_size)
    record = {
        "total_frames": int(metadata["total_num_frames"]),
        "fps": fps,
        "frame_indices": indices,
        "timestamps": [f"{t:.1f}" for t in times],
        "backend": metadata.get("video_backend"),
    }
    record.update(pixel_record(rows))
    # Per patch row: the mean of its 1,536 values in pixel levels (0–255), for a tolerance check
    # when a decoder's colour conversion differs by a level on some pixels.
    levels = rows.detach().to(torch.float64) * 127.5 + 127.5
    record["row_means"] = [round(float(x), 4) for x in levels.mean(dim=1).tolist()]
    return record


class Spy:
    """Captures what the wrapper's own calls produced: vision info and the expanded prompt text."""

    def __init__(self, module, processor):
        self.vision = None
        self.prompts = None
        original_vision = module.process_vision_info

        def vision(*args, **kwargs):
            self.vision = original_vision(*args, **kwargs)
            return self.vision

        module.process_vision_info = vision
        original_replace = processor.get_text_with_replacements

        def replace(*args, **kwargs):
            text, offsets = original_replace(*args, **kwargs)
            self.prompts = list(text) if isinstance(text, (list, tuple)) else [text]
            return text, offsets

        processor.get_text_with_replacements = replace


IMAGE_INFO = {}


def image_info(path: str, processor) -> dict:
    """Pillow 12 vs 13 for one image file: resized size, both resized RGB hashes, and what Pillow 13 would feed the model."""
    if path in IMAGE_INFO:
        return IMAGE_INFO[path]
    ele = {"image": "file://" + repo_to_local(path), "min_pixels": qwen3_vl_embedding.MIN_PIXELS, "max_pixels": qwen3_vl_embedding.MAX_PIXELS}
    try:
        PILLOW_ORDER["mode"] = "pillow12"
        img12 = vision_process.fetch_image(dict(ele), image_patch_size=16)
        PILLOW_ORDER["mode"] = "pillow13"
        img13 = vision_process.fetch_image(dict(ele), image_patch_size=16)
    finally:
        PILLOW_ORDER["mode"] = "pillow12"
    source = Image.open(repo_to_local(path))
    p13 = processor.image_processor(images=[img13], do_resize=False, return_tensors="pt")["pixel_values"]
    info = {
        "path": path,
        "mode": source.mode,
        "size": [source.height, source.width],
        "resized": [img12.height, img12.width],
        "pillow13_differs": np.asarray(img12).tobytes() != np.asarray(img13).tobytes(),
        "pillow13_max_level_difference": int(np.abs(np.asarray(img12, dtype=np.int16) - np.asarray(img13, dtype=np.int16)).max()),
        "pillow13_pixel_sha256": sha256(p13.to(torch.float32).contiguous().numpy().astype("<f4").tobytes()),
    }
    IMAGE_INFO[path] = info
    return info


def video_input(video):
    """The wrapper's `video` argument and the qwen-vl-utils keys it has no argument for."""
    if isinstance(video, str):
        return "file://" + repo_to_local(video), {}
    extra = {}
    if "start" in video:
        extra["video_start"] = video["start"]
    if "end" in video:
        extra["video_end"] = video["end"]
    return "file://" + repo_to_local(video["path"]), extra


# ---------------------------------------------------------------------------------------------
# Embedder.

IMG = lambda name: REPO_INPUTS + name  # noqa: E731
PNGSUITE = lambda name: REPO_CORPORA + "pngsuite/" + name  # noqa: E731
QWEN_EX = lambda name: REPO_CORPORA + "qwen-examples/" + name  # noqa: E731
LONG_TEXT = " ".join(f"word{i} 数据{i % 97} ñandú" for i in range(900))

EMBED_CASES = [
    # Texts: scripts, empty, NULL, whitespace, digits, normalisation, long.
    {"id": "text-en", "input": {"texts": ["A red bicycle leaning against a brick wall."]}},
    {"id": "text-zh", "input": {"texts": ["一只狗在日落时分的海滩上奔跑。"]}},
    {"id": "text-ja-ko", "input": {"texts": ["東京の夜景とソウルの야경을 비교하다"]}},
    {"id": "text-ar-he", "input": {"texts": ["قطة تنام على الأريكة — חתול ישן על הספה"]}},
    {"id": "text-hi-th", "input": {"texts": ["पहाड़ों में सूर्योदय และพระอาทิตย์ขึ้น"]}},
    {"id": "text-cyrillic-greek", "input": {"texts": ["Красная площадь και η Ακρόπολη"]}},
    {"id": "text-emoji", "input": {"texts": ["birthday 🎂🎉 party 👩‍👩‍👧 with 🇯🇵 flags"]}},
    {"id": "text-decomposed", "input": {"texts": ["Cafe\u0301 cre\u0300me bru\u0302le\u0301e"]}},
    {"id": "text-whitespace-digits", "input": {"texts": ["line one\nline two\ttab  double  space 3.14159 2025-01-01 1234567"]}},
    {"id": "text-two-texts", "input": {"texts": ["first part,", " second part"]}},
    {"id": "text-empty", "input": {"texts": [""]}},
    {"id": "text-null", "input": {}},
    # Instructions: the embedder's final-punctuation rule and its strip.
    {"id": "instruction-no-punctuation", "instruction": "Find the photo that matches", "input": {"texts": ["a cat on a sofa"]}},
    {"id": "instruction-punctuated", "instruction": "Retrieve relevant passages.", "input": {"texts": ["a cat on a sofa"]}},
    {"id": "instruction-fullwidth-question", "instruction": "这是什么？", "input": {"texts": ["a cat on a sofa"]}},
    {"id": "instruction-closing-bracket", "instruction": "Find photos (outdoor)", "input": {"texts": ["a cat on a sofa"]}},
    {"id": "instruction-emoji-end", "instruction": "Find happy moments 😀", "input": {"texts": ["a cat on a sofa"]}},
    {"id": "instruction-padded", "instruction": "  Find the photo \n", "input": {"texts": ["a cat on a sofa"]}},
    {"id": "instruction-blank", "instruction": "   ", "input": {"texts": ["a cat on a sofa"]}},
    {"id": "text-truncated", "input": {"texts": [LONG_TEXT]}, "heavy": True},
    # Images: resize directions and Pillow pass orders (RGB PNG).
    {"id": "image-shrink-both-vertical-more", "input": {"images": [IMG("rgb-100x80.png")]}},
    {"id": "image-grow-both", "input": {"images": [IMG("rgb-120x50.png")]}},
    {"id": "image-grow-width-shrink-height", "input": {"images": [IMG("rgb-150x300.png")]}},
    {"id": "image-shrink-width-grow-height", "input": {"images": [IMG("rgb-200x90.png")]}},
    {"id": "image-shrink-both-horizontal-more", "input": {"images": [IMG("rgb-140x100.png")]}},
    {"id": "image-min-pixels", "input": {"images": [IMG("rgb-20x12.png")]}},
    {"id": "image-extreme-wide", "input": {"images": [IMG("rgb-1000x16.png")]}},
    {"id": "image-extreme-tall", "input": {"images": [IMG("rgb-12x900.png")]}},
    {"id": "image-aspect-over-200", "input": {"images": [IMG("rgb-4x1000.png")]}, "error": True},
    # Images: every Pillow mode Trove decodes.
    {"id": "mode-rgba", "input": {"images": [IMG("rgba-90x70.png")]}},
    {"id": "mode-la", "input": {"images": [IMG("la-90x70.png")]}},
    {"id": "mode-l", "input": {"images": [IMG("l-90x70.png")]}},
    {"id": "mode-p", "input": {"images": [IMG("p-90x70.png")]}},
    {"id": "mode-p-transparency", "input": {"images": [IMG("p-transparent-90x70.png")]}},
    {"id": "mode-cmyk-jpeg", "input": {"images": [IMG("cmyk-90x70.jpg")]}},
    {"id": "mode-rgb-jpeg", "input": {"images": [IMG("rgb-90x70.jpg")]}},
    {"id": "mode-i16", "input": {"images": [IMG("i16-90x70.png")]}},
    {"id": "mode-rgb16", "input": {"images": [IMG("rgb16-90x70.png")]}},
    {"id": "mode-rgba16", "input": {"images": [IMG("rgba16-90x70.png")]}},
    {"id": "mode-la16", "input": {"images": [IMG("la16-90x70.png")]}},
    {"id": "jpeg-exif-rotated", "input": {"images": [IMG("exif-rotated-90x70.jpg")]}},
    {"id": "gif-transparent", "input": {"images": [IMG("transparent-90x70.gif")]}},
    {"id": "webp-lossless-rgba", "input": {"images": [IMG("rgba-90x70.webp")]}},
    {"id": "tiff-cmyk", "input": {"images": [IMG("cmyk-90x70.tif")]}},
    {"id": "pngsuite-1bit", "input": {"images": [PNGSUITE("basn0g01.png")]}},
    {"id": "pngsuite-grey4-trns", "input": {"images": [PNGSUITE("tbbn0g04.png")]}},
    {"id": "pngsuite-grey16", "input": {"images": [PNGSUITE("basn0g16.png")]}},
    {"id": "pngsuite-rgb16-trns", "input": {"images": [PNGSUITE("tbrn2c08.png")]}},
    {"id": "pngsuite-palette-trns", "input": {"images": [PNGSUITE("tp1n3p08.png")]}},
    {"id": "pngsuite-la16", "input": {"images": [PNGSUITE("basn4a16.png")]}},
    {"id": "pngsuite-rgba16", "input": {"images": [PNGSUITE("basn6a16.png")]}},
    {"id": "photo-jpeg", "input": {"images": [QWEN_EX("example_0.jpeg")]}},
    {"id": "document-over-budget", "input": {"images": [QWEN_EX("document_doc_0.jpg")]}, "heavy": True},
    # Mixed inputs.
    {"id": "text-and-image", "input": {"texts": ["what is shown here"], "images": [IMG("rgb-100x80.png")]}, "instruction": "Describe the image"},
    {"id": "two-images", "input": {"images": [IMG("rgb-120x50.png"), IMG("p-90x70.png")]}},
    {"id": "three-images-and-text", "input": {"texts": ["compare these"], "images": [IMG("l-90x70.png"), IMG("rgba-90x70.png"), IMG("rgb-200x90.png")]}},
    # Videos (torchcodec reader).
    {"id": "video-5fps", "input": {"videos": [IMG("clip-64x48-5fps.mp4")]}},
    {"id": "video-10fps", "input": {"videos": [IMG("clip-96x64-10fps.mp4")]}},
    {"id": "video-7fps-min-frames", "input": {"videos": [IMG("clip-80x60-7fps.mp4")]}},
    {"id": "video-max-frames", "input": {"videos": [{"path": IMG("clip-96x64-10fps.mp4"), "maxFrames": 4}]}},
    {"id": "video-window", "input": {"videos": [{"path": IMG("clip-96x64-10fps.mp4"), "start": 2.0, "end": 6.5}]}},
    {"id": "video-frame-budget", "input": {"videos": [IMG("clip-1280x720-2fps.mp4")]}, "heavy": True},
    {"id": "video-image-text", "input": {"texts": ["a moving pattern"], "images": [IMG("rgb-140x100.png")], "videos": [IMG("clip-64x48-5fps.mp4")]}},
]

# Inputs embedded together in one padded batch (right padding), to compare with one by one.
EMBED_BATCHES = [
    {"id": "batch-mixed", "cases": ["text-en", "text-empty", "image-grow-both", "two-images", "video-5fps", "text-null"]},
]

MATRYOSHKA = {"dims": [32, 40], "cases": ["text-en", "text-zh", "image-grow-both", "video-5fps", "text-and-image"]}


def wrapper_inputs(case):
    inp = case.get("input", {})
    texts = inp.get("texts")
    images = [repo_to_local(p) for p in inp.get("images", [])] or None
    videos = inp.get("videos", [])
    max_frames = None
    extras = []
    video_args = []
    for v in videos:
        path, extra = video_input(v)
        video_args.append(path[len("file://"):])
        extras.append(extra)
        if isinstance(v, dict) and "maxFrames" in v:
            max_frames = v["maxFrames"]
    return texts, images, video_args or None, extras, max_frames


def embed_conversation(embedder, case):
    texts, images, videos, extras, max_frames = wrapper_inputs(case)
    conversation = embedder.format_model_input(text=texts, image=images, video=videos, instruction=case.get("instruction"), max_frames=max_frames)
    # Adaptation 4: qwen-vl-utils reads video_start / video_end from the content item, but the
    # embedder wrapper has no argument for them; Trove's moments use them, so they are added here.
    k = 0
    for item in conversation[1]["content"]:
        if item.get("type") == "video":
            item.update(extras[k])
            k += 1
    return conversation


def run_embedder_batch(embedder, spy, conversations):
    inputs = embedder._preprocess_inputs(conversations)
    outputs = embedder.forward(dict(inputs))
    pooled = embedder._pooling_last(outputs["last_hidden_state"], outputs["attention_mask"])
    return inputs, pooled, F.normalize(pooled, p=2, dim=-1)


def embed_record(embedder, spy, case):
    conversation = embed_conversation(embedder, case)
    if case.get("error"):
        try:
            # The wrapper catches vision errors and embeds "NULL" instead (see the README); the
            # error itself is what Trove must raise, so it is taken from qwen-vl-utils directly.
            qwen_vl_utils.process_vision_info([conversation], image_patch_size=16, return_video_metadata=True, return_video_kwargs=True)
        except Exception as error:  # noqa: BLE001
            return {"id": case["id"], "input": case.get("input", {}), "error": f"{type(error).__name__}: {error}"}
        raise AssertionError(f"{case['id']}: expected an error")
    inputs, pooled, embedding = run_embedder_batch(embedder, spy, [conversation])
    images, videos, _ = spy.vision
    processor = embedder.processor
    record = {"id": case["id"], "input": case.get("input", {})}
    if "instruction" in case:
        record["instruction"] = case["instruction"]
    ids = inputs["input_ids"][0]
    mask = inputs["attention_mask"][0]
    record["prompt"] = spy.prompts[0]
    record["input_ids"] = [int(x) for x in ids[mask.bool()].tolist()]
    record["last_index"] = int(mask.sum().item()) - 1
    if images:
        grids = inputs["image_grid_thw"].tolist()
        record["image_grid_thw"] = grids
        rows = split_rows(inputs["pixel_values"], grids)
        record["images"] = []
        for path, r in zip(case["input"]["images"], rows):
            rec = pixel_record(r)
            rec.update({k: v for k, v in image_info(path, processor).items() if k != "path"})
            record["images"].append(rec)
    if videos:
        grids = inputs["video_grid_thw"].tolist()
        record["video_grid_thw"] = grids
        rows = split_rows(inputs["pixel_values_videos"], grids)
        record["videos"] = [video_record(meta, processor, r) for (_, meta), r in zip(videos, rows)]
    record["embedding"] = f32_list(embedding[0])
    record["pooled_norm"] = float(pooled[0].norm().item())
    return record


def generate_embedder_goldens(folder):
    embedder = Qwen3VLEmbedder(str(folder), dtype=torch.float32, attn_implementation="eager")
    collapse_video_triples(embedder.processor)
    spy = Spy(qwen3_vl_embedding, embedder.processor)
    records = [embed_record(embedder, spy, case) for case in EMBED_CASES]
    by_id = {c["id"]: c for c in EMBED_CASES}
    batches = []
    for batch in EMBED_BATCHES:
        conversations = [embed_conversation(embedder, by_id[i]) for i in batch["cases"]]
        inputs, _, embedding = run_embedder_batch(embedder, spy, conversations)
        batches.append({
            "id": batch["id"],
            "cases": batch["cases"],
            "padded_length": int(inputs["input_ids"].shape[1]),
            "embeddings": [f32_list(e) for e in embedding],
        })
    by_record = {r["id"]: r for r in records}
    matryoshka = []
    for i in MATRYOSHKA["cases"]:
        full = torch.tensor(by_record[i]["embedding"], dtype=torch.float32)
        for d in MATRYOSHKA["dims"]:
            matryoshka.append({"case": i, "dims": d, "embedding": f32_list(F.normalize(full[:d], p=2, dim=-1))})
    attention = attention_sharpness(embedder, by_id)
    return records, batches, matryoshka, attention


def attention_sharpness(embedder, by_id):
    """Mean over heads and queries of the largest attention weight, per attention call kind, on
    one text + image input: near 1/keys means uniform attention (positions barely matter)."""
    stats = {}
    original = modeling_qwen3_vl.eager_attention_forward

    def spy(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
        out, weights = original(module, query, key, value, attention_mask, scaling, dropout, **kwargs)
        kind = "vision" if "Vision" in type(module).__name__ else "text"
        keys = weights.shape[-1]
        s = stats.setdefault(kind, {"calls": 0, "mean_max_weight": 0.0, "mean_keys": 0.0})
        s["calls"] += 1
        s["mean_max_weight"] += float(weights.max(dim=-1).values.mean())
        s["mean_keys"] += keys
        return out, weights

    modeling_qwen3_vl.eager_attention_forward = spy
    try:
        run_embedder_batch(embedder, None, [embed_conversation(embedder, by_id["text-and-image"])])
    finally:
        modeling_qwen3_vl.eager_attention_forward = original
    for s in stats.values():
        s["mean_max_weight"] = round(s["mean_max_weight"] / s["calls"], 4)
        s["mean_keys"] = round(s["mean_keys"] / s["calls"], 1)
    return stats


# ---------------------------------------------------------------------------------------------
# Reranker.

RERANK_QUERIES = {
    "text": {"texts": ["a red bicycle against a wall"]},
    "image": {"images": [IMG("rgb-100x80.png")]},
    "video": {"videos": [IMG("clip-64x48-5fps.mp4")]},
}
RERANK_DOCUMENTS = {
    "text": {"texts": ["A bicycle painted red stands next to an old brick wall."]},
    "image": {"images": [IMG("rgb-140x100.png")]},
    "video": {"videos": [IMG("clip-80x60-7fps.mp4")]},
    "mixed": {"texts": ["holiday clip"], "images": [IMG("p-90x70.png")], "videos": [IMG("clip-64x48-5fps.mp4")]},
}
RERANK_CASES = [
    {"id": f"{q}-query", "query": RERANK_QUERIES[q], "documents": [RERANK_DOCUMENTS[d] for d in RERANK_DOCUMENTS], "document_kinds": list(RERANK_DOCUMENTS)}
    for q in RERANK_QUERIES
] + [
    {"id": "instruction-and-null", "instruction": "Find the matching product photo", "query": {"texts": ["blue shoes"]},
     "documents": [{}, {"texts": [""]}, {"texts": ["Blue running shoes, size 42"]}], "document_kinds": ["empty", "empty-text", "text"]},
    {"id": "truncated", "query": {"texts": ["long document"]}, "documents": [{"texts": [LONG_TEXT + " " + LONG_TEXT]}], "document_kinds": ["long-text"], "heavy": True},
]
TIED_RERANK_CASES = ["text-query", "image-query"]


def rerank_side(side):
    texts = side.get("texts")
    images = [repo_to_local(p) for p in side.get("images", [])] or None
    videos = [repo_to_local(v) for v in side.get("videos", [])] or None
    return texts, images, videos


def rerank_records(folder, cases):
    reranker = Qwen3VLReranker(str(folder), dtype=torch.float32, attn_implementation="eager")
    collapse_video_triples(reranker.processor)
    spy = Spy(qwen3_vl_reranker, reranker.processor)
    tokenize = reranker.tokenize

    # Adaptation 5: under transformers 5 the processor also returns mm_token_type_ids, and the
    # wrapper's own re-padding leaves it (and the other non-id fields) as Python lists, which the
    # model's get_rope_index cannot index; they become tensors again (one pair per call: no padding).
    def tokenize_as_tensors(pairs, **kwargs):
        inputs = tokenize(pairs, **kwargs)
        for key in list(inputs.keys()):
            value = inputs[key]
            if isinstance(value, list):
                inputs[key] = torch.tensor(np.asarray(value))
            elif isinstance(value, np.ndarray):
                inputs[key] = torch.from_numpy(value)
        spy.last_inputs = inputs
        return inputs

    reranker.tokenize = tokenize_as_tensors
    compute = reranker.compute_scores

    def compute_with_logit(inputs):
        with torch.no_grad():
            hidden = reranker.model(**inputs).last_hidden_state[:, -1]
            spy.last_logit = float(reranker.score_linear(hidden)[0, 0])
        return compute(inputs)

    reranker.compute_scores = compute_with_logit
    records = []
    for case in cases:
        query = case["query"]
        qt, qi, qv = rerank_side(query)
        pairs = []
        for document, kind in zip(case["documents"], case["document_kinds"]):
            dt, di, dv = rerank_side(document)
            wrapper_query = {"text": qt, "image": qi, "video": qv}
            wrapper_document = {"text": dt, "image": di, "video": dv}
            call = {"query": {k: v for k, v in wrapper_query.items() if v is not None}, "documents": [{k: v for k, v in wrapper_document.items() if v is not None}]}
            if "instruction" in case:
                call["instruction"] = case["instruction"]
            if not call["query"]:
                call["query"] = {"text": None}
            scores = reranker.process(call)
            inputs = spy.last_inputs
            images, videos, _ = spy.vision
            pair = {"document": document, "kind": kind, "prompt": spy.prompts[0], "input_ids": [int(x) for x in inputs["input_ids"][0].tolist()]}
            image_paths = query.get("images", []) + document.get("images", [])
            video_paths = query.get("videos", []) + document.get("videos", [])
            if images:
                grids = inputs["image_grid_thw"].tolist()
                pair["image_grid_thw"] = grids
                pair["images"] = []
                for path, r in zip(image_paths, split_rows(inputs["pixel_values"], grids)):
                    rec = pixel_record(r)
                    rec.update({k: v for k, v in image_info(path, reranker.processor).items() if k != "path"})
                    pair["images"].append(rec)
            if videos:
                grids = inputs["video_grid_thw"].tolist()
                pair["video_grid_thw"] = grids
                pair["videos"] = [video_record(meta, reranker.processor, r) for (_, meta), r in zip(videos, split_rows(inputs["pixel_values_videos"], grids))]
            pair["logit"] = spy.last_logit
            pair["score"] = float(scores[0])
            pairs.append(pair)
        record = {"id": case["id"], "query": query, "pairs": pairs}
        if "instruction" in case:
            record["instruction"] = case["instruction"]
        records.append(record)
    return records


# ---------------------------------------------------------------------------------------------

def versions() -> dict:
    import torchcodec
    import torchvision
    return {
        "python": sys.version.split()[0],
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "torchcodec": torchcodec.__version__,
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "video_reader": vision_process.get_video_reader_backend(),
        "pillow_resize_order": "pillow12 (emulated: horizontal pass, then vertical)",
        "attention": "eager",
        "dtype": "float32",
    }


def write_goldens(name, meta, body):
    """One case per line: small diffs when a case changes."""
    lines = ["{", f' "meta": {json.dumps(meta, ensure_ascii=False)},']
    keys = list(body)
    for n, key in enumerate(keys):
        items = body[key]
        lines.append(f' "{key}": [')
        for i, item in enumerate(items):
            lines.append("  " + json.dumps(item, ensure_ascii=False, separators=(",", ":")) + ("," if i < len(items) - 1 else ""))
        lines.append(" ]" + ("," if n < len(keys) - 1 else ""))
    lines.append("}")
    (OUT / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    recipe = load_recipe(WORK / "weight-recipe.json")
    meta = versions()
    folders = {name: write_checkpoint(name, recipe) for name in CHECKPOINTS}
    records, batches, matryoshka, attention = generate_embedder_goldens(folders["embedder"])
    write_goldens("embedder-goldens.json", {**meta, "checkpoint": "embedder", "attention_sharpness": attention}, {"cases": records, "batches": batches, "matryoshka": matryoshka})
    rr = rerank_records(folders["reranker"], RERANK_CASES)
    by_id = {c["id"]: c for c in RERANK_CASES}
    tied = rerank_records(folders["reranker-tied"], [by_id[i] for i in TIED_RERANK_CASES])
    write_goldens("reranker-goldens.json", {**meta, "checkpoint": "reranker"}, {"cases": rr})
    write_goldens("reranker-tied-goldens.json", {**meta, "checkpoint": "reranker-tied"}, {"cases": tied})


main()
