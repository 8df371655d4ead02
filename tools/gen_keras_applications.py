#!/usr/bin/env python3
"""Generates tests/fixtures/applications.zip: keras.applications models and a few larger
hand-built models, with what real Keras 3 computes for them.

The weights and inputs are NOT stored: they follow the deterministic scheme of
tools/keras_random.py, which the Rust tests reproduce (tests/common/keras_random.rs):

    weights  keras_random.fill_weights(model)        keys "<layer>/<i>", nested "outer/inner/<i>"
    input i  keras_random.input_value(i, (batch, *shape), int_range)
    outputs  model(inputs, training=False), as float32

The zip holds one JSON entry per model, `<name>.json`:

    {"name": ..., "model": json.loads(model.to_json()),
     "inputs":  [{"shape": [batch, ...], "dtype": "float32" | "int32", "int_range": null | n}],
     "outputs": [{"shape": [...], "data": base64 of little-endian float32, C order}],
     "summary": model.summary() as Keras prints it to a non-terminal 80 columns wide,
     "params":  {"total": n, "trainable": n, "non_trainable": n},
     "tolerance": max |rust - keras| allowed, relative to the output's max |value|}

Entries are written with a fixed timestamp, so reruns give a byte-identical zip (given the same
Keras and JAX versions).

Entries: the keras.applications models at their smallest input (classes=10, weights=None),
three `*_logits` twins (classifier_activation=None) of the models whose softmax saturates with
these weights, a small U-Net, two transfer-learning shapes (a Functional nested in a Sequential,
and in a Functional), a two-input two-output model, and seed 003's 165M-parameter VQA model.

Usage (Keras 3 with the light jax backend; about 8 minutes and at most ~5 GB of memory on two
cores, the peak for seed003_vqa's 165M parameters):

    pip install keras jax h5py && python3 tools/gen_keras_applications.py
    python3 tools/gen_keras_applications.py resnet50 unet     # only these entries (rewrites them)
    python3 tools/gen_keras_applications.py --float64-check   # Keras in float64 vs the zip's outputs

--float64-check reruns every model (or the ones named) in float64 and prints the float32 noise
of the stored outputs, max |float32 - float64| / max |float64|, to size `tolerance`.

One adjustment on top of keras_random.fill_weights: keras.layers.Normalization layers (the
EfficientNet stem) copy their `mean`/`variance` variables into constants when built, so after
set_weights the script calls `finalize_state()` for them; otherwise Keras would keep computing
with the initial mean 0 / variance 1 instead of the values in the weights. (Its integer `count`
variable takes the scheme's zeros without trouble.)
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ["COLUMNS"] = "80"  # Keras (and rich) size the summary table from the terminal width.
if "--float64-check" in sys.argv:
    os.environ["JAX_ENABLE_X64"] = "1"

import base64  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import keras_random  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "applications.zip"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
TOLERANCE = 1e-4
APPS = keras.applications


# ---------------------------------------------------------------------------------------------
# Models. Each builder returns (model, [int_range per input]); batch is 2 for all of them.

def app(builder, size, **kwargs):
    def build():
        return builder(weights=None, input_shape=(size, size, 3), classes=10, **kwargs), [None]
    return build


def unet():
    """A small U-Net: 32x32x3 -> 32x32x2 softmax."""
    inp = keras.Input((32, 32, 3), name="image")
    c1 = layers.Conv2D(8, 3, padding="same", activation="relu", name="enc1_conv")(inp)
    p1 = layers.MaxPooling2D(2, name="enc1_pool")(c1)                       # 16x16x8
    c2 = layers.Conv2D(16, 3, padding="same", activation="relu", name="enc2_conv")(p1)
    p2 = layers.MaxPooling2D(2, name="enc2_pool")(c2)                       # 8x8x16
    b = layers.Conv2D(32, 3, padding="same", activation="relu", name="bottleneck_a")(p2)
    b = layers.Conv2D(32, 3, padding="same", activation="relu", name="bottleneck_b")(b)
    # Level 2: a 'valid' 3x3 transposed convolution overshoots (8 -> 17), so crop it to 16.
    u2 = layers.Conv2DTranspose(16, 3, strides=2, padding="valid", name="dec2_up")(b)
    u2 = layers.Cropping2D(((0, 1), (0, 1)), name="dec2_crop")(u2)
    d2 = layers.Concatenate(name="dec2_concat")([u2, c2])
    d2 = layers.Conv2D(16, 3, padding="same", activation="relu", name="dec2_conv")(d2)
    # Level 1: bilinear upsampling, then a convolution.
    u1 = layers.UpSampling2D(2, interpolation="bilinear", name="dec1_up")(d2)
    u1 = layers.Conv2D(8, 3, padding="same", activation="relu", name="dec1_upconv")(u1)
    d1 = layers.Concatenate(name="dec1_concat")([c1, u1])
    d1 = layers.Conv2D(8, 3, padding="same", activation="relu", name="dec1_conv")(d1)
    out = layers.Conv2D(2, 1, activation="softmax", name="mask")(d1)
    return keras.Model(inp, out, name="unet"), [None]


def transfer_mobilenetv2():
    base = APPS.MobileNetV2(alpha=0.35, include_top=False, input_shape=(32, 32, 3), weights=None)
    base.trainable = False
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        base,
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.2),
        layers.Dense(5),
    ], name="transfer_mobilenetv2")
    return model, [None]


def transfer_resnet_functional():
    inp = keras.Input((32, 32, 3))
    x = APPS.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3))(inp)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(4, activation="softmax")(x)
    return keras.Model(inp, out, name="transfer_resnet_functional"), [None]


def multi_io():
    image = keras.Input((16, 16, 3), name="image")
    vector = keras.Input((8,), name="vector")
    shared = layers.Conv2D(4, 3, padding="same", activation="relu", name="shared_conv")
    mixed = layers.Conv2D(3, 1, name="mix")(image)           # same shape as `image`
    a = layers.GlobalAveragePooling2D(name="gap_a")(shared(image))
    b = layers.GlobalMaxPooling2D(name="gmp_b")(shared(mixed))
    v = layers.Dense(6, activation="tanh", name="vector_dense")(vector)
    merged = layers.Concatenate(name="merge")([a, b, v])
    classes = layers.Dense(3, activation="softmax", name="classes")(merged)
    value = layers.Dense(2, name="value")(merged)
    return keras.Model([image, vector], [classes, value], name="multi_io"), [None, None]


def seed003_vqa():
    """The visual question answering model of the 2017 Keras functional API guide, verbatim."""
    from keras.layers import (LSTM, Conv2D, Dense, Embedding, Flatten, Input, MaxPooling2D,
                              concatenate)
    from keras.models import Model, Sequential
    vision_model = Sequential()
    vision_model.add(Conv2D(64, (3, 3), activation="relu", padding="same",
                            input_shape=(224, 224, 3)))
    vision_model.add(Conv2D(64, (3, 3), activation="relu"))
    vision_model.add(MaxPooling2D((2, 2)))
    vision_model.add(Conv2D(128, (3, 3), activation="relu", padding="same"))
    vision_model.add(Conv2D(128, (3, 3), activation="relu"))
    vision_model.add(MaxPooling2D((2, 2)))
    vision_model.add(Conv2D(256, (3, 3), activation="relu", padding="same"))
    vision_model.add(Conv2D(256, (3, 3), activation="relu"))
    vision_model.add(Conv2D(256, (3, 3), activation="relu"))
    vision_model.add(MaxPooling2D((2, 2)))
    vision_model.add(Flatten())
    image_input = Input(shape=(224, 224, 3))
    encoded_image = vision_model(image_input)
    question_input = Input(shape=(100,), dtype="int32")
    embedded_question = Embedding(input_dim=10000, output_dim=256)(question_input)
    encoded_question = LSTM(256)(embedded_question)
    merged = concatenate([encoded_question, encoded_image])
    output = Dense(1000, activation="softmax")(merged)
    vqa_model = Model(inputs=[image_input, question_input], outputs=output)
    return vqa_model, [None, 10000]


MODELS = {
    "resnet50": app(APPS.ResNet50, 32),
    "resnet50v2": app(APPS.ResNet50V2, 32),
    "mobilenet": app(APPS.MobileNet, 32, alpha=0.25),
    "mobilenetv2": app(APPS.MobileNetV2, 32, alpha=0.35),
    "mobilenetv3small": app(APPS.MobileNetV3Small, 32),
    "efficientnetb0": app(APPS.EfficientNetB0, 32),
    "efficientnetv2b0": app(APPS.EfficientNetV2B0, 32),
    "densenet121": app(APPS.DenseNet121, 32),
    "xception": app(APPS.Xception, 71),
    "inceptionv3": app(APPS.InceptionV3, 75),
    "inceptionresnetv2": app(APPS.InceptionResNetV2, 75),
    "nasnetmobile": app(APPS.NASNetMobile, 32),
    "convnexttiny": app(APPS.ConvNeXtTiny, 32),
    "vgg16": app(APPS.VGG16, 32),
    # With these weights the softmax of these three saturates (xception's output is exactly
    # one-hot), which would let almost any error pass; their logits keep the fixtures sharp.
    "resnet50_logits": app(APPS.ResNet50, 32, classifier_activation=None),
    "xception_logits": app(APPS.Xception, 71, classifier_activation=None),
    "nasnetmobile_logits": app(APPS.NASNetMobile, 32, classifier_activation=None),
    "unet": unet,
    "transfer_mobilenetv2": transfer_mobilenetv2,
    "transfer_resnet_functional": transfer_resnet_functional,
    "multi_io": multi_io,
    "seed003_vqa": seed003_vqa,
}
BATCH = 2


# ---------------------------------------------------------------------------------------------

def all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from all_layers(layer)


CHUNK = 1 << 22
SIGNED = keras_random.signed


def signed_chunked(key, n):
    """keras_random.signed(key, n), computed CHUNK values at a time (same values, less memory:
    seed003_vqa's 160M-value Dense kernel would otherwise need ~10 GB of temporaries)."""
    if n <= CHUNK:
        return SIGNED(key, n)
    state = np.uint64(keras_random.fnv1a64(key))
    out = np.empty(n, dtype=np.float64)
    with np.errstate(over="ignore"):
        for start in range(0, n, CHUNK):
            i = np.arange(start + 1, min(start + CHUNK, n) + 1, dtype=np.uint64)
            z = state + i * np.uint64(keras_random.GOLDEN)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
            top = (z >> np.uint64(40)).astype(np.int64) - (1 << 23)
            out[start:start + len(i)] = top / float(1 << 23)
    return out


def fill(model):
    """keras_random's weights, plus the Normalization fix-up described in the docstring."""
    unusual = []
    for layer in all_layers(model):
        for w in layer.weights:
            if not str(w.dtype).startswith("float"):
                unusual.append(f"{layer.name}:{w.path}:{w.dtype}")
    keras_random.signed = signed_chunked
    try:
        keras_random.fill_weights(model)
    finally:
        keras_random.signed = SIGNED
    for layer in all_layers(model):
        if isinstance(layer, layers.Normalization):
            layer.finalize_state()
    return unusual


def make_inputs(model, int_ranges):
    xs = []
    for i, (tensor, int_range) in enumerate(zip(model.inputs, int_ranges)):
        shape = (BATCH, *tensor.shape[1:])
        x = keras_random.input_value(i, shape, int_range)
        if int_range is None:
            x = x.astype(keras.config.floatx())
        xs.append(x)
    return xs


def summary_text(model):
    lines = []
    model.summary(print_fn=lambda text, line_break=True: lines.append(text))
    return "".join(lines)


def params(model):
    from keras.src.utils.summary_utils import count_params
    trainable = int(count_params(model.trainable_weights))
    non_trainable = int(count_params(model.non_trainable_weights))
    return {"total": trainable + non_trainable, "trainable": trainable,
            "non_trainable": non_trainable}


def run(model, xs):
    ys = model(xs if len(xs) > 1 else xs[0], training=False)
    if not isinstance(ys, (list, tuple)):
        ys = [ys]
    return [np.asarray(y) for y in ys]


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def unb64(text, shape):
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(shape)


def entry(name):
    start = time.time()
    model, int_ranges = MODELS[name]()
    unusual = fill(model)
    xs = make_inputs(model, int_ranges)
    ys = run(model, xs)
    record = {
        "name": name,
        "model": json.loads(model.to_json()),
        "inputs": [{"shape": list(x.shape), "dtype": str(x.dtype), "int_range": r}
                   for x, r in zip(xs, int_ranges)],
        "outputs": [{"shape": list(y.shape), "data": b64(y.astype(np.float32))} for y in ys],
        "summary": summary_text(model),
        "params": params(model),
        "tolerance": TOLERANCE,
    }
    p = record["params"]
    print(f"{name:28s} params {p['total']:>11,} / {p['trainable']:>11,} / {p['non_trainable']:>9,}"
          f"  out {[list(y.shape) for y in ys]}  max|y| {[float(np.abs(y).max()) for y in ys]}"
          f"  {time.time() - start:.1f}s" + (f"  non-float weights: {unusual}" if unusual else ""),
          flush=True)
    del model, xs, ys
    free()
    return json.dumps(record, separators=(",", ":")).encode("utf-8")


def free():
    """Drops the finished model: Keras's session state, and JAX's caches of compiled ops."""
    keras.backend.clear_session()
    jax.clear_caches()
    gc.collect()


def read_zip():
    if not OUT.exists():
        return {}
    with zipfile.ZipFile(OUT) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def write_zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for filename in [f"{n}.json" for n in MODELS if f"{n}.json" in entries]:
            info = zipfile.ZipInfo(filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, entries[filename], compresslevel=9)
    OUT.write_bytes(buffer.getvalue())


def float64_check(names):
    keras.config.set_floatx("float64")
    stored = read_zip()
    for name in names:
        record = json.loads(stored[f"{name}.json"])
        start = time.time()
        model, int_ranges = MODELS[name]()
        fill(model)
        ys = run(model, make_inputs(model, int_ranges))
        noise = []
        for y64, out in zip(ys, record["outputs"]):
            y32 = unb64(out["data"], out["shape"]).astype(np.float64)
            noise.append(float(np.abs(y32 - y64).max() / np.abs(y64).max()))
        print(f"{name:28s} float32 noise (relative to max |y|): "
              f"{', '.join(f'{n:.2e}' for n in noise)}  {time.time() - start:.1f}s", flush=True)
        del model, ys
        free()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    unknown = [a for a in args if a not in MODELS]
    if unknown:
        sys.exit(f"unknown models {unknown}; known: {list(MODELS)}")
    names = args or list(MODELS)
    if "--float64-check" in sys.argv:
        float64_check(names)
        return
    entries = read_zip() if args else {}
    for name in names:
        entries[f"{name}.json"] = entry(name)
        write_zip(entries)  # after each model, so a crash late in the list keeps the rest
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(entries)} entries)")


if __name__ == "__main__":
    main()
