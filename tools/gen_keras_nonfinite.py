#!/usr/bin/env python3
"""Generates tests/fixtures/nonfinite.zip: real Keras 3 outputs for layers fed NaN, ±inf, ±0.0,
huge and subnormal values.

Every case is a small Functional model, keras.Input(s) -> one layer under test -> output. The
zip holds one JSON entry per case, `<case name>.json`, in the format of tests/fixtures/layers.zip
(tools/gen_keras_layers.py) with one addition: every input spec carries its values.

    {
      "name":    case name (also the model's name),
      "model":   json.loads(model.to_json()),
      "inputs":  [{"shape": [batch, ...], "dtype": "float32", "int_range": null,
                   "data": base64 of little-endian float32, C order}],
      "outputs": [{"shape": [...], "data": base64 of little-endian float32, C order}],
      "summary": model.summary() as Keras prints it to a non-terminal 80 columns wide,
      "params":  {"total": n, "trainable": n, "non_trainable": n},
      "tolerance": relative tolerance (to the output's max |finite value|) for finite outputs,
      "weights": {layer name: [{"shape": [...], "data": base64 float32}, ...]}  (some cases)
    }

Inputs are not from tools/keras_random.py: they are stored ("data"), built here from ordinary
values in [-2, 2] (numpy default_rng with fixed seeds, rounded to multiples of 2^-10) with
special values planted at fixed places: NaN, +inf, -inf, -0.0, +0.0, ±3.4e38 (overflow in
sums and products), ±1e-40 (float32 subnormals), and a few large finite values (exp overflow).
Planted huge values never meet huge values of the other sign in one reduction, so Keras's
outputs do not depend on the order of a sum. Weights still come from
keras_random.fill_weights(model) (finite), which the Rust tests reimplement, except in the cases
with "weights": there the layer under test gets planted statistics (a NaN, infinite or negative
variance: Keras's JSON writes NaN as a bare token no JSON parser has to accept, so such values
go in the weights, never in the config), stored with all of that layer's weights in Keras's
order (integers such as Normalization's `count` as float32).

Outputs are np.asarray(model(inputs, training=False)) as float32, exactly as Keras (jax backend,
CPU) gives them: NaN, ±inf and -0.0 are kept, never sanitized. Each case is also checked to
round-trip through keras.models.model_from_json (same config, same output bit for bit with the
same weights).

The script is deterministic (keras.backend.clear_session() before every case, fixed seeds, zip
entries with a fixed timestamp), so rerunning it on one machine reproduces nonfinite.zip byte for
byte. XLA's float32 rsqrt differs in the last bit between CPUs, though (batchnorm and layernorm
move by an ulp elsewhere): `--keep` keeps the cases the zip already holds and runs only the
others, which is how new cases are added.

Usage (Keras 3 with the jax backend, CPU is enough):
    pip install keras jax && python3 tools/gen_keras_nonfinite.py
Options: `python3 tools/gen_keras_nonfinite.py CASE... --out /tmp/some.zip` writes only the
named cases, elsewhere. It prints a table of case, output shape(s) and the counts of NaN, +inf,
-inf and -0.0 in Keras's output.
"""

import os
import pathlib
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ["COLUMNS"] = "80"  # Keras sizes the summary table from the terminal width.

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import zipfile  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.utils.summary_utils import count_params  # noqa: E402

sys.dont_write_bytecode = True  # no tools/__pycache__ from importing keras_random
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import keras_random  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "nonfinite.zip"
BATCH = 2
DEFAULT_TOL = 1e-5
# Activations that go through exp/log/erf/tanh-like functions get a looser tolerance, as in
# layers.zip: backends use different approximations of these.
STEEP_TOL = 1e-4
STEEP = {"swish", "silu", "gelu", "elu", "selu", "softplus", "mish", "exponential", "tanh",
         "sigmoid", "softmax", "log_softmax", "celu", "log_sigmoid", "tanh_shrink", "glu",
         "softsign", "squareplus", "sparsemax"}

