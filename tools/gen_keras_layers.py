#!/usr/bin/env python3
"""Generates tests/fixtures/layers.zip: real Keras 3 outputs for one case per layer option.

Every case is a small Keras model (mostly one layer under test, plus a few multi-layer graphs,
nested models and Sequential models, so both config formats are covered). The zip holds one
JSON entry per case, `<case name>.json`:

    {
      "name":    case name (also the model's name),
      "model":   json.loads(model.to_json()),
      "inputs":  [{"shape": [batch, ...], "dtype": "float32" | "int32", "int_range": null | n}],
      "outputs": [{"shape": [...], "data": base64 of little-endian float32, C order}],
      "summary": model.summary() as Keras prints it to a non-terminal 80 columns wide,
      "params":  {"total": n, "trainable": n, "non_trainable": n},
      "tolerance": relative tolerance (to the output's max |value|) for comparing outputs
    }

No weights and no inputs are stored: both come from tools/keras_random.py, which the Rust
tests reimplement (tests/common/keras_random.rs):
  - weights: keras_random.fill_weights(model) (key "<layer name>/<var index>", nested models
    "outer/inner/<i>"), value rule picked from Keras's variable name;
  - input i (in model.inputs order): keras_random.input_value(i, shape, int_range).
Outputs are model(inputs, training=False) as float32.

The script is deterministic (Keras's auto-numbered names are reset before every case with
keras.backend.clear_session(), and zip entries have a fixed timestamp), so rerunning it
reproduces layers.zip byte for byte.

Usage (Keras 3 with the light jax backend, CPU is enough):
    pip install keras jax && python3 tools/gen_keras_layers.py
Options: `python3 tools/gen_keras_layers.py CASE... --out /tmp/some.zip` writes only the named
cases, elsewhere (for a look at one case; the committed zip always holds every case).
It prints a table of case, output shape(s), parameter count and max |output|.
"""

import os
import pathlib
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ["COLUMNS"] = "80"  # Keras sizes the summary table from the terminal width.

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402
import zipfile  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.utils.summary_utils import count_params  # noqa: E402

sys.dont_write_bytecode = True  # no tools/__pycache__ from importing keras_random
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import keras_random  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "layers.zip"
BATCH = 2
DEFAULT_TOL = 1e-5
# Cases whose outputs go through exp/log/erf/tanh-like functions (or long recurrences) get a
# looser tolerance: backends use different approximations of these.
STEEP_TOL = 1e-4
STEEP = {"swish", "silu", "gelu", "elu", "selu", "softplus", "mish", "exponential", "tanh",
         "sigmoid", "softmax", "log_softmax", "celu", "log_sigmoid", "tanh_shrink", "glu",
         "softsign", "squareplus", "sparsemax"}

CASES = []  # (name, build) in output order; build() -> Case


class Case:
    def __init__(self, model, int_ranges=None, tol=DEFAULT_TOL):
        self.model = model
        self.int_ranges = int_ranges or [None] * len(model.inputs)
        self.tol = tol


def case(name, tol=DEFAULT_TOL):
    """Registers `fn(name) -> model | Case` as a case."""
    def register(fn):
        def build():
            made = fn(name)
            if isinstance(made, Case):
                return made
            return Case(made, tol=tol)
        CASES.append((name, build))
        return fn
    return register


def add(name, build):
    CASES.append((name, build))


def tol_for(activation):
    return STEEP_TOL if activation in STEEP else DEFAULT_TOL


# ---------------------------------------------------------------------------------------------
# Builders


def single(name, shape, make, tol=DEFAULT_TOL, pre=(), sequential=False, dtype="float32",
           int_range=None):
    """A case with one input of `shape` (no batch), layers `pre` then the layer `make()`.

    `make` and the entries of `pre` are callables returning layers, so layers are created
    after the case's clear_session() and get deterministic names.
    """
    def build():
        if sequential:
            model = keras.Sequential(
                [keras.Input(shape, dtype=dtype)] + [p() for p in pre] + [make()], name=name)
        else:
            inp = keras.Input(shape, dtype=dtype, name="x")
            x = inp
            for p in pre:
                x = p()(x)
            model = keras.Model(inp, make()(x), name=name)
        return Case(model, [int_range], tol)
    add(name, build)


