#!/usr/bin/env python3
"""Generates tests/fixtures/any_layer/: Keras's summary of models wgcnn can describe but not run.

`summary` must work on any model Keras can load, not only on the layers wgcnn has kernels for:
the 1D and 3D convolutions, pooling, padding, cropping and upsampling layers have shape and
parameter rules in wgcnn; layers it does not know (custom classes, attention) take their shapes
from the tensors the next layers record and their parameters from the stored weights.

Writes, each made by real Keras 3:
- NAME.json and NAME.summary{80,120,200}.txt for `volume` (a Sequential of 3D layers),
  `sequence` (a Sequential of 1D layers) and `volume_two_inputs` (a Functional drawn 108 wide);
- custom.keras (a custom layer, MultiHeadAttention and Conv3D, with weights) and
  custom.summary{80,120,200}.txt;
- random.json: random single-layer configs of the 1D/3D families (initializers and the like
  left out) with the input shape, and the output shape and parameter count Keras builds for
  each (configs Keras refuses are left out).

Usage (Keras 3 with the light jax backend):
    pip install keras jax
    python3 tools/gen_keras_any_layer.py
"""

import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ["COLUMNS"] = "80"

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "any_layer"
RNG = np.random.default_rng(20261204)
WIDTHS = (80, 120, 200)


def summary_text(model, columns):
    os.environ["COLUMNS"] = str(columns)
    lines = []
    model.summary(print_fn=lambda text, line_break=True: lines.append(text))
    os.environ["COLUMNS"] = "80"
    return "".join(lines)


def volume():
    return keras.Sequential([
        keras.Input((10, 12, 9, 3)),
        layers.Conv3D(8, 3, padding="same", activation="relu"),
        layers.ZeroPadding3D(((1, 0), (0, 2), (1, 1))),
        layers.Conv3D(6, (2, 3, 1), strides=(2, 1, 2), dilation_rate=1, use_bias=False),
        layers.MaxPooling3D((2, 2, 1)),
        layers.Cropping3D(((0, 1), (1, 1), 0)),
        layers.UpSampling3D((1, 2, 3)),
        layers.AveragePooling3D(2, strides=1, padding="same"),
        layers.Conv3DTranspose(4, 3, strides=2, padding="same"),
        layers.Conv3D(4, 3, dilation_rate=(1, 2, 1), groups=2, padding="same"),
        layers.GlobalMaxPooling3D(),
        layers.Dense(5),
    ], name="volume")


def sequence():
    return keras.Sequential([
        keras.Input((40, 6)),
        layers.Conv1D(12, 5, padding="causal", dilation_rate=2),
        layers.SeparableConv1D(16, 3, depth_multiplier=2, padding="same"),
        layers.DepthwiseConv1D(3, strides=2, depth_multiplier=3),
        layers.MaxPooling1D(3, strides=2, padding="same"),
        layers.ZeroPadding1D((2, 1)),
        layers.Cropping1D((1, 0)),
        layers.UpSampling1D(3),
        layers.Conv1DTranspose(8, 4, strides=3, output_padding=1),
        layers.AveragePooling1D(2),
        layers.Conv1D(8, 3, groups=4, strides=2),
        layers.GlobalAveragePooling1D(keepdims=True),
        layers.Flatten(),
        layers.Dense(3),
    ], name="sequence")


def volume_two_inputs():
    a = keras.Input((8, 8, 8, 2), name="scan")
    b = keras.Input((8, 8, 8, 1), name="mask")
    x = layers.Conv3D(4, 3, padding="same", name="scan_conv")(a)
    y = layers.Conv3D(4, 1, name="mask_conv")(b)
    z = layers.Concatenate()([x, y])
    z = layers.MaxPooling3D(2)(z)
    z = layers.GlobalAveragePooling3D()(z)
    return keras.Model([a, b], layers.Dense(2)(z), name="volume_two_inputs")


