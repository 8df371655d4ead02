#!/usr/bin/env python3
"""Writes the architectures `tools/device_bench.sh` times (keras.applications at 224×224, no
weights: `wgcnn bench --synthetic-weights` needs only `model.to_json()`) into a folder, and two
one-layer models for the row reductions: LayerNormalization over a ViT-B's 197 × 768 tokens and
softmax over 1,000 classes.

Usage:
    pip install keras jax
    python3 tools/gen_bench_configs.py [DIR]      # default: .bench/models (git-ignored)
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402

MODELS = {
    "resnet50": keras.applications.ResNet50,
    "mobilenetv2": keras.applications.MobileNetV2,
    "efficientnetb0": keras.applications.EfficientNetB0,
    "vgg16": keras.applications.VGG16,
}


def one_layer(name, shape, layer):
    return keras.Sequential([keras.Input(shape), layer], name=name)


ROW_MODELS = {
    "ln768": lambda: one_layer("ln768", (197, 768), keras.layers.LayerNormalization()),
    "softmax1000": lambda: one_layer("softmax1000", (1000,), keras.layers.Softmax()),
}


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".bench/models")
    out.mkdir(parents=True, exist_ok=True)
    builds = {
        name: (lambda build=build: build(weights=None, input_shape=(224, 224, 3)))
        for name, build in MODELS.items()
    }
    builds.update(ROW_MODELS)
    for name, build in builds.items():
        model = build()
        (out / f"{name}.json").write_text(model.to_json())
        print(f"{out / name}.json: {model.count_params():,} parameters")
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
