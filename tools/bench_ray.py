#!/usr/bin/env python3
"""Throughput of `ds.map_batches(wgcnn.ray.Predictor, ...)` on a local Ray cluster, in images/s,
at several actor counts — the README's scaling-out figures — beside `Model.predict` in one
process without Ray.

    pip install './python[ray]'
    python3 tools/bench_ray.py tests/fixtures/batch/classifier.keras --images 8192
    KERAS_BACKEND=jax python3 -c "import keras; keras.applications.MobileNetV3Small(
        weights=None).save('mobilenetv3small.keras')"                     # needs Keras
    python3 tools/bench_ray.py mobilenetv3small.keras --images 1024 --batch-size 32

Images are seeded random uint8 pixels of the model's input size, put in Ray's object store
before the clock starts (from_numpy), so what is timed is the inference stage: batches to the
actors, predict, results back. Two figures: end to end (from map_batches to the last row back
in the driver: actor start-up included) and steady (the images over the span from the first
batch an actor started to the last one it finished, on the actors' clocks: start-up excluded).
Each configuration runs --repeat times; the table gives the medians.

Configurations (--configs): ACTORSxCPUS[g], e.g. 1x2 (one actor with 2 CPUs: the CPU backend on
2 threads), 2x1 (two actors with 1 CPU each), 1x1g (one actor given a GPU: the GPU backend;
on a machine without one, Ray is told of one and wgcnn runs on the software adapter).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback addresses only

import numpy as np  # noqa: E402


def parse_config(text):
    gpu = text.endswith("g")
    actors, cpus = text.rstrip("g").split("x")
    return int(actors), float(cpus), gpu


def run_once(ray, wgcnn_ray, ds, model, actors, cpus, gpu, batch_size):
    """End to end and steady images/s of one run (see the module documentation)."""

    class Timed(wgcnn_ray.Predictor):
        """The Predictor, noting when each batch started and ended (on this machine's clock,
        which the actors share)."""

        def __call__(self, batch):
            start = time.time()
            out = super().__call__(batch)
            n = len(out["predictions"])
            out["started"], out["ended"] = np.full(n, start), np.full(n, time.time())
            return out

    start = time.perf_counter()
    out = ds.map_batches(
        Timed, fn_constructor_kwargs={"model": model, "batch_size": batch_size,
                                      "output_columns": "predictions"},
        batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus, num_gpus=1 if gpu else 0)
    first, last, rows = float("inf"), 0.0, 0
    for b in out.iter_batches(batch_size=None, batch_format="numpy"):
        rows += len(b["started"])
        first, last = min(first, b["started"].min()), max(last, b["ended"].max())
    return rows / (time.perf_counter() - start), rows / (last - first), rows


WITHOUT_RAY = """
import statistics, sys, time
import numpy as np, wgcnn
model_path, count, batch, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
model = wgcnn.load(model_path)
shape = model.input_shapes[0][1:]
images = np.random.default_rng(0).integers(0, 256, (count, *shape), dtype=np.uint8)
model.predict(images[:batch], backend="cpu")
times = []
for _ in range(repeat):
    start = time.perf_counter()
    for i in range(0, count, batch):
        model.predict(images[i:i + batch], backend="cpu")
    times.append(time.perf_counter() - start)
print(count / statistics.median(times))
"""


def without_ray(args, threads):
    """images/s of Model.predict in a fresh process with `threads` CPU threads."""
    import subprocess
    import sys

    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run(
        [sys.executable, "-c", WITHOUT_RAY, args.model, str(args.images), str(args.batch_size),
         str(args.repeat)], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--configs", default="1x1,1x2,2x1")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    import ray

    import wgcnn
    import wgcnn.ray

    shape = wgcnn.load(args.model).input_shapes[0][1:]
    images = np.random.default_rng(0).integers(0, 256, (args.images, *shape), dtype=np.uint8)

    # Without Ray: predict in one process, batch after batch, on the CPU backend, with 1
    # thread and with one per CPU (a fresh process each: the thread count is set at start).
    alone = {threads: without_ray(args, threads) for threads in sorted({1, args.cpus})}

    ray.init(num_cpus=args.cpus, num_gpus=1, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        # Blocks of 4 batches: enough of them for every actor to have work.
        blocks = max(1, args.images // (4 * args.batch_size))
        ds = ray.data.from_numpy(images).repartition(blocks).materialize()
        ref = ray.put(open(args.model, "rb").read())
        print(f"{args.model}: {args.images} images {shape}, batches of {args.batch_size}, "
              f"{args.cpus} CPUs; median of {args.repeat}")
        print("| configuration | end to end (images/s) | steady (images/s) |")
        print("|---|---|---|")
        for threads, rate in alone.items():
            print(f"| Model.predict in one process, no Ray (cpu, {threads} thread(s)) "
                  f"| {rate:.0f} | {rate:.0f} |")
        for text in args.configs.split(","):
            actors, cpus, gpu = parse_config(text)
            results = [run_once(ray, wgcnn.ray, ds, ref, actors, cpus, gpu, args.batch_size)
                       for _ in range(args.repeat)]
            assert all(rows == args.images for _, _, rows in results)
            total = statistics.median(r[0] for r in results)
            steady = statistics.median(r[1] for r in results)
            where = "gpu" if gpu else f"cpu, {int(cpus)} thread(s) each"
            print(f"| {actors} actor(s) x {cpus:g} CPU ({where}) | {total:.0f} | {steady:.0f} |")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