NAN = np.float32("nan")
INF = np.float32("inf")
BIG = np.float32(3.4e38)  # two of them overflow a float32 sum
TINY = np.float32(1e-40)  # subnormal
NZ = np.float32(-0.0)
PZ = np.float32(0.0)
ACT = (2, 3, 8)  # the activation / normalization input, batch excluded


# ---------------------------------------------------------------------------------------------
# Inputs


def ordinary(shape, seed):
    """Values in [-2, 2], multiples of 2^-10 (never -0.0)."""
    x = np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape)
    return (np.round(x * 1024.0) / 1024.0 + 0.0).astype(np.float32)


def activation_input():
    """(2, 2, 3, 8): 12 rows of 8 along the last axis (the softmax / LayerNormalization axis)."""
    x = ordinary((BATCH, *ACT), seed=101).reshape(12, 8)
    x[1, 3] = NAN                                   # one NaN
    x[2, 5] = INF                                   # one +inf (and a huge negative)
    x[2, 1] = -BIG
    x[3, 1] = INF                                   # two +inf
    x[3, 6] = INF
    x[4, :] = -INF                                  # all -inf
    x[5, 0] = -INF                                  # -inf among finite values
    x[5, 7] = -INF
    x[6, 2] = BIG                                   # sum overflows to +inf
    x[6, 6] = BIG
    x[7, :5] = [NZ, PZ, TINY, -TINY, NZ]            # signed zeros and subnormals
    x[8, 0] = NAN                                   # NaN and +inf
    x[8, 4] = INF
    x[9, :] = [NZ, PZ, NZ, NZ, PZ, NZ, PZ, NZ]      # zeros only
    x[10, :] = [20.0, -20.0, 88.0, 89.0, -88.0, -104.0, 100.0, -100.0]  # exp over/underflow
    x[11, 2] = INF                                  # +inf and -inf
    x[11, 5] = -INF
    return x.reshape(BATCH, *ACT)


