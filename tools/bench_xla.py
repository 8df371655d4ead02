#!/usr/bin/env python3
"""Times the issue's Conv2D workloads on XLA (via JAX, CPU), the way `wgcnn bench conv2d` times
its backends: input already in memory, median of R runs after warm-up (compilation), each run
waited for with block_until_ready. Prints one JSON object per line, like `wgcnn bench --json`.

Usage:  pip install jax && python3 tools/bench_xla.py [--repeat 7]
"""

import argparse
import json
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

WORKLOADS = [  # (N, H, W, C), filters, (kh, kw), strides, padding
    ((32, 32, 32, 32), 32, (3, 3), (1, 1), "VALID"),
    ((32, 15, 15, 32), 64, (3, 3), (1, 1), "SAME"),
    ((1, 224, 224, 64), 64, (3, 3), (1, 1), "VALID"),
    ((1, 54, 54, 128), 256, (3, 3), (1, 1), "SAME"),
    ((8, 200, 200, 1), 16, (2, 2), (2, 2), "VALID"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for shape, filters, kernel, strides, padding in WORKLOADS:
        x = jnp.asarray(rng.uniform(-1, 1, shape).astype(np.float32))
        w = jnp.asarray(rng.uniform(-1, 1, (*kernel, shape[3], filters)).astype(np.float32))
        conv = jax.jit(lambda x, w: jax.lax.conv_general_dilated(
            x, w, strides, padding, dimension_numbers=("NHWC", "HWIO", "NHWC")))
        for _ in range(args.warmup):
            conv(x, w).block_until_ready()
        runs = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            y = conv(x, w).block_until_ready()
            runs.append((time.perf_counter() - t) * 1e3)
        flops = 2.0 * y.size * kernel[0] * kernel[1] * shape[3]
        median = statistics.median(runs)
        print(json.dumps({
            "backend": "xla", "adapter": f"jax {jax.__version__} {jax.devices()[0].platform}",
            "input_shape": list(shape), "filters": filters, "kernel_size": list(kernel),
            "strides": list(strides), "padding": padding.lower(), "runs": args.repeat,
            "median_ms": median, "min_ms": min(runs), "max_ms": max(runs),
            "gflops": flops / (median / 1e3) / 1e9,
        }))


if __name__ == "__main__":
    main()