def graph(name, shapes, fn, tol=DEFAULT_TOL, dtypes=None, int_ranges=None):
    """A Functional case: inputs of `shapes` (named x, or x0, x1, ...), outputs fn(inputs)."""
    def build():
        n = len(shapes)
        names = ["x"] if n == 1 else [f"x{i}" for i in range(n)]
        ins = [keras.Input(s, dtype=(dtypes[i] if dtypes else "float32"), name=names[i])
               for i, s in enumerate(shapes)]
        outs = fn(*ins)
        model = keras.Model(ins[0] if n == 1 else ins, outs, name=name)
        return Case(model, int_ranges, tol)
    add(name, build)


def conv_before(filters=4):
    return lambda: layers.Conv2D(filters, 3, padding="same")


def dense_before(units=4):
    return lambda: layers.Dense(units)


def scale4():
    # Spreads the [-1, 1) inputs over [-4, 4) for activation cases.
    return lambda: layers.Rescaling(4.0)


# ---------------------------------------------------------------------------------------------
# Conv2D

IMG = (7, 6, 3)

for name, shape, kw in [
    ("conv2d_valid_3x3", IMG, dict(filters=4, kernel_size=3)),
    ("conv2d_same_3x3", IMG, dict(filters=4, kernel_size=3, padding="same")),
    ("conv2d_valid_1x1", IMG, dict(filters=5, kernel_size=1)),
    ("conv2d_same_even_2x2", IMG, dict(filters=4, kernel_size=2, padding="same")),
    ("conv2d_same_even_4x4_stride2", (8, 7, 2), dict(filters=3, kernel_size=4, strides=2,
                                                       padding="same")),
    ("conv2d_valid_rect_3x2", IMG, dict(filters=4, kernel_size=(3, 2))),
    ("conv2d_same_rect_2x3", IMG, dict(filters=4, kernel_size=(2, 3), padding="same")),
    ("conv2d_same_stride2_relu6", IMG, dict(filters=5, kernel_size=3, strides=2, padding="same",
                                            activation="relu6")),
    ("conv2d_valid_stride2", IMG, dict(filters=4, kernel_size=3, strides=2)),
    ("conv2d_same_stride21", IMG, dict(filters=4, kernel_size=3, strides=(2, 1), padding="same")),
    ("conv2d_valid_stride21", IMG, dict(filters=4, kernel_size=(3, 2), strides=(2, 1))),
    ("conv2d_same_stride32", (9, 7, 2), dict(filters=3, kernel_size=3, strides=(3, 2),
                                             padding="same")),
    ("conv2d_valid_stride32", (9, 7, 2), dict(filters=3, kernel_size=(2, 3), strides=(3, 2))),
    ("conv2d_same_dilation21", IMG, dict(filters=4, kernel_size=3, dilation_rate=(2, 1),
                                         padding="same")),
    ("conv2d_valid_dilation21", IMG, dict(filters=4, kernel_size=3, dilation_rate=(2, 1))),
    ("conv2d_same_dilation2_even", (8, 8, 2), dict(filters=3, kernel_size=2, dilation_rate=2,
                                                   padding="same")),
    ("conv2d_no_bias", IMG, dict(filters=4, kernel_size=3, padding="same", use_bias=False)),
    ("conv2d_groups2", (6, 5, 4), dict(filters=6, kernel_size=3, padding="same", groups=2)),
    ("conv2d_groups4_stride2", (7, 6, 8), dict(filters=4, kernel_size=3, strides=2, groups=4)),
    ("conv2d_kernel_larger_than_input_same", (3, 4, 2), dict(filters=3, kernel_size=5,
                                                             padding="same")),
]:
    single(name, shape, (lambda kw=kw: layers.Conv2D(**kw)),
           sequential=name in ("conv2d_valid_3x3", "conv2d_groups2"))

for act in ["relu6", "swish", "gelu", "hard_sigmoid", "hard_swish", "elu", "selu", "softplus",
            "softsign", "mish", "leaky_relu", "exponential", "tanh", "sigmoid", "softmax",
            "relu", "linear"]:
    single(f"conv2d_act_{act}", (6, 5, 3),
           (lambda act=act: layers.Conv2D(5, 3, padding="same", activation=act)),
           tol=tol_for(act))

