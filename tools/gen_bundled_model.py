#!/usr/bin/env python3
"""Generates models/cifar10.keras, the model `wgcnn demo` runs: the seed CIFAR-10 network
(seed 001: Keras's cifar10_cnn example, 1,250,858 parameters).

The weights are NOT trained: they are seeded random ternary values {-s, 0, +s} per layer
(s = half the layer's Glorot-uniform limit), so the archive deflates to a few hundred KB
instead of 5 MB. The network, its shapes and its arithmetic are exactly the seed's; only the
numbers in it are synthetic. Also writes two sample images and Keras's own output for them, so
the demo can show wgcnn agreeing with Keras.

Then models/mobilenetv2.json and models/mobilenetv2.output.npy: keras.applications.MobileNetV2
(weights=None, 128×128 input, logits) as architecture only, and Keras's output for it with
tools/keras_random.py's weights and input, which wgcnn regenerates bit for bit (so the 3.5M
weights are not committed).

Usage:  pip install keras jax && python3 tools/gen_bundled_model.py
"""

import os
import pathlib
import tempfile
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import json  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_random  # noqa: E402

from gen_keras_models import cifar10  # noqa: E402  (the same seed network the tests use)

OUT = pathlib.Path(__file__).resolve().parent.parent / "models"


def main():
    rng = np.random.default_rng(1)
    model = cifar10()
    for layer in model.layers:
        if not layer.weights:
            continue
        kernel = layer.weights[0]
        fan_in = int(np.prod(kernel.shape[:-1]))
        fan_out = int(kernel.shape[-1]) * (int(np.prod(kernel.shape[:-2])) if len(kernel.shape) == 4 else 1)
        s = np.float32(0.5 * np.sqrt(6.0 / (fan_in + fan_out)))
        layer.set_weights([rng.integers(-1, 2, w.shape).astype(np.float32) * s for w in layer.weights])
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        plain = pathlib.Path(tmp) / "cifar10.keras"
        model.save(plain)
        # Keras stores the archive uncompressed; deflate it (any zip reader, Keras's included,
        # reads either).
        with zipfile.ZipFile(plain) as src, zipfile.ZipFile(OUT / "cifar10.keras", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
            for item in src.infolist():
                dst.writestr(item.filename, src.read(item.filename))
    x = rng.random((2, 32, 32, 3), dtype=np.float32)
    np.save(OUT / "cifar10.input.npy", x)
    np.save(OUT / "cifar10.output.npy", np.asarray(model(x, training=False)))
    mobilenetv2()
    print({p.name: p.stat().st_size for p in OUT.iterdir()})


def mobilenetv2():
    model = keras.applications.MobileNetV2(
        weights=None, input_shape=(128, 128, 3), classifier_activation=None)
    keras_random.fill_weights(model)
    x = keras_random.input_value(0, (1, 128, 128, 3))
    config = json.dumps(json.loads(model.to_json()), separators=(",", ":"))
    (OUT / "mobilenetv2.json").write_text(config + "\n")
    np.save(OUT / "mobilenetv2.output.npy", np.asarray(model(x, training=False), dtype=np.float32))


if __name__ == "__main__":
    main()