def pool_input():
    """(2, 6, 6, 4) with windows planted for the pooling cases (see the comments)."""
    x = ordinary((BATCH, 6, 6, 4), seed=202)

    def block(b, c, y, xx, values):
        # values for the 2x2 window at rows y..y+1, cols xx..xx+1, in window order.
        for k, v in enumerate(values):
            x[b, y + k // 2, xx + k % 2, c] = v

    # batch 0, channel 0: the 2x2 windows of pool 2 strides 2 valid.
    block(0, 0, 0, 0, [NAN, NAN, NAN, NAN])          # all NaN
    block(0, 0, 0, 2, [1.5, NAN, -0.5, 0.25])        # NaN not first
    block(0, 0, 0, 4, [0.5, INF, NAN, -1.0])         # NaN with +inf
    block(0, 0, 2, 0, [-INF, -INF, -INF, -INF])      # only -inf
    block(0, 0, 2, 2, [-INF, -INF, NAN, -INF])       # -inf with NaN
    block(0, 0, 2, 4, [NZ, PZ, PZ, NZ])              # -0.0 first, +0.0 after
    block(0, 0, 4, 0, [PZ, NZ, NZ, PZ])              # +0.0 first, -0.0 after
    block(0, 0, 4, 2, [NZ, NZ, NZ, NZ])              # all -0.0
    block(0, 0, 4, 4, [INF, 1.0, -INF, -2.0])        # +inf with -inf
    # batch 0, channel 1: corners for pool 3 strides 1 same (windows over the padding).
    block(0, 1, 0, 0, [NAN, NAN, NAN, NAN])          # corner window: every real cell NaN
    block(0, 1, 0, 4, [-INF, -INF, -INF, -INF])      # corner window: only -inf
    block(0, 1, 4, 0, [NZ, PZ, PZ, NZ])              # corner window: only signed zeros
    block(0, 1, 4, 4, [INF, 0.75, -0.75, NAN])       # corner window: +inf, NaN
    x[0, 2, 3, 1] = -INF
    # batch 0, channel 2: zeros of both signs everywhere, one 2x2 block of -0.0.
    signs = np.random.default_rng(203).integers(0, 2, size=(6, 6))
    x[0, :, :, 2] = np.where(signs == 1, NZ, PZ)
    block(0, 2, 2, 2, [NZ, NZ, NZ, NZ])
    # batch 0, channel 3: one +inf.
    x[0, 3, 2, 3] = INF
    # batch 1, channel 0: for pool (2, 3) strides (1, 2) same (padding: 1 row below, 1 column
    # right; column windows 0..2, 2..4, 4..5).
    x[1, 5, 4:6, 0] = NAN                            # last window: every real cell NaN
    x[1, 5, 0:3, 0] = -INF                           # bottom-left window: only -inf
    x[1, 0:2, 2:5, 0] = [[NZ, PZ, NZ], [PZ, NZ, NZ]]  # a window of signed zeros
    x[1, 2, 3, 0] = NAN                              # NaN not first
    x[1, 2, 4, 0] = INF                              # +inf shared by two column windows
    # batch 1, channel 1: subnormals and one huge negative (no huge positive in this plane).
    x[1, 0, 0, 1] = TINY
    x[1, 0, 1, 1] = -TINY
    x[1, 3, 3, 1] = -BIG
    # batch 1, channel 2: -inf among finite values.
    x[1, 1, 4, 2] = -INF
    # batch 1, channel 3: two huge positives in one 2x2 window: any sum of both overflows.
    x[1, 2, 2, 3] = BIG
    x[1, 3, 3, 3] = BIG
    return x


# Pairs (a, b) planted at the first positions of the two merge inputs (flat C order).
MERGE_PAIRS = [
    (NAN, 1.5), (1.5, NAN), (NAN, NAN), (NAN, INF), (-INF, NAN), (NAN, NZ),
    (INF, -INF), (-INF, INF), (INF, INF), (-INF, -INF),
    (NZ, PZ), (PZ, NZ), (NZ, NZ), (PZ, PZ),
    (INF, PZ), (PZ, -INF), (-INF, NZ), (NZ, INF),        # inf * 0
    (BIG, BIG), (-BIG, -BIG), (BIG, 2.0), (-2.0, BIG),    # sum / product overflow
    (TINY, TINY), (TINY, -TINY), (TINY, 0.5), (-TINY, PZ),  # subnormals, product underflow
    (INF, 1.0), (-1.0, -INF), (NAN, -0.5), (-0.5, NZ),
]
MERGE = (4, 4, 3)


def merge_inputs():
    a = ordinary((BATCH, *MERGE), seed=301).reshape(-1)
    b = ordinary((BATCH, *MERGE), seed=302).reshape(-1)
    for i, (u, v) in enumerate(MERGE_PAIRS):
        a[i], b[i] = u, v
    # The same pairs once more in batch 1, swapped between the inputs and at other positions.
    off = a.size // 2 + 7
    for i, (u, v) in enumerate(MERGE_PAIRS):
        a[off + i], b[off + i] = v, u
    return [a.reshape(BATCH, *MERGE), b.reshape(BATCH, *MERGE)]


def broadcast_inputs():
    a = merge_inputs()[0]
    b = np.array([[NAN, NZ, INF], [-INF, PZ, 0.5]], dtype=np.float32).reshape(BATCH, 1, 1, 3)
    return [a, b]


def conv_input():
    """(2, 6, 5, 2): batch 0 one NaN and one +inf; batch 1 a +inf and a -inf two cells apart."""
    x = ordinary((BATCH, 6, 5, 2), seed=401)
    x[0, 1, 1, 0] = NAN
    x[0, 4, 3, 1] = INF
    x[1, 2, 1, 0] = INF
    x[1, 2, 3, 1] = -INF
    return x


def dense_input():
    """(2, 4, 6): rows with one NaN, one +inf, +inf and -inf, two huge positives, subnormals."""
    x = ordinary((BATCH, 4, 6), seed=501).reshape(8, 6)
    x[1, 2] = NAN
    x[2, 4] = INF
    x[4, 0] = INF
    x[4, 5] = -INF
    x[5, 1] = BIG
    x[5, 3] = BIG
    x[6, :3] = [TINY, -TINY, NZ]
    x[7, :] = [NZ, PZ, NZ, NZ, PZ, NZ]
    return x.reshape(BATCH, 4, 6)


def image_input():
    """(2, 4, 5, 2) for resampling, padding and reshapes."""
    x = ordinary((BATCH, 4, 5, 2), seed=601)
    x[0, 2, 3, 0] = INF                              # the plane's only special value
    x[0, 0:2, 3:5, 1] = NZ                           # 2x2 block of -0.0
    x[0, 3, 0, 1] = PZ
    x[1, 0, 0, 0] = BIG                              # two huge values side by side
    x[1, 0, 1, 0] = BIG
    x[1, 3, 4, 0] = -BIG
    x[1, 1, 1, 1] = NAN                              # NaN, -inf, subnormals
    x[1, 2, 4, 1] = -INF
    x[1, 1, 2, 1] = TINY
    x[1, 2, 2, 1] = -TINY
    x[1, 3, 4, 1] = NZ
    return x


# ---------------------------------------------------------------------------------------------
# Cases

CASES = []  # (name, build) in output order; build() -> (model, [inputs], tolerance, plant)


def add(name, shapes, fn, data, tol=DEFAULT_TOL, plant=None):
    """A Functional case: inputs of `shapes` (named x, or x0, x1, ...), outputs fn(*inputs).

    `data()` returns the input arrays (batch included). Layers are created inside build(),
    after the case's clear_session(), so their auto-numbered names are deterministic.
    `plant(weights)`, if given, returns new weights for the layer under test (the model's last
    layer) from its keras_random ones; they are stored in the case.
    """
    def build():
        n = len(shapes)
        names = ["x"] if n == 1 else [f"x{i}" for i in range(n)]
        ins = [keras.Input(s, name=names[i]) for i, s in enumerate(shapes)]
        model = keras.Model(ins[0] if n == 1 else ins, fn(*ins), name=name)
        arrays = data()
        arrays = arrays if isinstance(arrays, list) else [arrays]
        return model, arrays, tol, plant
    CASES.append((name, build))


def single(name, shape, make, data, tol=DEFAULT_TOL, plant=None):
    add(name, [shape], lambda x: make()(x), data, tol, plant)


def two(name, shapes, make, data, tol=DEFAULT_TOL):
    add(name, shapes, lambda a, b: make()([a, b]), data, tol)


# Every string keras.activations accepts in Activation(...) (Keras 3.15), as in layers.zip.
# Not here: "threshold" (needs arguments; Activation("threshold") fails when called), and
# gelu(approximate=True): only reachable through a callable (functools.partial / lambda), which
# Keras cannot serialize to a config.
ACTIVATIONS = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax",
               "softplus", "softsign", "swish", "silu", "gelu", "hard_sigmoid", "hard_silu",
               "hard_swish", "elu", "selu", "leaky_relu", "exponential", "mish", "celu",
               "log_sigmoid", "hard_tanh", "tanh_shrink", "soft_shrink", "hard_shrink",
               "sparse_plus", "squareplus", "sparse_sigmoid", "sparsemax", "glu"]
