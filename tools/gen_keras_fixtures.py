#!/usr/bin/env python3
"""Generates tests/fixtures/keras/: real Keras 3 outputs for Conv2D and MaxPooling2D cases.

Each case stores its input, weights and Keras's output as float32 .npy files, and cases.json
records the exact layer config Keras used (layer.get_config()), so the Rust tests
(tests/keras_fixtures.rs) can rebuild the layer and compare both wgcnn backends against Keras.

Usage (any Keras 3 backend; jax is a light CPU one):
    pip install keras jax
    KERAS_BACKEND=jax python3 tools/gen_keras_fixtures.py
"""

import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras"

# (name, input shape NHWC, Conv2D kwargs). Chosen to hit what is easy to get wrong: asymmetric
# 'same' padding (even kernels, stride > 1), rectangular kernels and strides, dilation, kernels
# larger than the input, 1x1 kernels, no bias, every activation.
CONV_CASES = [
    ("conv_same_even_kernel_stride2", (1, 7, 9, 3),
     dict(filters=4, kernel_size=2, strides=2, padding="same", activation="relu")),
    ("conv_same_rect_kernel_rect_stride", (2, 10, 7, 2),
     dict(filters=3, kernel_size=(4, 3), strides=(3, 2), padding="same")),
    ("conv_valid_rect_sigmoid", (1, 9, 8, 3),
     dict(filters=5, kernel_size=(3, 2), strides=(2, 1), padding="valid", activation="sigmoid")),
    ("conv_same_dilated_tanh", (1, 8, 9, 2),
     dict(filters=3, kernel_size=3, dilation_rate=(2, 3), padding="same", activation="tanh")),
    ("conv_valid_dilated_no_bias", (1, 7, 7, 4),
     dict(filters=2, kernel_size=2, dilation_rate=2, padding="valid", use_bias=False)),
    ("conv_same_kernel_larger_than_input", (1, 4, 3, 2),
     dict(filters=2, kernel_size=7, padding="same")),
    ("conv_1x1_stride2_same", (2, 5, 6, 16),
     dict(filters=8, kernel_size=1, strides=2, padding="same")),
    ("conv_same_odd_input_stride3", (1, 11, 10, 5),
     dict(filters=4, kernel_size=(5, 2), strides=(3, 2), padding="same", activation="relu")),
]

POOL_CASES = [
    ("pool_same_asymmetric", (1, 7, 8, 3), dict(pool_size=(3, 2), strides=(2, 1), padding="same")),
    ("pool_valid_default_strides", (2, 9, 7, 2), dict(pool_size=2)),
    ("pool_same_rect", (1, 10, 9, 3), dict(pool_size=(5, 2), strides=(3, 2), padding="same")),
    ("pool_same_stride_larger_than_pool", (1, 8, 8, 1), dict(pool_size=2, strides=3, padding="same")),
    ("pool_valid_overlapping", (1, 6, 7, 2), dict(pool_size=3, strides=(1, 2))),
]


def save(case_dir: pathlib.Path, name: str, array) -> str:
    np.save(case_dir / f"{name}.npy", np.ascontiguousarray(array, dtype=np.float32))
    return f"{case_dir.name}/{name}.npy"


def main() -> None:
    rng = np.random.default_rng(20261122)
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, shape, kwargs in CONV_CASES:
        case_dir = OUT / name
        case_dir.mkdir(exist_ok=True)
        layer = keras.layers.Conv2D(**kwargs)
        layer.build(shape)
        kernel = rng.standard_normal(layer.kernel.shape).astype(np.float32)
        weights = [kernel]
        if layer.use_bias:
            weights.append(rng.standard_normal(layer.bias.shape).astype(np.float32))
        layer.set_weights(weights)
        x = rng.standard_normal(shape).astype(np.float32)
        y = np.asarray(layer(x))
        cfg = layer.get_config()
        files = {"input": save(case_dir, "input", x), "kernel": save(case_dir, "kernel", kernel),
                 "output": save(case_dir, "output", y)}
        if layer.use_bias:
            files["bias"] = save(case_dir, "bias", weights[1])
        cases.append({
            "name": name, "op": "conv2d",
            "config": {k: cfg[k] for k in ("filters", "kernel_size", "strides", "padding",
                                           "dilation_rate", "use_bias", "activation")},
            "params": int(layer.count_params()),
            "files": files,
        })
    for name, shape, kwargs in POOL_CASES:
        case_dir = OUT / name
        case_dir.mkdir(exist_ok=True)
        layer = keras.layers.MaxPooling2D(**kwargs)
        x = rng.standard_normal(shape).astype(np.float32)
        y = np.asarray(layer(x))
        cfg = layer.get_config()
        cases.append({
            "name": name, "op": "max_pool2d",
            "config": {k: cfg[k] for k in ("pool_size", "strides", "padding")},
            "files": {"input": save(case_dir, "input", x), "output": save(case_dir, "output", y)},
        })
    meta = {"generator": "tools/gen_keras_fixtures.py", "keras": keras.__version__,
            "backend": keras.backend.backend(), "cases": cases}
    (OUT / "cases.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