# ---------------------------------------------------------------------------------------------
# DepthwiseConv2D, SeparableConv2D

for name, shape, kw in [
    ("depthwise_dm1_same", IMG, dict(kernel_size=3, padding="same")),
    ("depthwise_dm1_valid", IMG, dict(kernel_size=3)),
    ("depthwise_dm2_valid", IMG, dict(kernel_size=(3, 2), depth_multiplier=2)),
    ("depthwise_dm3_same", (6, 5, 2), dict(kernel_size=3, depth_multiplier=3, padding="same")),
    ("depthwise_stride2_same", IMG, dict(kernel_size=3, strides=2, padding="same")),
    ("depthwise_stride2_valid_even", (8, 7, 3), dict(kernel_size=2, strides=2)),
    ("depthwise_dilation2_same", (8, 7, 3), dict(kernel_size=3, dilation_rate=2,
                                                 padding="same")),
    ("depthwise_no_bias", IMG, dict(kernel_size=3, padding="same", use_bias=False)),
    ("depthwise_relu6", IMG, dict(kernel_size=3, padding="same", activation="relu6")),
]:
    single(name, shape, (lambda kw=kw: layers.DepthwiseConv2D(**kw)))

for name, shape, kw in [
    ("separable_dm1_same", IMG, dict(filters=5, kernel_size=3, padding="same")),
    ("separable_dm2_valid", IMG, dict(filters=4, kernel_size=3, depth_multiplier=2)),
    ("separable_stride2_same", IMG, dict(filters=4, kernel_size=3, strides=2, padding="same")),
    ("separable_dilation2_same", (8, 7, 3), dict(filters=4, kernel_size=3, dilation_rate=2,
                                                 padding="same")),
    ("separable_no_bias", IMG, dict(filters=4, kernel_size=(2, 3), padding="same",
                                    use_bias=False)),
    ("separable_relu", IMG, dict(filters=4, kernel_size=3, padding="same", activation="relu")),
]:
    single(name, shape, (lambda kw=kw: layers.SeparableConv2D(**kw)))

# ---------------------------------------------------------------------------------------------
# Conv2DTranspose

TIN = (3, 4, 3)
for name, shape, kw in [
    ("conv2d_transpose_k2_s2_same", TIN, dict(filters=4, kernel_size=2, strides=2,
                                              padding="same")),
    ("conv2d_transpose_k2_s2_valid", TIN, dict(filters=4, kernel_size=2, strides=2)),
    ("conv2d_transpose_k3_s1_valid", TIN, dict(filters=4, kernel_size=3)),
    ("conv2d_transpose_k3_s1_same", TIN, dict(filters=4, kernel_size=3, padding="same")),
    ("conv2d_transpose_k3_s2_same", TIN, dict(filters=4, kernel_size=3, strides=2,
                                              padding="same")),
    ("conv2d_transpose_k3_s2_valid", TIN, dict(filters=4, kernel_size=3, strides=2)),
    ("conv2d_transpose_k4_s2_same", TIN, dict(filters=3, kernel_size=4, strides=2,
                                              padding="same")),
    ("conv2d_transpose_k4_s2_valid", TIN, dict(filters=3, kernel_size=4, strides=2)),
    ("conv2d_transpose_k32_s21_valid", TIN, dict(filters=3, kernel_size=(3, 2), strides=(2, 1))),
    ("conv2d_transpose_k32_s21_same", TIN, dict(filters=3, kernel_size=(3, 2), strides=(2, 1),
                                                padding="same")),
    ("conv2d_transpose_k3_s3_valid", TIN, dict(filters=3, kernel_size=3, strides=3)),
    ("conv2d_transpose_k2_s3_same", TIN, dict(filters=3, kernel_size=2, strides=3,
                                              padding="same")),
    ("conv2d_transpose_outpad1_valid", TIN, dict(filters=3, kernel_size=3, strides=2,
                                                 output_padding=1)),
    ("conv2d_transpose_outpad1_same", TIN, dict(filters=3, kernel_size=3, strides=2,
                                                padding="same", output_padding=1)),
    ("conv2d_transpose_outpad10_s32_same", TIN, dict(filters=3, kernel_size=4, strides=(3, 2),
                                                     padding="same", output_padding=(1, 0))),
    ("conv2d_transpose_dilation2_valid", TIN, dict(filters=3, kernel_size=3, dilation_rate=2)),
    ("conv2d_transpose_dilation2_same", TIN, dict(filters=3, kernel_size=3, dilation_rate=2,
                                                  padding="same")),
    ("conv2d_transpose_no_bias", TIN, dict(filters=4, kernel_size=3, strides=2, padding="same",
                                           use_bias=False)),
    ("conv2d_transpose_relu", TIN, dict(filters=4, kernel_size=3, strides=2, padding="same",
                                        activation="relu")),
]:
    single(name, shape, (lambda kw=kw: layers.Conv2DTranspose(**kw)))