for act in ACTIVATIONS:
    single(f"activation_{act}", ACT, (lambda act=act: layers.Activation(act)), activation_input,
           tol=STEEP_TOL if act in STEEP else DEFAULT_TOL)

for name, make, tol in [
    ("relu_default", lambda: layers.ReLU(), DEFAULT_TOL),
    ("relu_max6", lambda: layers.ReLU(max_value=6.0), DEFAULT_TOL),
    ("relu_slope01", lambda: layers.ReLU(negative_slope=0.1), DEFAULT_TOL),
    ("relu_threshold05", lambda: layers.ReLU(threshold=0.5), DEFAULT_TOL),
    # ReLU(max_value=6, negative_slope=0.2, threshold=-1) is rejected by Keras (a negative
    # threshold raises ValueError in ReLU.__init__): threshold 1 instead.
    ("relu_max6_slope02_threshold1",
     lambda: layers.ReLU(max_value=6.0, negative_slope=0.2, threshold=1.0), DEFAULT_TOL),
    ("leaky_relu_03", lambda: layers.LeakyReLU(negative_slope=0.3), DEFAULT_TOL),
    ("prelu_default", lambda: layers.PReLU(), DEFAULT_TOL),
    ("elu_layer_alpha1", lambda: layers.ELU(alpha=1.0), STEEP_TOL),
    ("softmax_layer", lambda: layers.Softmax(axis=-1), STEEP_TOL),
]:
    single(name, ACT, make, activation_input, tol)

