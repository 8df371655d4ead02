#!/usr/bin/env python3
"""Generates tests/fixtures/models/: Keras 3 models with what real Keras says about them.

For every model: NAME.json (model.to_json()) and NAME.summary.txt (model.summary() as Keras
prints it to a non-terminal, 80 columns); for a Sequential, a sequential-like Functional and a
two-input Functional also NAME.summary120.txt and NAME.summary200.txt (wider terminals, where
Keras's width rule tells the two kinds apart). For the small models that are run: NAME.keras (with
random weights and non-trivial BatchNormalization statistics), NAME.input.npy and
NAME.output.npy (Keras's forward pass, training=False).

Usage (Keras 3 with the light jax backend):
    pip install keras jax
    python3 tools/gen_keras_models.py              # everything
    python3 tools/gen_keras_models.py two_heads    # just the two-input, two-output model
    python3 tools/gen_keras_models.py widths       # just the summaries at 120 and 200 columns
"""

import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ["COLUMNS"] = "80"  # Keras sizes the summary table from the terminal width.

import shutil  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "models"
RNG = np.random.default_rng(20261122)


def cifar10():
    # Seed 001: the Keras CIFAR-10 example.
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(32, (3, 3), padding="same"), layers.Activation("relu"),
        layers.Conv2D(32, (3, 3)), layers.Activation("relu"),
        layers.MaxPooling2D(pool_size=(2, 2)), layers.Dropout(0.25),
        layers.Conv2D(64, (3, 3), padding="same"), layers.Activation("relu"),
        layers.Conv2D(64, (3, 3)), layers.Activation("relu"),
        layers.MaxPooling2D(pool_size=(2, 2)), layers.Dropout(0.25),
        layers.Flatten(), layers.Dense(512), layers.Activation("relu"), layers.Dropout(0.5),
        layers.Dense(10), layers.Activation("softmax"),
    ], name="cifar10")