# ---------------------------------------------------------------------------------------------
# Resampling, cropping, padding, pooling

for name, kw in [
    ("upsampling_nearest_2", dict(size=2)),
    ("upsampling_nearest_32", dict(size=(3, 2))),
    ("upsampling_bilinear_2", dict(size=2, interpolation="bilinear")),
    ("upsampling_bilinear_32", dict(size=(3, 2), interpolation="bilinear")),
]:
    single(name, (3, 4, 2), (lambda kw=kw: layers.UpSampling2D(**kw)))

for name, kw in [
    ("cropping_int", dict(cropping=1)),
    ("cropping_pairs", dict(cropping=((1, 2), (0, 3)))),
    ("cropping_tuple", dict(cropping=(1, 2))),
]:
    single(name, (7, 8, 3), (lambda kw=kw: layers.Cropping2D(**kw)))

for name, kw in [
    ("zero_padding_int", dict(padding=1)),
    ("zero_padding_pairs", dict(padding=((1, 2), (0, 3)))),
    ("zero_padding_tuple", dict(padding=(2, 1))),
]:
    single(name, (5, 4, 3), (lambda kw=kw: layers.ZeroPadding2D(**kw)))

POOLS = [
    ("2_valid", dict(pool_size=2)),
    ("3_s2_same", dict(pool_size=3, strides=2, padding="same")),
    ("3_s1_valid", dict(pool_size=3, strides=1)),
    ("32_s12_valid", dict(pool_size=(3, 2), strides=(1, 2))),
    ("23_s31_same", dict(pool_size=(2, 3), strides=(3, 1), padding="same")),
    ("2_s3_same", dict(pool_size=2, strides=3, padding="same")),
]
for suffix, kw in POOLS:
    single(f"max_pool_{suffix}", (8, 7, 3), (lambda kw=kw: layers.MaxPooling2D(**kw)))
    single(f"avg_pool_{suffix}", (8, 7, 3), (lambda kw=kw: layers.AveragePooling2D(**kw)))

for keep in (False, True):
    single(f"global_max_pool_keepdims_{str(keep).lower()}", (6, 5, 4),
           (lambda keep=keep: layers.GlobalMaxPooling2D(keepdims=keep)))
    single(f"global_avg_pool_keepdims_{str(keep).lower()}", (6, 5, 4),
           (lambda keep=keep: layers.GlobalAveragePooling2D(keepdims=keep)))

# ---------------------------------------------------------------------------------------------
# Merges

M = (6, 5, 4)
graph("merge_add2", [M, M], lambda a, b: layers.Add()([a, b]))
graph("merge_add3", [M, M, M], lambda a, b, c: layers.Add()([a, b, c]))
graph("merge_subtract", [M, M], lambda a, b: layers.Subtract()([a, b]))
graph("merge_multiply", [M, M], lambda a, b: layers.Multiply()([a, b]))
graph("merge_multiply_broadcast", [M, (1, 1, 4)], lambda a, b: layers.Multiply()([a, b]))
graph("merge_average", [M, M, M], lambda a, b, c: layers.Average()([a, b, c]))
graph("merge_maximum", [M, M], lambda a, b: layers.Maximum()([a, b]))
graph("merge_minimum", [M, M, M], lambda a, b, c: layers.Minimum()([a, b, c]))
graph("concat_last_axis_3", [(6, 5, 2), (6, 5, 3), (6, 5, 1)],
      lambda a, b, c: layers.Concatenate()([a, b, c]))