POOL = (6, 6, 4)
for name, make in [
    ("max_pool_2_valid", lambda: layers.MaxPooling2D(2, strides=2, padding="valid")),
    ("max_pool_3_s1_same", lambda: layers.MaxPooling2D(3, strides=1, padding="same")),
    ("max_pool_23_s12_same", lambda: layers.MaxPooling2D((2, 3), strides=(1, 2), padding="same")),
    ("avg_pool_2_valid", lambda: layers.AveragePooling2D(2, padding="valid")),
    ("avg_pool_3_s1_same", lambda: layers.AveragePooling2D(3, strides=1, padding="same")),
    ("global_max_pool", lambda: layers.GlobalMaxPooling2D()),
    ("global_avg_pool", lambda: layers.GlobalAveragePooling2D()),
    ("global_max_pool_keepdims", lambda: layers.GlobalMaxPooling2D(keepdims=True)),
]:
    single(name, POOL, make, pool_input)

for name, make in [
    ("merge_add", layers.Add),
    ("merge_subtract", layers.Subtract),
    ("merge_multiply", layers.Multiply),
    ("merge_average", layers.Average),
    ("merge_maximum", layers.Maximum),
    ("merge_minimum", layers.Minimum),
]:
    two(name, [MERGE, MERGE], make, merge_inputs)
two("merge_maximum_broadcast", [MERGE, (1, 1, 3)], layers.Maximum, broadcast_inputs)
two("merge_minimum_broadcast", [MERGE, (1, 1, 3)], layers.Minimum, broadcast_inputs)

single("batchnorm", ACT, lambda: layers.BatchNormalization(), activation_input)
single("layernorm", ACT, lambda: layers.LayerNormalization(), activation_input)
single("normalization_explicit", ACT,
       lambda: layers.Normalization(mean=[0.5, -0.25, 0.125, 0.0, 1.0, -1.5, 0.75, 2.0],
                                    variance=[2.0, 0.5, 1.5, 1.0, 0.25, 4.0, 3.0, 0.125]),
       activation_input)

# Statistics Keras takes at face value (issue 20). Normalization divides by
# maximum(sqrt(variance), 1e-7): a negative variance gives NaN (jax's maximum keeps it), zero and
# tiny ones the 1e-7 floor, and XLA reads a subnormal as zero, so -1e-40 gets the floor too.
NORM_MEAN = [0.5, -0.25, 0.125, 0.0, 1.0, -1.5, 0.75, 2.0]
NORM_VARIANCE = [-1.0, -1e-20, 0.0, -0.0, 1e-14, 1e-40, -1e-40, 3e38]
for invert in (False, True):
    single(f"normalization_negative_variance{'_invert' if invert else ''}", ACT,
           lambda invert=invert: layers.Normalization(mean=NORM_MEAN, variance=NORM_VARIANCE,
                                                      invert=invert),
           activation_input)


def plant_normalization(weights):
    """mean, variance (and count) with NaN, infinities and negatives in both statistics."""
    mean = np.array([NAN, 0.5, INF, -INF, 1.0, 0.25, INF, -0.75], dtype=np.float32)
    var = np.array([1.0, NAN, 4.0, 0.25, INF, -INF, INF, -2.0], dtype=np.float32)
    return [mean, var, weights[2]]


for invert in (False, True):
    single(f"normalization_nonfinite_weights{'_invert' if invert else ''}", ACT,
           lambda invert=invert: layers.Normalization(invert=invert), activation_input,
           plant=plant_normalization)