@keras.saving.register_keras_serializable(package="wgcnn_fixture")
class ChannelScale(layers.Layer):
    """A custom layer wgcnn has never heard of: one trainable weight per channel."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), name="scale")

    def call(self, x):
        return x * self.scale


def custom():
    inp = keras.Input((6, 6, 4, 2), name="volume")
    x = layers.Conv3D(4, 3, padding="same")(inp)
    x = ChannelScale(name="channel_scale")(x)
    x = layers.Reshape((36, 16))(x)
    x = layers.MultiHeadAttention(2, 4, name="attention")(x, x)
    x = layers.Dense(3)(x)
    return keras.Model(inp, x, name="custom")


def random_cases(count=240):
    """Single-layer models of the 1D/3D families with random arguments."""
    cases = []
    kinds = ["Conv1D", "Conv3D", "Conv1DTranspose", "Conv3DTranspose", "SeparableConv1D",
             "DepthwiseConv1D", "MaxPooling1D", "AveragePooling1D", "MaxPooling3D",
             "AveragePooling3D", "GlobalMaxPooling1D", "GlobalAveragePooling3D",
             "ZeroPadding1D", "ZeroPadding3D", "Cropping1D", "Cropping3D", "UpSampling1D",
             "UpSampling3D"]
    r = lambda lo, hi: int(RNG.integers(lo, hi + 1))  # noqa: E731
    while len(cases) < count:
        kind = kinds[len(cases) % len(kinds)]
        rank = 1 if "1D" in kind else 3
        spatial = [r(1, 14) for _ in range(rank)]
        channels = r(1, 6)
        tup = lambda lo, hi: tuple(r(lo, hi) for _ in range(rank))  # noqa: E731
        padding = ["valid", "same"][r(0, 1)]
        if kind in ("Conv1D", "Conv3D"):
            if kind == "Conv1D" and r(0, 3) == 0:
                padding = "causal"
            groups = [g for g in (1, 2, 3) if channels % g == 0][r(0, 10) % 3 if channels % 6 == 0 else 0]
            dil = tup(1, 3) if r(0, 1) else 1
            strides = 1 if dil != 1 else tup(1, 3)
            layer = getattr(layers, kind)(groups * r(1, 3), tup(1, 4), strides=strides, padding=padding,
                                          dilation_rate=dil, groups=groups, use_bias=bool(r(0, 1)))
        elif kind.endswith("Transpose"):
            strides = tup(1, 3)
            kernel = tup(1, 4)
            out_pad = None
            if r(0, 2) == 0:
                out_pad = tuple(r(0, s - 1) for s in strides)
            layer = getattr(layers, kind)(r(1, 5), kernel, strides=strides, padding=padding,
                                          output_padding=out_pad, use_bias=bool(r(0, 1)))
        elif kind == "SeparableConv1D":
            layer = layers.SeparableConv1D(r(1, 6), r(1, 4), strides=r(1, 2), padding=padding,
                                           depth_multiplier=r(1, 3), use_bias=bool(r(0, 1)))
        elif kind == "DepthwiseConv1D":
            layer = layers.DepthwiseConv1D(r(1, 4), strides=r(1, 2), padding=padding,
                                           depth_multiplier=r(1, 3), dilation_rate=1,
                                           use_bias=bool(r(0, 1)))
        elif "Global" in kind:
            layer = getattr(layers, kind)(keepdims=bool(r(0, 1)))
        elif "Pooling" in kind:
            pool = tup(1, 4)
            layer = getattr(layers, kind)(pool, strides=tup(1, 3) if r(0, 1) else None,
                                          padding=padding)
        elif kind.startswith("ZeroPadding"):
            amount = r(0, 3) if rank == 1 else tuple((r(0, 2), r(0, 2)) for _ in range(rank))
            if rank == 1 and r(0, 1):
                amount = (r(0, 3), r(0, 3))
            layer = getattr(layers, kind)(amount)
        elif kind.startswith("Cropping"):
            amount = (r(0, 3), r(0, 3)) if rank == 1 else tuple((r(0, 2), r(0, 2)) for _ in range(rank))
            layer = getattr(layers, kind)(amount)
        else:
            layer = getattr(layers, kind)(r(1, 3) if rank == 1 else tup(1, 3))
        try:
            model = keras.Sequential([keras.Input((*spatial, channels)), layer])
            shape = list(model.output_shape[1:])
        except Exception:  # noqa: BLE001 - Keras refusing a random config is expected
            continue
        if any(d is None or d <= 0 for d in shape):
            continue
        entry = json.loads(model.to_json())["config"]["layers"][-1]
        config = {k: v for k, v in entry["config"].items()
                  if k != "dtype" and not k.endswith(("_initializer", "_regularizer", "_constraint"))}
        cases.append({
            "layer": {"class_name": entry["class_name"], "config": config},
            "input_shape": [*spatial, channels],
            "output_shape": shape,
            "params": int(model.count_params()),
        })
    return cases


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in [("volume", volume), ("sequence", sequence),
                        ("volume_two_inputs", volume_two_inputs)]:
        model = build()
        (OUT / f"{name}.json").write_text(model.to_json() + "\n")
        for columns in WIDTHS:
            (OUT / f"{name}.summary{columns}.txt").write_text(summary_text(model, columns))
    model = custom()
    model.save(OUT / "custom.keras")
    for columns in WIDTHS:
        (OUT / f"custom.summary{columns}.txt").write_text(summary_text(model, columns))
    (OUT / "random.json").write_text(json.dumps(random_cases(), separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