graph("concat_axis1_4d", [(3, 5, 2), (4, 5, 2)], lambda a, b: layers.Concatenate(axis=1)([a, b]))
graph("concat_axis2_4d", [(4, 2, 3), (4, 3, 3)], lambda a, b: layers.Concatenate(axis=2)([a, b]))
graph("concat_axis1_2d", [(5,), (3,)], lambda a, b: layers.Concatenate(axis=1)([a, b]))


def se_block(x):
    # Squeeze-excite, as in MobileNetV3 / EfficientNet.
    s = layers.GlobalAveragePooling2D(keepdims=True)(x)
    s = layers.Conv2D(2, 1, activation="relu")(s)
    s = layers.Conv2D(4, 1, activation="hard_sigmoid")(s)
    return layers.Multiply()([x, s])


graph("squeeze_excite", [M], se_block)

# ---------------------------------------------------------------------------------------------
# keras.ops / Python operators on symbolic tensors (serialize as module keras.src.ops.numpy)

graph("ops_add_scalar", [M], lambda x: x + 3.0)
graph("ops_mul_scalar", [M], lambda x: x * (1.0 / 6.0))
graph("ops_rsub_scalar", [M], lambda x: 3.0 - x)
graph("ops_div_scalar", [M], lambda x: x / 2.0)
graph("ops_sub_scalar", [M], lambda x: x - 1.0)
graph("ops_add_tensors", [M, M], lambda a, b: keras.ops.add(a, b))


def mobilenet_v3_hard_swish(x):
    x = layers.Conv2D(4, 3, padding="same")(x)
    return layers.Multiply()([x, layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)])


graph("ops_hard_swish_chain", [M], mobilenet_v3_hard_swish)

# ---------------------------------------------------------------------------------------------
# Normalization layers

single("batchnorm_default", (5, 4, 3), lambda: layers.BatchNormalization())
single("batchnorm_no_center", (5, 4, 3), lambda: layers.BatchNormalization(center=False))
single("batchnorm_no_scale", (5, 4, 3), lambda: layers.BatchNormalization(scale=False))
single("batchnorm_2d", (6,), lambda: layers.BatchNormalization(), sequential=True)
single("batchnorm_eps1e5", (5, 4, 3), lambda: layers.BatchNormalization(epsilon=1e-5))

LN = (4, 3, 6)
single("layernorm_default", LN, lambda: layers.LayerNormalization())
single("layernorm_eps1e6", LN, lambda: layers.LayerNormalization(epsilon=1e-6))
single("layernorm_no_center", LN, lambda: layers.LayerNormalization(center=False))
single("layernorm_no_scale", LN, lambda: layers.LayerNormalization(scale=False))
single("layernorm_axes123", LN, lambda: layers.LayerNormalization(axis=[1, 2, 3]))
single("layernorm_3d", (5, 6), lambda: layers.LayerNormalization())


def rms_layernorm():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rms_scaling is deprecated but still accepted.
        return layers.LayerNormalization(rms_scaling=True)


single("layernorm_rms_scaling", LN, rms_layernorm)

single("normalization_weights", (5, 4, 3), lambda: layers.Normalization(axis=-1))
single("normalization_explicit", (5, 4, 3),
       lambda: layers.Normalization(mean=[0.5, -0.25, 0.125], variance=[2.0, 0.5, 1.5]))
single("normalization_scalar", (5, 4, 3), lambda: layers.Normalization(mean=0.25, variance=4.0))
single("normalization_invert", (5, 4, 3),
       lambda: layers.Normalization(mean=[0.5, -0.25, 0.125], variance=[2.0, 0.5, 1.5],
                                    invert=True))
single("normalization_invert_weights", (5, 4, 3),
       lambda: layers.Normalization(axis=-1, invert=True))

single("rescaling_scalar_offset", (5, 4, 3), lambda: layers.Rescaling(1.0 / 127.5, offset=-1.0))
single("rescaling_per_channel", (5, 4, 3),
       lambda: layers.Rescaling([0.5, 2.0, -1.5], offset=0.25))

# ---------------------------------------------------------------------------------------------
# Shape layers