def plant_batchnorm(weights):
    """moving_variance: negative beyond -epsilon (NaN), exactly -epsilon (rsqrt(0) = inf),
    between -epsilon and 0, a negative subnormal, zero, NaN, +inf."""
    gamma, beta, mean, _ = weights
    var = np.array([-1.0, -1e-3, -5e-4, -1e-40, 0.0, NAN, INF, 2.0], dtype=np.float32)
    return [gamma, beta, mean, var]


# The same statistics written in the config: Python's json writes them as bare NaN, Infinity
# and -Infinity tokens, which the loader must read (the entry keeps that text as `model_text`).
single("normalization_nonfinite_config", ACT,
       lambda: layers.Normalization(
           mean=[float("nan"), 0.5, float("inf"), -float("inf"), 1.0, 0.25, float("inf"), -0.75],
           variance=[1.0, float("nan"), 4.0, 0.25, float("inf"), -float("inf"), float("inf"),
                     -2.0]),
       activation_input)
single("rescaling_nonfinite_config", ACT,
       lambda: layers.Rescaling(scale=2.0, offset=-float("inf")), activation_input)


single("batchnorm_negative_variance", ACT, lambda: layers.BatchNormalization(),
       activation_input, plant=plant_batchnorm)

single("rescaling", ACT, lambda: layers.Rescaling(scale=0.5, offset=-1.0), activation_input)

single("conv2d_same_3x3", (6, 5, 2), lambda: layers.Conv2D(3, 3, padding="same"), conv_input)
single("depthwise_same_3x3", (6, 5, 2), lambda: layers.DepthwiseConv2D(3, padding="same"),
       conv_input)
single("dense_4", (4, 6), lambda: layers.Dense(4), dense_input)

IMG = (4, 5, 2)
single("upsampling_nearest_2", IMG, lambda: layers.UpSampling2D(2, interpolation="nearest"),
       image_input)
single("upsampling_bilinear_2", IMG, lambda: layers.UpSampling2D(2, interpolation="bilinear"),
       image_input)
single("zero_padding_1", IMG, lambda: layers.ZeroPadding2D(1), image_input)
two("concatenate", [MERGE, MERGE], layers.Concatenate, merge_inputs)


# Embedding casts a float input to int32 as XLA does (NaN -> 0, truncation toward zero, ±inf and
# anything out of int32's range saturated), then jnp.take: ids in [-5, 0) count from the end,
# every other id out of range gives a row of NaN.
EMB_VOCAB = 5
EMB_IDS = [NAN, INF, -INF, -1.0, -0.5, 0.7, 5.0, 10.0, 3e9, -3e9, 1e30, -1e30,
           -5.0, -6.0, -4.5, 4.9, 2147483520.0, -2147483648.0, 2147483648.0, NZ, TINY, 3.99]


def embedding_input():
    ids = np.array(EMB_IDS, dtype=np.float32)
    return np.stack([ids, ids[::-1]])


single("embedding_float_ids", (len(EMB_IDS),), lambda: layers.Embedding(EMB_VOCAB, 3),
       embedding_input)

single("flatten", IMG, lambda: layers.Flatten(), image_input)
single("reshape", IMG, lambda: layers.Reshape((10, 4)), image_input)


# ---------------------------------------------------------------------------------------------
# Running and writing


def summary_text(model):
    lines = []
    model.summary(print_fn=lambda text, line_break=True: lines.append(text))
    return "".join(lines)


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode()


def call(model, arrays):
    ys = model(arrays if len(arrays) > 1 else arrays[0], training=False)
    return [np.asarray(y, dtype=np.float32) for y in (ys if isinstance(ys, (list, tuple))
                                                       else [ys])]


def same_bits(a, b):
    return a.shape == b.shape and a.astype("<f4").tobytes() == b.astype("<f4").tobytes()


def check_round_trip(name, model, arrays, ys):
    """model_from_json gives the same config and, with the same weights, the same bits."""
    text = model.to_json()
    again = keras.models.model_from_json(text)
    assert again.to_json() == text, f"{name}: to_json does not round-trip"
    again.set_weights(model.get_weights())
    for layer in again.layers:
        if isinstance(layer, layers.Normalization):
            layer.finalize_state()
    for y, z in zip(ys, call(again, arrays)):
        assert same_bits(y, z), f"{name}: reloaded model gives other outputs"


