#!/usr/bin/env python3
"""Batch inference over a folder of images with Ray Data and wgcnn, on a laptop.

Starts a local Ray cluster, reads the images (any size: Ray resizes them to the model's input),
runs a keras.applications model on them in `--concurrency` actors and writes the predictions,
with each image's path, to Parquet; prints the throughput and the top classes of a few images.

    pip install './python[ray]' pillow          # from the repository root
    pip install keras jax                        # only to build the keras.applications model
    python examples/ray_batch_inference.py --images ~/Pictures --output predictions/

    # Without Keras: any .keras file; no folder at hand: --make-images N writes N random PNGs.
    python examples/ray_batch_inference.py --model model.keras --make-images 512

On a cluster, connect with ray.init(address="auto") instead, keep the images where every node
reads them (s3://, gs://, a shared file system) and give each actor a GPU: --num-gpus 1 and
--concurrency = the number of GPUs. Each actor then runs on its own GPU (wgcnn picks the one Ray
assigned), and on the fast CPU backend where an actor has none.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def build_model(name, weights, size, path):
    """keras.applications.NAME at SIZE x SIZE, saved as a .keras file (Keras is needed here, in
    the driver only: the actors run wgcnn)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    application = getattr(keras.applications, name)
    kwargs = {}
    if name.startswith("MobileNetV3") or name.startswith("EfficientNet"):
        kwargs["include_preprocessing"] = True  # the model scales 0..255 pixels itself
    model = application(weights=None if weights == "none" else weights,
                        input_shape=(size, size, 3), **kwargs)
    model.save(path)
    return path


def make_images(directory, count, size):
    """`count` random RGB PNGs (pillow)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(directory / f"image{i:05d}.png")
    return directory


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, help="a folder of images (PNG, JPEG, ...)")
    parser.add_argument("--make-images", type=int, metavar="N",
                        help="instead of --images: N random PNGs in a temporary folder")
    parser.add_argument("--model", type=Path, help="a .keras file (default: build --application)")
    parser.add_argument("--application", default="MobileNetV3Small",
                        help="the keras.applications model to build (default: MobileNetV3Small)")
    parser.add_argument("--weights", default="imagenet",
                        help="its weights: imagenet (downloaded by Keras) or none (random)")
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    parser.add_argument("--concurrency", type=int, default=2, help="actors (default 2)")
    parser.add_argument("--num-cpus", type=float, default=None,
                        help="CPUs per actor (default: the machine's CPUs / concurrency)")
    parser.add_argument("--num-gpus", type=float, default=0,
                        help="GPUs per actor (0: the fast CPU backend)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per batch")
    parser.add_argument("--output", type=Path, help="write the predictions here (Parquet)")
    args = parser.parse_args()
    if (args.images is None) == (args.make_images is None):
        parser.error("give --images DIR or --make-images N")

    import ray

    import wgcnn.ray

    work = Path(tempfile.mkdtemp(prefix="wgcnn-ray-"))
    images = args.images or make_images(work / "images", args.make_images, args.size)
    model = args.model or build_model(args.application, args.weights, args.size,
                                      work / f"{args.application}.keras")

    cpus = os.cpu_count() or 1
    ray.init(num_cpus=cpus, include_dashboard=False)  # a local cluster on this machine
    ray.data.DataContext.get_current().enable_progress_bars = sys.stderr.isatty()
    try:
        # Decoded and resized once, before the timed part (read_images needs pillow).
        ds = ray.data.read_images(str(images), size=(args.size, args.size), mode="RGB",
                                  include_paths=True).materialize()
        count = ds.count()
        # The model's bytes travel through the object store: the nodes need no shared disk.
        model_ref = ray.put(Path(model).read_bytes())
        num_cpus = args.num_cpus or max(1, cpus // args.concurrency)
        start = time.perf_counter()
        predictions = ds.map_batches(
            wgcnn.ray.Predictor,
            fn_constructor_kwargs={"model": model_ref, "batch_size": args.batch_size,
                                   "output_columns": "predictions"},
            batch_size=args.batch_size,
            compute=ray.data.ActorPoolStrategy(size=args.concurrency),
            num_cpus=num_cpus,
            num_gpus=args.num_gpus,
        ).materialize()
        took = time.perf_counter() - start
        print(f"{count} images in {took:.2f} s: {count / took:.1f} images/s "
              f"({args.concurrency} actor(s), {num_cpus} CPU(s) and {args.num_gpus} GPU(s) "
              f"each; actor start-up included)")
        for row in predictions.take(3):
            scores = np.asarray(row["predictions"])
            top = np.argsort(-scores)[:5]
            print(Path(row["path"]).name, "top 5:",
                  ", ".join(f"{k} ({scores[k]:.3f})" for k in top))
        if args.output:
            predictions.write_parquet(str(args.output))
            print(f"wrote {args.output}")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