single("reshape_rank2", (6, 5, 4), lambda: layers.Reshape((30, 4)))
single("reshape_minus1", (6, 5, 4), lambda: layers.Reshape((-1, 8)))
single("reshape_rank4", (6, 5, 4), lambda: layers.Reshape((3, 10, 4)), sequential=True)
single("permute_213", (6, 5, 4), lambda: layers.Permute((2, 1, 3)))
single("permute_312", (6, 5, 4), lambda: layers.Permute((3, 1, 2)))
single("flatten_4d", (6, 5, 4), lambda: layers.Flatten())
single("flatten_3d", (5, 4), lambda: layers.Flatten(), sequential=True)

# ---------------------------------------------------------------------------------------------
# Activation layers. Every string keras.activations accepts in Activation(...), on inputs
# spread over [-4, 4) by a Rescaling(4.0) layer.
# Rejected by Keras 3.15 as a layer activation string: "threshold" (it needs the `threshold`
# and `default_value` arguments; Activation("threshold") fails when called).
# "glu" is accepted but halves the last axis while Activation's symbolic output shape keeps it
# (the model's declared output shape and summary say 6 channels, the real output has 3).

ACTIVATIONS = ["linear", "relu", "relu6", "sigmoid", "tanh", "silu", "swish", "gelu",
               "hard_sigmoid", "hard_silu", "hard_swish", "softplus", "softsign", "elu", "selu",
               "leaky_relu", "exponential", "mish", "celu", "log_sigmoid", "hard_tanh",
               "tanh_shrink", "soft_shrink", "hard_shrink", "sparse_plus", "squareplus",
               "sparse_sigmoid", "softmax", "log_softmax", "sparsemax", "glu"]
for act in ACTIVATIONS:
    single(f"activation_{act}", (3, 4, 6), (lambda act=act: layers.Activation(act)),
           tol=tol_for(act), pre=[scale4()], sequential=act in ("relu", "softmax"))

AS = (3, 4, 6)
single("relu_max6", AS, lambda: layers.ReLU(max_value=6.0), pre=[lambda: layers.Rescaling(8.0)])
single("relu_slope_threshold_max", AS,
       lambda: layers.ReLU(negative_slope=0.1, threshold=0.5, max_value=2.0), pre=[scale4()])
single("relu_slope02", AS, lambda: layers.ReLU(negative_slope=0.2), pre=[scale4()],
       sequential=True)
single("leaky_relu_default", AS, lambda: layers.LeakyReLU(), pre=[scale4()])
single("leaky_relu_005", AS, lambda: layers.LeakyReLU(negative_slope=0.05), pre=[scale4()])
single("prelu_default", AS, lambda: layers.PReLU(), pre=[scale4()])
single("prelu_shared_axes", AS, lambda: layers.PReLU(shared_axes=[1, 2]), pre=[scale4()])
single("prelu_2d", (6,), lambda: layers.PReLU(), pre=[scale4()])
single("elu_alpha05", AS, lambda: layers.ELU(alpha=0.5), pre=[scale4()], tol=STEEP_TOL)
single("softmax_layer", AS, lambda: layers.Softmax(), pre=[scale4()], tol=STEEP_TOL)
single("softmax_layer_axis1", AS, lambda: layers.Softmax(axis=1), pre=[scale4()], tol=STEEP_TOL)

# ---------------------------------------------------------------------------------------------
# Identity at inference (training=False): a Conv2D/Dense first so the output is not the input.