def run_case(name, build):
    keras.backend.clear_session()
    model, arrays, tol, plant = build()
    assert model.name == name, (model.name, name)
    keras_random.fill_weights(model)
    planted = None
    if plant is not None:
        layer = model.layers[-1]
        layer.set_weights(plant(layer.get_weights()))
        if isinstance(layer, layers.Normalization):
            layer.finalize_state()  # it caches its statistics; loading a model calls this too
        planted = {layer.name: [{"shape": list(w.shape), "data": b64(w)}
                                for w in layer.get_weights()]}
    for t, a in zip(model.inputs, arrays):
        assert a.dtype == np.float32 and a.shape[1:] == tuple(t.shape[1:]), (name, a.shape)
    ys = call(model, arrays)
    check_round_trip(name, model, arrays, ys)
    trainable = count_params(model.trainable_weights)
    non_trainable = count_params(model.non_trainable_weights)
    entry = {
        "name": name,
        "model": json.loads(model.to_json()),
        "inputs": [{"shape": list(a.shape), "dtype": "float32", "int_range": None,
                    "data": b64(a)} for a in arrays],
        "outputs": [{"shape": list(y.shape), "data": b64(y)} for y in ys],
        "summary": summary_text(model),
        "params": {"total": trainable + non_trainable, "trainable": trainable,
                   "non_trainable": non_trainable},
        "tolerance": tol,
    }
    if planted is not None:
        entry["weights"] = planted
    if not np.all(np.isfinite([v for v in _numbers(entry["model"])])):
        # JSON has no token for these: keep Keras's own text, bare NaN/Infinity and all.
        entry["model"] = None
        entry["model_text"] = model.to_json()
    return entry, ys


def _numbers(v):
    """Every float in a JSON-like value."""
    if isinstance(v, float):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from _numbers(x)
    elif isinstance(v, list):
        for x in v:
            yield from _numbers(x)


def counts(arrays):
    nan = sum(int(np.isnan(a).sum()) for a in arrays)
    pinf = sum(int(np.isposinf(a).sum()) for a in arrays)
    ninf = sum(int(np.isneginf(a).sum()) for a in arrays)
    nzero = sum(int(((a == 0) & np.signbit(a)).sum()) for a in arrays)
    size = sum(a.size for a in arrays)
    return nan, pinf, ninf, nzero, size


def main():
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="only these cases (default: all)")
    parser.add_argument("--out", type=pathlib.Path, default=OUT, help=f"default: {OUT}")
    parser.add_argument("--keep", action="store_true",
                        help="keep the cases the output zip already holds, run only the others")
    args = parser.parse_args()
    unknown = set(args.cases) - set(names)
    assert not unknown, f"unknown cases: {sorted(unknown)}"
    only = set(args.cases)
    out = args.out.resolve()
    rows = []
    kept = {}
    if args.keep and out.exists():
        with zipfile.ZipFile(out) as old:
            kept = {n: old.read(n) for n in old.namelist()}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, build in CASES:
            if only and name not in only:
                continue
            info = zipfile.ZipInfo(f"{name}.json", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            text = kept.get(info.filename)
            if text is None:
                entry, arrays = run_case(name, build)
                text = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
            else:
                arrays = [np.frombuffer(base64.b64decode(o["data"]), "<f4").reshape(o["shape"])
                          for o in json.loads(text)["outputs"]]
            zf.writestr(info, text, compresslevel=9)
            rows.append((name, " ".join(str(list(a.shape)) for a in arrays), *counts(arrays)))
    w = max(len(r[0]) for r in rows)
    print(f"{'case':<{w}}  {'output shape(s)':<16} {'size':>5} {'NaN':>5} {'+inf':>5} "
          f"{'-inf':>5} {'-0.0':>5}")
    for name, shapes, nan, pinf, ninf, nzero, size in rows:
        print(f"{name:<{w}}  {shapes:<16} {size:>5} {nan:>5} {pinf:>5} {ninf:>5} {nzero:>5}")
    print(f"{len(rows)} cases -> {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
