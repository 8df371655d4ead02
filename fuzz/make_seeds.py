#!/usr/bin/env python3
"""Writes fuzz/corpus/{npy,config,keras}/: small, varied seed inputs for the fuzz targets, and
fuzz/regressions/config/: the hostile configs that once aborted or hung wgcnn (parameter counts
that wrapped, a 16 TB ZeroPadding2D, a 2^40 pooling window), replayed by tests/fuzz_replay.rs.
Crashes found by fuzzing go to fuzz/regressions/<target>/ as well.

fuzz/corpus/graph/ and fuzz/regressions/graph/ hold byte strings for the `graph` target, written
by hand against its decoder (`wgcnn::fuzzing::graph_case`: one byte per choice);
`python3 fuzz/make_seeds.py graph` rewrites only those, without Keras.

The larger real-world seeds are the test fixtures themselves (tests/fixtures/models holds
.json configs and .keras files, tests/fixtures/keras holds .npy files); pass those directories
to `cargo fuzz run` as extra corpus directories (fuzz/README.md) instead of copying them here.

Usage:  pip install keras jax numpy && python3 fuzz/make_seeds.py [graph]
"""

import json
import os
import pathlib
import sys
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

OUT = pathlib.Path(__file__).resolve().parent / "corpus"


def npy_seeds(out):
    import numpy as np

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
    import keras

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


# The graph target's decoder reads one byte per choice (fuzz/README.md): byte 0 picks the rule
# breaking (0 or 1 mod 4: none), then batch (1 + b % 2), input count (1 + b % 3) and each input's
# shape ([3], [4], [2, 3], [4, 4, 2], [3, 3, 2], [6]); then per layer: continue (0 stops), what
# (b % 10: 0 call an earlier layer again, 1-2 merge, 3 Concatenate, 4-5 nested model, else a
# one-input layer) and its own choices; a tensor is picked counting back from the latest.
GRAPH_SEEDS = {
    # Keras's shared layer: d = Dense(3); Concatenate()([d(a), d(b), d(a)]), outputs [cat, d(b)].
    "shared_dense_a_b_a": [
        0, 0, 1, 0, 0,
        1, 6, 1, 0, 0, 0, 0, 1,  # Dense(3) on a
        1, 0, 0, 1,  # again on b
        1, 0, 0, 3,  # again on a
        1, 3, 0, 1, 2, 1, 0, 2, 1,  # Concatenate of the three calls
        0, 1, 0, 2],  # outputs: cat, d(b)
    # A nested Functional called twice: Concatenate()([inner(a), inner(b)]); outputs
    # [cat, inner(b)] (Keras numbers the nested model's second call 2 there).
    "nested_model_twice_concat": [
        0, 0, 1, 0, 0,
        1, 4, 0, 0, 1,  # inner = Functional on a ...
        1, 6, 0, 0, 0, 1, 0, 0,  # ... Dense(3, relu)
        0, 0, 0, 0, 1,  # its output; endpoints as a list and unwrapped
        1,  # called on a
        1, 0, 0, 1,  # called again on b
        1, 3, 1, 0, 0, 1, 0,  # Concatenate
        0, 1, 0, 1],
    # Conv2D -> BatchNormalization -> relu (one fused pass on the CPU), a Sequential holding a
    # Functional holding a Functional (depth 3), the Conv2D called again and added to the input
    # (a residual Add the CPU fuses too); batch 2.
    "conv_bn_relu_residual_depth3": [
        0, 1, 0, 3,
        1, 6, 0, 5, 0, 1, 0, 0, 0, 0,  # Conv2D(2, 3, same)
        1, 6, 0, 4, 0, 0, 0,  # BatchNormalization
        1, 6, 0, 1, 1, 0,  # Activation(relu)
        1, 4, 1, 0,  # Sequential, with an InputLayer, 2 layers:
        0, 1,
        0, 0,  # a Functional:
        1, 6, 0, 2, 0,  # Flatten
        1, 4, 0, 0, 0,  # a Functional:
        1, 6, 0, 0, 2, 3, 0, 0,  # Dense(4, tanh)
        0, 0, 0, 0, 0,
        0,
        0, 0, 0, 0, 0,
        1, 0, 1, 4, 0,  # Dense(2, softmax)
        0,
        1, 0, 0, 3,  # the Conv2D again, on the input
        1, 1, 0, 0, 0, 0, 4,  # Add(conv, input)
        1, 6, 0, 1, 1, 0,  # relu
        0, 1, 0, 3],
    # A two-input, three-output Functional (Subtract, Dense, an input passed through), called
    # again on two of its own outputs; a Sequential that declares its input only in the outer
    # entry's build_config; outputs name tensor 2 and 1 of the nested model's second call.
    "multi_output_nested_reused": [
        0, 0, 1, 2, 2,
        1, 4, 0, 1, 1, 0,
        1, 1, 1, 1, 1, 0,  # Subtract
        1, 6, 0, 0, 0, 2, 1, 0,  # Dense(3, sigmoid, no bias)
        0, 2, 0, 1, 3,
        1, 0,
        1, 4, 1, 0, 2, 0, 1, 3, 2, 2,  # Sequential: Reshape to the reversed shape
        1, 0, 0, 2, 1,
        0, 2, 0, 3, 1],
}
# The same structures with rules broken at random points (byte 0 = 3: the most often).
GRAPH_SEEDS.update({f"broken_{k}": [3] + v[1:] for k, v in list(GRAPH_SEEDS.items())})

# What fuzzing the graph target found, minimized by hand (byte 0 = 2: a rule is broken where a
# byte is 248 or more, so every such check reads one byte, 0 = no).
GRAPH_REGRESSIONS = {
    # Inputs (6,) and (4,); BatchNormalization built on the (6,) input, then called again on
    # Dense(4)'s output (the broken rule: a tensor of another shape). The loader accepts it;
    # the reference refuses BatchNormalization's 6-long weights on 4 channels, while the fast
    # CPU backend fuses it into the Dense and zips the 6 scales with 4 columns: no error.
    "shared_batchnorm_other_width_fused_cpu_ok_reference_err": [
        2, 0, 1, 5, 1,
        1, 6, 1, 4, 0, 0, 0, 0, 0, 0, 0,  # BatchNormalization on input 1
        1, 6, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0,  # Dense(4) on input 2
        1, 0, 0, 255, 0, 0],  # BatchNormalization again, on the Dense (255: any shape)
}


def graph_seeds(out):
    for directory, cases in [(out, GRAPH_SEEDS),
                             (out.parent.parent / "regressions" / "graph", GRAPH_REGRESSIONS)]:
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in cases.items():
            (directory / f"{name}.bin").write_bytes(bytes(data))


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
    graph_seeds(OUT / "graph")
    if sys.argv[1:] == ["graph"]:
        return
    regressions(OUT.parent / "regressions" / "config")
    npy_seeds(OUT / "npy")
    config_and_keras_seeds(OUT / "config", OUT / "keras")
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            print(p.relative_to(OUT), p.stat().st_size)


if __name__ == "__main__":
    main()