I4 = (6, 5, 3)
for name, shape, make, pre in [
    ("dropout", I4, lambda: layers.Dropout(0.5, seed=1), conv_before()),
    ("spatial_dropout1d", (7, 3), lambda: layers.SpatialDropout1D(0.5, seed=1), dense_before()),
    ("spatial_dropout2d", I4, lambda: layers.SpatialDropout2D(0.5, seed=1), conv_before()),
    ("spatial_dropout3d", (2, 3, 4, 2), lambda: layers.SpatialDropout3D(0.5, seed=1),
     dense_before(3)),
    ("gaussian_noise", I4, lambda: layers.GaussianNoise(0.3, seed=1), conv_before()),
    ("gaussian_dropout", I4, lambda: layers.GaussianDropout(0.3, seed=1), conv_before()),
    ("alpha_dropout", I4, lambda: layers.AlphaDropout(0.3, seed=1), conv_before()),
    ("activity_regularization", I4, lambda: layers.ActivityRegularization(l1=0.01, l2=0.01),
     conv_before()),
    ("random_flip", I4, lambda: layers.RandomFlip(seed=1), conv_before()),
    ("random_rotation", I4, lambda: layers.RandomRotation(0.2, seed=1), conv_before()),
    ("random_zoom", I4, lambda: layers.RandomZoom(0.2, seed=1), conv_before()),
    ("random_translation", I4, lambda: layers.RandomTranslation(0.1, 0.2, seed=1),
     conv_before()),
    ("random_contrast", I4, lambda: layers.RandomContrast(0.3, seed=1), conv_before()),
    ("random_crop_same_size", I4, lambda: layers.RandomCrop(6, 5, seed=1), conv_before()),
    ("random_crop_smaller", (8, 7, 3), lambda: layers.RandomCrop(5, 4, seed=1), conv_before()),
]:
    single(name, shape, make, pre=[pre], sequential=name == "dropout")

# ---------------------------------------------------------------------------------------------
# Dense, Embedding, recurrent

single("dense_2d", (8,), lambda: layers.Dense(5), sequential=True)
single("dense_3d", (4, 6), lambda: layers.Dense(3))
single("dense_4d", (3, 4, 5), lambda: layers.Dense(2))
single("dense_no_bias", (8,), lambda: layers.Dense(5, use_bias=False))
single("dense_softmax", (8,), lambda: layers.Dense(5, activation="softmax"), tol=STEEP_TOL)
single("dense_relu", (8,), lambda: layers.Dense(5, activation="relu"), sequential=True)

single("embedding", (10,), lambda: layers.Embedding(input_dim=50, output_dim=8), dtype="int32",
       int_range=50)

SEQ = (7, 8)
single("lstm_last", SEQ, lambda: layers.LSTM(16), tol=STEEP_TOL)
single("lstm_sequences", SEQ, lambda: layers.LSTM(16, return_sequences=True), tol=STEEP_TOL,
       sequential=True)
single("embedding_lstm", (10,), lambda: layers.LSTM(16), tol=STEEP_TOL,
       pre=[lambda: layers.Embedding(50, 8)], dtype="int32", int_range=50)
single("gru_last", SEQ, lambda: layers.GRU(12), tol=STEEP_TOL)
single("gru_sequences", SEQ, lambda: layers.GRU(12, return_sequences=True), tol=STEEP_TOL)

# ---------------------------------------------------------------------------------------------
# Multi-layer graphs


def branch_merge(x):
    a = layers.Conv2D(4, 3, padding="same", activation="relu", name="branch_a")(x)
    b = layers.Conv2D(4, 1, name="branch_b")(x)
    s = layers.Add(name="sum")([a, b])
    c = layers.Concatenate(name="with_input")([s, x])
    out = layers.Conv2D(5, 3, strides=2, padding="same", name="head")(c)
    return [out, s]


graph("branch_merge", [(7, 6, 3)], branch_merge)


def two_inputs(a, b):
    a = layers.Dense(4, activation="relu", name="dense_a")(a)
    b = layers.Dense(3, activation="tanh", name="dense_b")(b)
    c = layers.Concatenate(name="joined")([a, b])
    return layers.Dense(2, name="out")(c)


graph("two_inputs", [(6,), (3, 5)], lambda a, b: two_inputs(a, layers.Flatten()(b)),
      tol=STEEP_TOL)


def shared_dense(a, b):
    shared = layers.Dense(4, name="shared")
    return layers.Concatenate()([shared(a), shared(b)])


graph("shared_layer", [(5,), (5,)], shared_dense)


def shared_conv_twice(x):
    conv = layers.Conv2D(3, 3, padding="same", activation="relu", name="shared_conv")
    return conv(conv(x))


graph("shared_conv_twice", [(6, 5, 3)], shared_conv_twice)


def nested_sequential(x):
    block = keras.Sequential([
        layers.Conv2D(4, 3, padding="same"),
        layers.BatchNormalization(),
        layers.ReLU(),
    ], name="block")
    x = block(x)
    x = layers.GlobalAveragePooling2D()(x)
    return layers.Dense(3)(x)


