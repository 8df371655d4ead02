"""Deterministic weights and inputs for fixture models, computed identically in Rust.

Fixtures of large models (ResNet50, DenseNet121, seed 003's 165M-parameter VQA model, ...)
commit only the architecture and Keras's output: the Rust tests regenerate the same weights and
inputs from this scheme (tests/common/keras_random.rs), so nothing large is committed.

Every value is exact in float32 on both sides: integer arithmetic on u64, then one scaling by a
power of two.

    key    = "<layer path>/<var index>" for a weight (nested layers: "outer/inner/0"),
             "input/<input index>" for a model input
    state  = fnv1a64(key as UTF-8)
    x_i    = splitmix64 step i of that state (state += golden; mix)
    signed = ((x_i >> 40) - 2^23) / 2^23          in [-1, 1)
    value  = depends on the weight (see `weight_value`)
"""

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & MASK
    return h


def stream(key, n):
    """n splitmix64 outputs for `key`, as a numpy uint64 array."""
    state = np.uint64(fnv1a64(key))
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = state + i * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def signed(key, n):
    """n values in [-1, 1), multiples of 2^-23 (exact in float32)."""
    top = (stream(key, n) >> np.uint64(40)).astype(np.int64) - (1 << 23)
    return top.astype(np.float64) / float(1 << 23)


def fan_in_shift(name, shape):
    """k in the kernel scale 2^-k: about sqrt(6 / fan_in), a power of two."""
    if name == "depthwise_kernel" and len(shape) == 4:
        fan_in = shape[0] * shape[1]
    else:
        fan_in = int(np.prod(shape[:-1]))
    return (fan_in // 6).bit_length() // 2


def weight_value(name, shape, key):
    """The values of one Keras weight (`name` is Keras's variable name, e.g. "kernel")."""
    n = int(np.prod(shape)) if len(shape) else 1
    v = signed(key, n)
    if "variance" in name:
        out = 1.0 + np.abs(v) / 2.0
    elif name == "gamma":
        out = 1.0 + v / 4.0
    elif name == "count":
        out = np.zeros(n)
    elif name == "embeddings":
        out = v
    elif len(shape) >= 2:
        out = v * 2.0 ** (-fan_in_shift(name, shape))
    else:
        out = v / 4.0
    return out.astype(np.float32).reshape(shape)


def input_value(index, shape, int_range=None):
    """Input `index` of a model: uniform in [-1, 1), or integers in [0, int_range)."""
    n = int(np.prod(shape))
    key = f"input/{index}"
    if int_range is None:
        return signed(key, n).astype(np.float32).reshape(shape)
    ints = (stream(key, n) >> np.uint64(40)) % np.uint64(int_range)
    return ints.astype(np.int32).reshape(shape)


def uint8_images(key, shape):
    """Images as a camera gives them: uint8, each byte the top 8 bits of the stream for `key`
    (the batch-inference tests regenerate the same pixels; numpy's own generators promise no
    stream across versions, this scheme does)."""
    n = int(np.prod(shape))
    return (stream(key, n) >> np.uint64(56)).astype(np.uint8).reshape(shape)


def fill_weights(model, prefix=""):
    """Sets every weight of `model` (nested models included) from the scheme."""
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        if hasattr(layer, "layers") and layer.layers and hasattr(layer, "get_config") \
                and layer.__class__.__name__ in ("Functional", "Sequential"):
            fill_weights(layer, prefix=f"{path}/")
            continue
        values = []
        for i, w in enumerate(layer.weights):
            name = w.path.split("/")[-1]
            values.append(weight_value(name, tuple(w.shape), f"{path}/{i}"))
        if values:
            layer.set_weights(values)
