#!/usr/bin/env python3
"""Writes fuzz/corpus/{npy,config,keras}/: small, varied seed inputs for the fuzz targets, and
fuzz/regressions/config/: the hostile configs that once aborted or hung wgcnn (parameter counts
that wrapped, a 16 TB ZeroPadding2D, a 2^40 pooling window), replayed by tests/fuzz_replay.rs.
Crashes found by fuzzing go to fuzz/regressions/<target>/ as well.

The larger real-world seeds are the test fixtures themselves (tests/fixtures/models holds
.json configs and .keras files, tests/fixtures/keras holds .npy files); pass those directories
to `cargo fuzz run` as extra corpus directories (fuzz/README.md) instead of copying them here.

Usage:  pip install keras jax numpy && python3 fuzz/make_seeds.py
"""

import json
import os
import pathlib
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent / "corpus"


def npy_seeds(out):
    out.mkdir(parents=True, exist_ok=True)
    x = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)
    arrays = {
        "f32_nhwc.npy": x,
        "f32_nan_inf.npy": np.array([np.nan, np.inf, -np.inf, -0.0], np.float32),
        "f64.npy": x.astype(np.float64),
        "f16.npy": x.astype(np.float16),
        "i32_ids.npy": np.array([[1, 2, 3]], np.int32),
        "i64.npy": np.array([7, -1], np.int64),
        "u8.npy": np.array([1, 255], np.uint8),
        "bool.npy": np.array([True, False]),
        "big_endian.npy": x.astype(">f4"),
        "fortran.npy": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "scalar.npy": np.float32(3.5),
        "empty.npy": np.zeros((0, 3), np.float32),
    }
    for name, a in arrays.items():
        np.save(out / name, a)


def models():
    seq = keras.Sequential([
        keras.Input((6, 6, 2)),
        keras.layers.Conv2D(3, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(2, activation="softmax"),
    ], name="seq")
    a = keras.Input((4, 4, 2), name="a")
    b = keras.Input((4, 4, 2), name="b")
    y = keras.layers.Add()([a, b])
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.Concatenate()([y, a])
    y = keras.layers.GlobalAveragePooling2D()(y)
    functional = keras.Model([a, b], y, name="functional")
    return {"sequential": seq, "functional": functional}


def config_and_keras_seeds(config_out, keras_out):
    config_out.mkdir(parents=True, exist_ok=True)
    keras_out.mkdir(parents=True, exist_ok=True)
    for name, model in models().items():
        (config_out / f"{name}.json").write_text(json.dumps(json.loads(model.to_json())))
        path = keras_out / f"{name}.keras"
        model.save(path)
        # Deflate the members (Keras stores them uncompressed): smaller seeds, and the
        # deflate path of the loader gets fuzzed too.
        with zipfile.ZipFile(path) as src:
            members = [(i.filename, src.read(i.filename)) for i in src.infolist()]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
            for member, data in members:
                dst.writestr(zipfile.ZipInfo(member, (1980, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)


def sequential(input_shape, *layers):
    return {"class_name": "Sequential", "module": "keras", "registered_name": None, "config": {
        "name": "hostile", "trainable": True, "dtype": "float32",
        "layers": [{"class_name": "InputLayer", "module": "keras.layers", "registered_name": None,
                    "config": {"batch_shape": [None, *input_shape], "dtype": "float32",
                               "sparse": False, "name": "input_layer"}}, *layers]}}


def layer(class_name, **config):
    return {"class_name": class_name, "module": "keras.layers", "registered_name": None,
            "config": {"name": class_name.lower(), "trainable": True, "dtype": "float32",
                       **config}}


def regressions(out):
    out.mkdir(parents=True, exist_ok=True)
    cases = {
        "dense_2e40_params.json": sequential([2 ** 40], layer(
            "Dense", units=2 ** 40, activation="linear", use_bias=True)),
        "batchnorm_2e62_channels.json": sequential([2 ** 62], layer(
            "BatchNormalization", axis=-1, momentum=0.99, epsilon=0.001, center=True,
            scale=True)),
        "zero_padding_1e6.json": sequential([4, 4, 1], layer(
            "ZeroPadding2D", padding=[[1000000, 1000000], [1000000, 1000000]],
            data_format="channels_last")),
        "max_pool_2e40.json": sequential([3, 3, 1], layer(
            "MaxPooling2D", pool_size=[2 ** 40, 2 ** 40], strides=[1, 1], padding="same",
            data_format="channels_last")),
    }
    for name, config in cases.items():
        (out / name).write_text(json.dumps(config))


def main():
    regressions(OUT.parent / "regressions" / "config")
    npy_seeds(OUT / "npy")
    config_and_keras_seeds(OUT / "config", OUT / "keras")
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            print(p.relative_to(OUT), p.stat().st_size)


if __name__ == "__main__":
    main()
