#!/usr/bin/env python3
"""Keras's own `predict` (JAX backend, XLA on the CPU) against `wgcnn bench` on the same
machine, side by side: ResNet50, MobileNetV2 and EfficientNetB0 at 224×224, batch 1 and 32.

For each model the script writes the architecture (`model.to_json()`) to a temporary directory,
times `model.predict(x, batch_size=batch)` (median of --repeat runs after a warm-up that
includes XLA's compilation), then runs
`wgcnn bench <model>.json --synthetic-weights --backend cpu[,gpu] --json` on the same
architecture (timings do not depend on the weights' values) and prints one table.

Usage:
    pip install keras jax
    cargo build --release
    python3 tools/bench_keras_apps.py [--repeat 10] [--batch 1 32] [--gpu] [--models resnet50 ...]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "resnet50": lambda: keras.applications.ResNet50(weights=None),
    "mobilenetv2": lambda: keras.applications.MobileNetV2(weights=None),
    "efficientnetb0": lambda: keras.applications.EfficientNetB0(weights=None),
}


def keras_ms(model, batch, repeat):
    x = np.random.default_rng(0).uniform(-1, 1, (batch, 224, 224, 3)).astype(np.float32)
    model.predict(x, batch_size=batch, verbose=0)  # compiles
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        model.predict(x, batch_size=batch, verbose=0)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def wgcnn_ms(config, batch, repeat, backends):
    out = subprocess.run(
        [str(ROOT / "target/release/wgcnn"), "bench", str(config), "--synthetic-weights",
         "--batch-size", str(batch), "--repeat", str(repeat), "--warmup", "1",
         "--backend", ",".join(backends), "--json"],
        check=True, capture_output=True, text=True)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    # The GPU comes twice where the adapter has timestamp queries: "gpu" (host clock) and
    # "gpu device" (its own clock).
    return {r["backend"] + ("" if r.get("clock", "host") == "host" else " device"): r
            for r in rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--gpu", action="store_true", help="also time wgcnn's GPU backend")
    args = parser.parse_args()
    backends = ["cpu"] + (["gpu"] if args.gpu else [])
    print(f"keras {keras.__version__}, jax {__import__('jax').__version__}, "
          f"{os.cpu_count()} CPUs; median of {args.repeat} runs")
    header = f"{'model':<16}{'batch':>6}{'Keras predict (XLA)':>22}{'wgcnn cpu':>12}"
    if args.gpu:
        header += f"{'wgcnn gpu':>12}{'gpu memory':>13}"
    print(header + f"{'cpu speed-up':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            model = MODELS[name]()
            config = Path(tmp) / f"{name}.json"
            config.write_text(model.to_json())
            for batch in args.batch:
                k = keras_ms(model, batch, args.repeat)
                w = wgcnn_ms(config, batch, args.repeat, backends)
                line = f"{name:<16}{batch:>6}{k:>19.1f} ms{w['cpu']['median_ms']:>9.1f} ms"
                if args.gpu:
                    mem = w["gpu"].get("device_memory_bytes", 0) / 1e6
                    line += f"{w['gpu']['median_ms']:>9.1f} ms{mem:>10.1f} MB"
                print(line + f"{k / w['cpu']['median_ms']:>13.2f}×", flush=True)
            keras.backend.clear_session()


if __name__ == "__main__":
    sys.exit(main())
