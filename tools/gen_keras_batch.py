#!/usr/bin/env python3
"""Generates tests/fixtures/batch/: what batch inference over a dataset is checked against —
the Ray tests (python/tests/test_ray.py), streamed `Model.predict` and `wgcnn run --input-dir`.

- classifier.keras: a small CNN on 32x32 RGB images (Rescaling, two Conv2D, MaxPooling2D,
  GlobalAveragePooling2D, Dense softmax over 4 classes), seeded random weights, input layer
  'image'.
- classifier.output.npy: Keras's predictions for IMAGES uint8 images from
  keras_random.uint8_images("batch/images", (IMAGES, 32, 32, 3)), fed as float32 0..255 (what
  keras.utils.img_to_array gives). The tests regenerate the same pixels, so none are committed.
- images/: image files as `wgcnn run --input-dir` reads them — PNG (RGB, grayscale, RGBA,
  palette) and JPEG (RGB 4:2:0, grayscale), 32x32.
- images_keras.npz: for each image file, what Keras makes of it: `NAME.rgb`, `NAME.grayscale`
  and `NAME.rgba` are keras.utils.img_to_array(keras.utils.load_img(path, color_mode=...))
  as uint8, and `NAME.probs` is classifier.keras's prediction on the rgb pixels.
- pixels_rgb.keras, pixels_grayscale.keras, pixels_rgba.keras: Input(32, 32, C) + Flatten,
  whose outputs are the pixels wgcnn decoded, to check them against Keras's.

Usage:  pip install keras jax pillow && python3 tools/gen_keras_batch.py
"""

import os
import pathlib
import shutil
import tempfile
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from PIL import Image  # noqa: E402

import keras_random  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "batch"
IMAGES = 256
SIZE = 32
COLOR_MODES = {"rgb": 3, "grayscale": 1, "rgba": 4}


def classifier():
    keras.utils.set_random_seed(19)
    return keras.Sequential([
        keras.Input((SIZE, SIZE, 3), name="image"),
        layers.Rescaling(1 / 255),
        layers.Conv2D(8, 3, strides=2, activation="relu"),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.GlobalAveragePooling2D(),
        layers.Dense(4, activation="softmax", name="probs"),
    ], name="classifier")


def save_deflated(model, path):
    """model.save, deflated (Keras stores its archive uncompressed; any zip reader reads both)."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = pathlib.Path(tmp) / path.name
        model.save(plain)
        with zipfile.ZipFile(plain) as src, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
            for item in src.infolist():
                dst.writestr(item.filename, src.read(item.filename))


def smooth_rgb(key):
    """A 32x32 RGB picture: 8x8 seeded noise scaled up bicubically (smooth, as photos are,
    so the files stay small and JPEG has edges and gradients to code)."""
    small = keras_random.uint8_images(key, (8, 8, 3))
    return Image.fromarray(small, "RGB").resize((SIZE, SIZE), Image.Resampling.BICUBIC)


def image_files(directory):
    """The files of images/: each colour type a PNG can hold, and JPEG in colour and gray."""
    directory.mkdir(parents=True)
    rgb = smooth_rgb("batch/files/rgb")
    rgb.save(directory / "rgb.png")
    smooth_rgb("batch/files/gray").convert("L").save(directory / "gray.png")
    rgba = smooth_rgb("batch/files/rgba").convert("RGBA")
    rgba.putalpha(Image.fromarray(keras_random.uint8_images("batch/files/alpha", (SIZE, SIZE))))
    rgba.save(directory / "rgba.png")
    smooth_rgb("batch/files/palette").quantize(16).save(directory / "palette.png")
    smooth_rgb("batch/files/jpeg").save(directory / "photo.jpg", quality=90)  # 4:2:0
    smooth_rgb("batch/files/jpeg_gray").convert("L").save(directory / "gray.jpeg", quality=90)


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    model = classifier()
    save_deflated(model, OUT / "classifier.keras")
    images = keras_random.uint8_images("batch/images", (IMAGES, SIZE, SIZE, 3))
    probs = model.predict(images.astype(np.float32), batch_size=64, verbose=0)
    np.save(OUT / "classifier.output.npy", probs.astype(np.float32))

    for mode, channels in COLOR_MODES.items():
        pixels = keras.Sequential([keras.Input((SIZE, SIZE, channels), name="image"),
                                   layers.Flatten(name="pixels")], name=f"pixels_{mode}")
        save_deflated(pixels, OUT / f"pixels_{mode}.keras")

    image_files(OUT / "images")
    expected = {}
    for path in sorted((OUT / "images").iterdir()):
        for mode in COLOR_MODES:
            array = keras.utils.img_to_array(keras.utils.load_img(path, color_mode=mode))
            expected[f"{path.name}.{mode}"] = array.astype(np.uint8)
        rgb = keras.utils.img_to_array(keras.utils.load_img(path))
        expected[f"{path.name}.probs"] = model.predict(rgb[None], verbose=0)[0]
    np.savez_compressed(OUT / "images_keras.npz", **expected)
    sizes = {p.relative_to(OUT).as_posix(): p.stat().st_size for p in sorted(OUT.rglob("*"))
             if p.is_file()}
    print(sizes, "total", sum(sizes.values()), "bytes")


if __name__ == "__main__":
    main()
