"""Seeded checkpoint weights that the project's TypeScript twin (test/goldens/seeded-uniform.ts)
reproduces bit for bit.

Element i of a tensor named N, drawn for seed S:
    k1 = mix32(fnv1a32(N) ^ S),  k2 = mix32(k1 ^ 0x9E3779B9)
    h  = mix32((mix32(i ^ k1) + k2) mod 2^32)
    u  = ((h >> 8) + 0.5) / 2^24                      # uniform in (0, 1), exact in float64
    x  = float32(mean + (std * sqrt(3)) * (2u - 1))   # uniform with that mean and standard deviation
mix32 is Chris Wellons' "lowbias32" integer hash. Every step is integer arithmetic or a single
correctly rounded float64 operation, so numpy and JavaScript give the same float32 values; no
transcendental function is involved.
"""
import json
import math
import re

import numpy as np

MASK = 0xFFFFFFFF


def mix32(x):
    """lowbias32 on a numpy uint32 array (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint32)
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    x = x ^ (x >> np.uint32(16))
    return x


def mix32_int(x: int) -> int:
    return int(mix32(np.array([x & MASK], dtype=np.uint32))[0])


def fnv1a32(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & MASK
    return h


def draw(name: str, shape, seed: int, mean: float, std: float) -> np.ndarray:
    """float32 array of `shape` for tensor `name` (see the module docstring)."""
    count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    if count >= 2**32:
        raise ValueError(f"{name}: {count} elements; the counter is 32-bit")
    k1 = mix32_int(fnv1a32(name) ^ (seed & MASK))
    k2 = mix32_int(k1 ^ 0x9E3779B9)
    with np.errstate(over="ignore"):
        i = np.arange(count, dtype=np.uint32)
        h = mix32(mix32(i ^ np.uint32(k1)) + np.uint32(k2))
    u = ((h >> np.uint32(8)).astype(np.float64) + 0.5) / 16777216.0
    half_width = std * math.sqrt(3.0)
    x = mean + half_width * (2.0 * u - 1.0)
    return x.astype(np.float32).reshape(shape)


def load_recipe(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def rule_for(recipe, name: str):
    """The first rule whose `match` regular expression finds a match in the tensor name."""
    for rule in recipe["rules"]:
        if re.search(rule["match"], name):
            return rule
    raise KeyError(f"no rule of the weight recipe matches {name}")