graph("nested_sequential", [(6, 5, 3)], nested_sequential)


@case("nested_functional_frozen")
def nested_functional_frozen(name):
    inp = keras.Input((7, 6, 3), name="image")
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    base = keras.Model(inp, x, name="base")
    base.trainable = False
    return keras.Sequential([
        keras.Input((7, 6, 3)),
        base,
        layers.GlobalAveragePooling2D(),
        layers.Dense(3),
    ], name=name)


@case("nested_functional_in_functional")
def nested_functional_in_functional(name):
    inp = keras.Input((6, 5, 2), name="inner_in")
    y = layers.Conv2D(3, 3, padding="same", activation="relu")(inp)
    inner = keras.Model(inp, layers.Add()([y, layers.Conv2D(3, 1)(inp)]), name="inner")
    outer_in = keras.Input((6, 5, 2), name="x")
    z = inner(outer_in)
    z = layers.MaxPooling2D()(z)
    return keras.Model(outer_in, layers.Flatten()(z), name=name)


# ---------------------------------------------------------------------------------------------
# Running and writing


def summary_text(model):
    lines = []
    model.summary(print_fn=lambda text, line_break=True: lines.append(text))
    return "".join(lines)


def make_inputs(case_):
    inputs, specs = [], []
    for i, (t, int_range) in enumerate(zip(case_.model.inputs, case_.int_ranges)):
        shape = (BATCH, *t.shape[1:])
        value = keras_random.input_value(i, shape, int_range)
        inputs.append(value)
        specs.append({"shape": list(shape), "dtype": str(value.dtype), "int_range": int_range})
    return inputs, specs


def fill(model):
    """keras_random.fill_weights, then refreshes layers that cache their weights.

    Normalization (adapted form: weights mean, variance, count) copies its weights into
    broadcast constants in finalize_state(), which set_weights does not call. Its int32
    `count` takes the scheme's zeros fine.
    """
    keras_random.fill_weights(model)
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, layers.Normalization):
            layer.finalize_state()


def run_case(name, build):
    keras.backend.clear_session()
    c = build()
    model = c.model
    assert model.name == name, (model.name, name)
    fill(model)
    inputs, specs = make_inputs(c)
    ys = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    if not isinstance(ys, (list, tuple)):
        ys = [ys]
    outputs = []
    arrays = []
    for y in ys:
        y = np.asarray(y, dtype=np.float32)
        assert np.all(np.isfinite(y)), f"{name}: non-finite output"
        arrays.append(y)
        outputs.append({
            "shape": list(y.shape),
            "data": base64.b64encode(np.ascontiguousarray(y, dtype="<f4").tobytes()).decode(),
        })
    trainable = count_params(model.trainable_weights)
    non_trainable = count_params(model.non_trainable_weights)
    entry = {
        "name": name,
        "model": json.loads(model.to_json()),
        "inputs": specs,
        "outputs": outputs,
        "summary": summary_text(model),
        "params": {"total": trainable + non_trainable, "trainable": trainable,
                   "non_trainable": non_trainable},
        "tolerance": c.tol,
    }
    return entry, arrays


def main():
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="only these cases (default: all)")
    parser.add_argument("--out", type=pathlib.Path, default=OUT, help=f"default: {OUT}")
    args = parser.parse_args()
    unknown = set(args.cases) - set(names)
    assert not unknown, f"unknown cases: {sorted(unknown)}"
    only = set(args.cases)
    out = args.out.resolve()
    rows = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, build in CASES:
            if only and name not in only:
                continue
            entry, arrays = run_case(name, build)
            info = zipfile.ZipInfo(f"{name}.json", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, json.dumps(entry, separators=(",", ":")) + "\n",
                        compresslevel=9)
            rows.append((name, " ".join(str(list(a.shape)) for a in arrays),
                         entry["params"]["total"],
                         max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)))
    w = max(len(r[0]) for r in rows)
    print(f"{'case':<{w}}  {'output shape(s)':<26} {'params':>7}  max|y|")
    for name, shapes, params, amax in rows:
        print(f"{name:<{w}}  {shapes:<26} {params:>7}  {amax:.4g}")
    print(f"{len(rows)} cases -> {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
