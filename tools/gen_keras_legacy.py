#!/usr/bin/env python3
"""Generates tests/fixtures/legacy/: small legacy (Keras 2 style) HDF5 model files.

Old `model.save("m.h5")` files: one HDF5 file with the architecture as JSON in the root attribute
`model_config` and the weights under `model_weights/<layer name>/...`. Two flavours of the same
two architectures (a Sequential CNN, and a Functional model with a branch, Add, Concatenate and a
nested Sequential used as a layer):

    tf_keras_sequential.h5, tf_keras_functional.h5   written by real Keras 2 (tf_keras 2.x)
    keras3_sequential.h5,   keras3_functional.h5     written by Keras 3's legacy .h5 writer

and for each `<name>.h5` a `<name>.json`:

    {"inputs":  [{"shape": [...], "dtype": "float32", "data": base64 little-endian float32}],
     "outputs": [{"shape": [...], "data": base64 little-endian float32}],
     "summary": model.summary() (80 columns, non-terminal) of the file loaded back by Keras 3,
     "tolerance": 1e-5,
     "keras3_load_error": only where Keras 3's load_model rejects the file (tf_keras_functional:
                          Keras 2's node index 1 of the nested Sequential); the summary is then
                          that of the same model rebuilt by Keras 3 (see keras3_equivalent)}

The outputs are what the writing framework computes (tf_keras files: tf_keras itself; Keras 3
files: Keras 3 with the jax backend), with training=False. Weights are deterministic
(tools/keras_random.py's value rules, keyed by layer position), and identical in both flavours,
BatchNormalization moving statistics included (so inference is not the identity).

Usage:
    pip install keras jax h5py && python3 tools/gen_keras_legacy.py
The tf_keras files need a second Python with TensorFlow and tf_keras, kept apart from the jax
one (installing tensorflow next to Keras 3 changes its default backend):
    python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu tf_keras h5py
    TF_PYTHON=/tmp/tfenv/bin/python python3 tools/gen_keras_legacy.py
Without TF_PYTHON (or with it failing) only the keras3_* files are (re)written.
"""

import base64
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parent / "tests" / "fixtures" / "legacy"
sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, str(HERE))
import keras_random  # noqa: E402

BATCH = 2
INPUT_SHAPE = (12, 12, 3)


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def variable_name(w):
    """Keras's short variable name ('kernel', 'moving_variance'), in Keras 2 or 3."""
    name = getattr(w, "path", None) or w.name
    return name.split("/")[-1].split(":")[0]


def fill(model, prefix="legacy"):
    """Deterministic weights keyed by layer position, the same in tf_keras and Keras 3."""
    for i, layer in enumerate(model.layers):
        key = f"{prefix}/{i}"
        if hasattr(layer, "layers") and layer.layers:
            fill(layer, key)
            continue
        values = [keras_random.weight_value(variable_name(w), tuple(w.shape), f"{key}/{j}")
                  for j, w in enumerate(layer.weights)]
        if values:
            layer.set_weights(values)


def architectures(k):
    """The two models, built with `k` = tf_keras (Keras 2) or keras (Keras 3)."""
    L = k.layers
    keras2 = not k.__version__.startswith("3")

    def start(shape):  # the idiomatic first layer of each version
        return [] if keras2 else [k.Input(shape)]

    first = {"input_shape": INPUT_SHAPE} if keras2 else {}
    sequential = k.Sequential(start(INPUT_SHAPE) + [
        L.Conv2D(8, 3, activation="relu", **first),
        L.BatchNormalization(),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(4, activation="softmax"),
    ])

    inp = k.Input(INPUT_SHAPE)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    a = L.Conv2D(8, 1)(x)
    b = L.Conv2D(8, 3, padding="same", activation="tanh")(x)
    s = L.Add()([a, b])
    c = L.Concatenate()([x, s])
    head_first = {"input_shape": (12, 12, 16)} if keras2 else {}
    head = k.Sequential(start((12, 12, 16)) + [
        L.Conv2D(6, 3, activation="relu", **head_first),
        L.BatchNormalization(),
        L.GlobalAveragePooling2D(),
    ], name="head")
    y = head(c)
    out = L.Dense(3, activation="softmax")(y)
    functional = k.Model(inp, out)
    return {"sequential": sequential, "functional": functional}