def vision():
    # Seed 003: the VQA vision model on 224x224x3.
    return keras.Sequential([
        keras.Input((224, 224, 3)),
        layers.Conv2D(64, (3, 3), activation="relu", padding="same"),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(128, (3, 3), activation="relu", padding="same"),
        layers.Conv2D(128, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(256, (3, 3), activation="relu", padding="same"),
        layers.Conv2D(256, (3, 3), activation="relu"),
        layers.Conv2D(256, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
    ], name="vision_model")


def seed_layers():
    return {
        "seed000_conv_valid": keras.Sequential([
            keras.Input((200, 200, 1)),
            layers.Conv2D(filters=16, kernel_size=2, strides=2, padding="valid", activation="relu")]),
        "seed000_conv_same": keras.Sequential([
            keras.Input((128, 128, 3)),
            layers.Conv2D(filters=32, kernel_size=3, strides=2, padding="same", activation="relu")]),
        "seed003_conv_chain": keras.Sequential([
            keras.Input((100, 95, 3)),
            layers.Conv2D(filters=55, kernel_size=(3, 2), padding="valid", strides=(2, 1), name="Conv_Layer_1"),
            layers.Conv2D(filters=35, kernel_size=(5, 2), padding="same", strides=(3, 2), name="Conv_Layer_2")]),
        "seed003_pool_chain": keras.Sequential([
            keras.Input((100, 95, 3)),
            layers.MaxPooling2D(pool_size=(3, 2), padding="valid", strides=(2, 1), name="Valid_Pool_Layer"),
            layers.MaxPooling2D(pool_size=(5, 2), padding="same", strides=(3, 2), name="Same_Pool_Layer")]),
        "seed001_pool": keras.Sequential([
            keras.Input((100, 100, 15)), layers.MaxPooling2D(pool_size=2, strides=2)]),
        "seed004_no_bias": keras.Sequential([
            keras.Input((28, 28, 3)),
            layers.Conv2D(32, 5, activation="relu", use_bias=False),
            layers.Conv2D(64, 5, activation="relu", use_bias=False)]),
    }


def every_layer():
    # Small, so its weights stay in KBs; touches every supported layer type and option.
    return keras.Sequential([
        keras.Input((13, 11, 3)),
        layers.ZeroPadding2D(((1, 2), (0, 1))),
        layers.Conv2D(6, 3, strides=2, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
        layers.AveragePooling2D(pool_size=3, strides=2, padding="same"),
        layers.Conv2D(5, (2, 3), padding="same", activation="tanh"),
        layers.Dropout(0.3),
        layers.MaxPooling2D(pool_size=(2, 2), strides=1, padding="same"),
        layers.Conv2D(4, 1, activation="sigmoid", dilation_rate=1),
        layers.GlobalAveragePooling2D(keepdims=True),
        layers.Flatten(),
        layers.Dense(7, activation="tanh"),
        layers.Dense(5, use_bias=False),
        layers.Softmax(),
    ], name="every_layer")


def functional_chain():
    inp = keras.Input((9, 8, 2), name="image")
    x = layers.Conv2D(3, 3, padding="same", activation="softmax", name="conv_softmax")(inp)
    x = layers.BatchNormalization(center=False, name="bn_no_center")(x)
    x = layers.AveragePooling2D(2, padding="valid")(x)
    x = layers.Conv2D(4, 2, dilation_rate=2, padding="same", activation="sigmoid")(x)
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(3, activation="relu")(x)
    x = layers.Activation("softmax")(x)
    return keras.Model(inp, x, name="functional_chain")


def frozen_and_long_names():
    m = keras.Sequential([
        keras.Input((16, 16, 3)),
        layers.Conv2D(8, 3, name="a_convolution_with_a_name_longer_than_the_column"),
        layers.BatchNormalization(),
        layers.GlobalAveragePooling2D(),
        layers.Dense(4, name="frozen_dense"),
    ], name="frozen")
    m.get_layer("frozen_dense").trainable = False
    return m


def two_heads():
    """Two inputs (an image and int32 token ids), two outputs: what `wgcnn run` must handle."""
    image = keras.Input((4, 4, 2), name="image")
    ids = keras.Input((3,), dtype="int32", name="ids")
    x = layers.Flatten()(layers.Conv2D(3, 2, name="conv")(image))
    e = layers.Flatten()(layers.Embedding(10, 2, name="embed")(ids))
    both = layers.Concatenate()([x, e])
    return keras.Model([image, ids], [layers.Dense(3, activation="softmax", name="probs")(both),
                                      layers.Dense(2, name="score")(both)], name="two_heads")


def write_two_heads():
    model = two_heads()
    randomize(model)
    write_summary("two_heads", model)
    model.save(OUT / "two_heads.keras")
    image = RNG.standard_normal((2, 4, 4, 2)).astype(np.float32)
    ids = RNG.integers(0, 10, (2, 3)).astype(np.int32)
    np.save(OUT / "two_heads.image.npy", image)
    np.save(OUT / "two_heads.ids.npy", ids)
    probs, score = model([image, ids], training=False)
    np.save(OUT / "two_heads.probs.npy", np.asarray(probs))
    np.save(OUT / "two_heads.score.npy", np.asarray(score))


def randomize(model):
    """Random weights, and BatchNormalization statistics far from the defaults."""
    for layer in model.layers:
        weights = []
        for w in layer.weights:
            values = RNG.standard_normal(w.shape).astype(np.float32) * 0.5
            if "variance" in w.path:
                values = np.abs(values) + 0.5
            weights.append(values)
        if weights:
            layer.set_weights(weights)


def summary_text(model, columns=80):
    """model.summary() as Keras prints it in a terminal `columns` wide (80: a pipe)."""
    os.environ["COLUMNS"] = str(columns)
    lines = []
    model.summary(print_fn=lambda text, line_break=True: lines.append(text))
    os.environ["COLUMNS"] = "80"
    return "".join(lines)


def write_summary(name, model):
    (OUT / f"{name}.summary.txt").write_text(summary_text(model))
    (OUT / f"{name}.json").write_text(model.to_json() + "\n")


def broken_copy(source, target, damage):
    """Copies a .keras file, applying `damage` to its weights file (an open h5py.File)."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(source) as src:
            src.extractall(tmp)
        with h5py.File(pathlib.Path(tmp) / "model.weights.h5", "r+") as h5:
            damage(h5)
        with zipfile.ZipFile(target, "w") as dst:
            for name in ("metadata.json", "config.json", "model.weights.h5"):
                dst.write(pathlib.Path(tmp) / name, name)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    summaries = {"cifar10": cifar10(), "vision_model": vision(), "frozen": frozen_and_long_names(),
                 **seed_layers()}
    for name, model in summaries.items():
        write_summary(name, model)
    # Wider and narrower terminals: Keras sizes the table as min(88, columns - 4).
    for columns in (120, 50):
        (OUT / f"frozen.summary{columns}.txt").write_text(summary_text(summaries["frozen"], columns))
    for name, build, batch in [("every_layer", every_layer, 2), ("functional_chain", functional_chain, 3)]:
        model = build()
        randomize(model)
        write_summary(name, model)
        model.save(OUT / f"{name}.keras")
        x = RNG.standard_normal((batch, *model.input_shape[1:])).astype(np.float32)
        np.save(OUT / f"{name}.input.npy", x)
        np.save(OUT / f"{name}.output.npy", np.asarray(model(x, training=False)))
    # Damaged archives for the loader's error paths.
    chain = OUT / "functional_chain.keras"
    broken_copy(chain, OUT / "broken_missing_weight.keras", lambda h5: h5.__delitem__("layers/dense/vars/1"))

    def wrong_shape(h5):
        del h5["layers/conv2d/vars/0"]
        h5["layers/conv2d/vars/0"] = np.zeros((2, 2, 2, 3), np.float32)

    broken_copy(chain, OUT / "broken_wrong_shape.keras", wrong_shape)
    print(f"wrote {OUT}")


WIDTHS = (120, 200)


def write_widths():
    """Summaries in wider terminals: Keras draws a sequential-like model min(88, columns - 4)
    wide and any other min(108, columns - 4) (80 columns: the `.summary.txt` files)."""
    for name in ("cifar10", "functional_chain", "two_heads"):
        # From the committed architecture, so that auto-numbered layer names are the same.
        model = keras.models.model_from_json((OUT / f"{name}.json").read_text())
        for columns in WIDTHS:
            (OUT / f"{name}.summary{columns}.txt").write_text(summary_text(model, columns))


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["two_heads"]:
        write_two_heads()
    elif sys.argv[1:] == ["widths"]:
        write_widths()
    else:
        main()
        write_two_heads()
        write_widths()
