#!/usr/bin/env python3
"""Writes the architectures `tools/device_bench.sh` times (keras.applications at 224×224, no
weights: `wgcnn bench --synthetic-weights` needs only `model.to_json()`) into a folder.

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


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".bench/models")
    out.mkdir(parents=True, exist_ok=True)
    for name, build in MODELS.items():
        model = build(weights=None, input_shape=(224, 224, 3))
        (out / f"{name}.json").write_text(model.to_json())
        print(f"{out / name}.json: {model.count_params():,} parameters")
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