def save_all(k, flavour):
    """Builds, fills, saves <flavour>_<arch>.h5 and writes inputs/outputs into the .json."""
    x = keras_random.input_value(0, (BATCH, *INPUT_SHAPE))
    for arch, model in architectures(k).items():
        fill(model)
        name = f"{flavour}_{arch}"
        y = np.asarray(model(x, training=False), dtype=np.float32)
        model.save(OUT / f"{name}.h5")
        record = {"inputs": [{"shape": list(x.shape), "dtype": "float32", "data": b64(x)}],
                  "outputs": [{"shape": list(y.shape), "data": b64(y)}]}
        (OUT / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
        print(f"{name}: output {list(y.shape)}, max |y| {np.abs(y).max():.4f}, "
              f"{(OUT / f'{name}.h5').stat().st_size:,} bytes", flush=True)


def tf_keras_part():
    import tf_keras
    save_all(tf_keras, "tf_keras")


def keras3_part():
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ["COLUMNS"] = "80"
    import keras
    save_all(keras, "keras3")


def keras3_equivalent(keras, h5):
    """The model of a Keras 2 .h5 file that Keras 3's load_model rejects, built by Keras 3.

    In Keras 2 a nested model built with a known input shape owns node 0 (its own Input), so
    calling it inside the outer model makes node 1 and the outer config refers to
    ["head", 1, 0, {}]. Keras 3's loader creates no such node 0 and fails ("The graph of the
    Functional model either has loops or disconnected nodes"). Shifting those references to
    node 0 gives the same graph; the weights then load from the file in layer order.
    """
    import h5py
    from keras.src.legacy.saving import saving_utils

    with h5py.File(h5, "r") as f:
        config = json.loads(f.attrs["model_config"])
    nested = {layer["name"] for layer in config["config"]["layers"]
              if layer["class_name"] in ("Sequential", "Functional", "Model")}
    for layer in config["config"]["layers"]:
        for node in layer["inbound_nodes"]:
            for ref in node:
                if ref[0] in nested and ref[1] > 0:
                    ref[1] -= 1
    model = saving_utils.model_from_config(config)
    model.load_weights(h5)
    return model


def add_summaries():
    """Loads every .h5 back with Keras 3: summary into the .json, outputs checked."""
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ["COLUMNS"] = "80"
    import keras
    for h5 in sorted(OUT.glob("*.h5")):
        record_path = h5.with_suffix(".json")
        record = json.loads(record_path.read_text())
        try:
            model = keras.saving.load_model(h5, compile=False)
            record.pop("keras3_load_error", None)
        except ValueError as error:
            # Keras 3 cannot resolve Keras 2's node index 1 of a nested model (see
            # keras3_equivalent); the summary is then that of the equivalent Keras 3 model.
            record["keras3_load_error"] = str(error).splitlines()[0]
            print(f"{h5.name}: Keras 3's load_model fails: {record['keras3_load_error']}")
            model = keras3_equivalent(keras, h5)
        lines = []
        model.summary(print_fn=lambda text, line_break=True: lines.append(text))
        record["summary"] = "".join(lines)
        record["tolerance"] = 1e-5
        x = np.frombuffer(base64.b64decode(record["inputs"][0]["data"]), "<f4")
        x = x.reshape(record["inputs"][0]["shape"])
        y = np.frombuffer(base64.b64decode(record["outputs"][0]["data"]), "<f4")
        y = y.reshape(record["outputs"][0]["shape"])
        diff = np.abs(np.asarray(model(x, training=False)) - y).max() / np.abs(y).max()
        record_path.write_text(json.dumps(record, indent=1) + "\n")
        how = "rebuilt by Keras 3" if "keras3_load_error" in record else "Keras 3 loads it"
        print(f"{h5.name}: {how}; relative difference to the stored output {diff:.2e}")
        keras.backend.clear_session()


def main():
    if sys.argv[1:] == ["--tf-keras-part"]:
        tf_keras_part()
        return
    OUT.mkdir(parents=True, exist_ok=True)
    tf_python = os.environ.get("TF_PYTHON")
    if tf_python:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
        subprocess.run([tf_python, __file__, "--tf-keras-part"], check=True, env=env)
    else:
        print("TF_PYTHON not set: keeping the existing tf_keras_* files")
    # Keras 3 in a fresh process, so its layer names do not depend on what ran before.
    subprocess.run([sys.executable, "-B", "-c",
                    f"import sys; sys.path.insert(0, {str(HERE)!r}); "
                    "import gen_keras_legacy as g; g.keras3_part(); g.add_summaries()"],
                   check=True)


if __name__ == "__main__":
    main()
