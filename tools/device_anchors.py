#!/usr/bin/env python3
"""The anchors `tools/device_bench.sh` compares wgcnn with, on the same GPU: PyTorch (cuDNN,
fp32, TF32 off) for the Conv2D workloads and the torchvision twins of the keras.applications
models, and Keras 3 on JAX (`predict_on_batch`) where keras is installed. One JSON object per
line on stdout.

Timed as `wgcnn bench` times: the input resident on the device, host time from the call until
the output is on the host; device time from CUDA events around the work alone. Median of
--repeat runs after 3 warm-ups.
"""

import argparse
import json
import os
import statistics
import sys
import time


def median_ms(fn, repeat):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def torch_rows(args):
    import torch
    import torch.nn.functional as F

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    name = torch.cuda.get_device_name(0)

    def device_ms(fn):
        for _ in range(3):
            fn()
        times = []
        for _ in range(args.repeat):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        return statistics.median(times)

    for w in args.workloads:
        shape, filters, kernel, strides, padding = w.split()
        n, h, wd, c = map(int, shape.split(","))
        kh, kw = map(int, kernel.split(","))
        sh, sw = map(int, strides.split(","))
        x = torch.randn(n, c, h, wd, device=dev).contiguous(memory_format=torch.channels_last)
        k = torch.randn(int(filters), c, kh, kw, device=dev).contiguous(
            memory_format=torch.channels_last)
        b = torch.randn(int(filters), device=dev)
        if padding == "same":
            # Keras's 'same': total padding so that out = ceil(in / stride), the extra on the
            # bottom/right.
            def pads(size, k, s):
                total = max((-(-size // s) - 1) * s + k - size, 0)
                return total // 2, total - total // 2
            (top, bottom), (left, right) = pads(h, kh, sh), pads(wd, kw, sw)
            conv = lambda: F.conv2d(F.pad(x, (left, right, top, bottom)), k, b, (sh, sw))  # noqa: E731
        else:
            conv = lambda: F.conv2d(x, k, b, (sh, sw))  # noqa: E731
        with torch.no_grad():
            host = median_ms(lambda: conv().cpu(), args.repeat)
            device = device_ms(conv)
        yield {"framework": "pytorch", "device": name, "op": "conv2d", "workload": w,
               "host_ms": host, "device_ms": device}

    import torchvision.models as tv
    nets = {"resnet50": tv.resnet50, "mobilenetv2": tv.mobilenet_v2,
            "efficientnetb0": tv.efficientnet_b0, "vgg16": tv.vgg16}
    for net in args.nets:
        model = nets[net](weights=None).to(dev).eval().to(memory_format=torch.channels_last)
        for batch in args.batches:
            x = torch.randn(batch, 3, 224, 224, device=dev).contiguous(
                memory_format=torch.channels_last)
            with torch.no_grad():
                host = median_ms(lambda: model(x).cpu(), args.repeat)
                device = device_ms(lambda: model(x))
            yield {"framework": "pytorch", "device": name, "model": net, "batch": batch,
                   "host_ms": host, "device_ms": device}


def keras_rows(args):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras
    except ImportError as e:
        print(f"keras not installed ({e}): no Keras-JAX anchor", file=sys.stderr)
        return
    import numpy as np
    builders = {"resnet50": keras.applications.ResNet50,
                "mobilenetv2": keras.applications.MobileNetV2,
                "efficientnetb0": keras.applications.EfficientNetB0,
                "vgg16": keras.applications.VGG16}
    import jax
    name = str(jax.devices()[0])
    for net in args.nets:
        model = builders[net](weights=None, input_shape=(224, 224, 3))
        for batch in args.batches:
            x = np.random.default_rng(0).uniform(-1, 1, (batch, 224, 224, 3)).astype(np.float32)
            host = median_ms(lambda: np.asarray(model.predict_on_batch(x)), args.repeat)
            yield {"framework": "keras-jax", "device": name, "model": net, "batch": batch,
                   "host_ms": host}
        keras.backend.clear_session()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--nets", nargs="*", default=[])
    parser.add_argument("--batches", type=int, nargs="*", default=[1, 32])
    parser.add_argument("--workloads", nargs="*", default=[],
                        help='"N,H,W,C FILTERS KH,KW SH,SW PADDING" each')
    args = parser.parse_args()
    failed = False
    for rows in (torch_rows, keras_rows):
        try:
            for row in rows(args):
                print(json.dumps(row), flush=True)
        except Exception as e:  # one framework failing must not hide the other's rows
            print(f"{rows.__name__}: {type(e).__name__}: {e}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
