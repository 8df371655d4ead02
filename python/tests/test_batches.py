"""Batch inference without Ray: `Model.predict` over streams of batches and memory-mapped
arrays, outputs streamed to .npy/.npz files, and `wgcnn.ray.Predictor` called on batches as
`map_batches` calls it — against the outputs real Keras computed (tests/fixtures/batch from
tools/gen_keras_batch.py, tests/fixtures/models/two_heads.*).
"""

import importlib.util
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import wgcnn
import wgcnn.ray

ROOT = Path(__file__).resolve().parents[2]
BATCH = ROOT / "tests" / "fixtures" / "batch"
MODELS = ROOT / "tests" / "fixtures" / "models"
sys.path.insert(0, str(ROOT / "tools"))
import keras_random  # noqa: E402  (the pixels Keras was given: tools/gen_keras_batch.py)

N = 256
TOL = 1e-5
HAVE_PANDAS = importlib.util.find_spec("pandas") is not None
HAVE_KERAS = importlib.util.find_spec("keras") is not None


@pytest.fixture(scope="module")
def classifier():
    return wgcnn.load(BATCH / "classifier.keras")


@pytest.fixture(scope="module")
def images():
    return keras_random.uint8_images("batch/images", (N, 32, 32, 3))


@pytest.fixture(scope="module")
def want():
    return np.load(BATCH / "classifier.output.npy")


def close(got, expected, what=""):
    got = np.asarray(got)
    assert got.dtype == np.float32 and got.shape == expected.shape, (what, got.dtype, got.shape)
    err = float(np.max(np.abs(got - expected)))
    assert err <= TOL, f"{what}: max |wgcnn - Keras| = {err}"


# ------------------------------------------------------------------------------------------
# Model.predict over streams


def batches_of(images, sizes):
    start = 0
    for size in sizes:
        yield images[start:start + size]
        start += size


@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_predict_runs_a_generator_batch_by_batch(classifier, images, want, backend):
    sizes = [1, 31, 64, 100, 60]  # uneven, as a data loader's last batch is
    y = classifier.predict(batches_of(images, sizes), backend=backend, verbose=0)
    close(y, want, backend)
    # Keras's (x, y) and (x,) tuples: x is the input.
    pairs = ((images[i:i + 64], np.zeros(64)) for i in range(0, N, 64))
    close(classifier.predict(pairs, backend=backend, verbose=0), want)
    singles = ((images[i:i + 64],) for i in range(0, N, 64))
    close(classifier.predict(singles, batch_size=8, backend=backend, verbose=0), want)
    # steps: at most that many batches.
    close(classifier.predict(batches_of(images, [64] * 4), steps=2, backend=backend,
                             verbose=0), want[:128])


def test_predict_takes_tf_data_and_keras_dataset_protocols(classifier, images, want):
    class TfDataLike:
        """What predict uses of a tf.data.Dataset."""

        def cardinality(self):
            return 4

        def as_numpy_iterator(self):
            return iter(images[i:i + 64] for i in range(0, N, 64))

    class PyDatasetLike:
        """keras.utils.PyDataset: indexable batches of (x, y), no __iter__ needed."""

        def __len__(self):
            return 8

        def __getitem__(self, k):
            return images[32 * k:32 * (k + 1)], None

    close(classifier.predict(TfDataLike(), backend="cpu", verbose=0), want)
    close(classifier.predict(PyDatasetLike(), backend="cpu", verbose=0), want)


@pytest.mark.skipif(not HAVE_KERAS, reason="keras is not installed: the PyDataset case is "
                    "covered by a stand-in above")
def test_predict_takes_a_keras_py_dataset(classifier, images, want):
    import keras

    class Images(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, k):
            return images[64 * k:64 * (k + 1)], np.zeros(64)

    close(classifier.predict(Images(), backend="cpu", verbose=0), want)


def test_a_memory_map_streams_to_npy_with_a_progress_bar(classifier, images, want, tmp_path,
                                                        capsys):
    # 8 copies of the images, float32 (as a dataset prepared once and kept on disk is).
    reps = 8
    data = tmp_path / "images.npy"
    stacked = np.lib.format.open_memmap(data, "w+", np.float32, (reps * N, 32, 32, 3))
    for k in range(reps):
        stacked[k * N:(k + 1) * N] = images
    stacked.flush()
    del stacked
    mapped = np.load(data, mmap_mode="r")
    out = tmp_path / "probs.npy"
    tracemalloc.start()
    try:
        assert classifier.predict(mapped, batch_size=100, backend="cpu", out=out,
                                  verbose=1) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Python-side memory is a batch, not the 25 MB input or its outputs: nothing is gathered.
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB of Python allocations"
    close(np.load(out), np.concatenate([want] * reps), "streamed to .npy")
    assert np.load(out, mmap_mode="r").shape == (reps * N, 4)
    bar = capsys.readouterr().err
    assert "21/21 [" in bar and f"{reps * N} examples in" in bar, bar
    assert not list(tmp_path.glob("*.partial"))
    # The same array in memory, asked for a file: the same bytes.
    again = tmp_path / "again.npy"
    classifier.predict(np.asarray(mapped), batch_size=512, backend="cpu", out=again, verbose=0)
    assert again.read_bytes() == out.read_bytes()
    # A memory map without out: batches of batch_size all the same, outputs returned.
    close(classifier.predict(mapped[:N], batch_size=64, backend="gpu", verbose=0), want)


def two_heads():
    m = wgcnn.load(MODELS / "two_heads.keras")
    image, ids = np.load(MODELS / "two_heads.image.npy"), np.load(MODELS / "two_heads.ids.npy")
    want = [np.load(MODELS / "two_heads.probs.npy"), np.load(MODELS / "two_heads.score.npy")]
    return m, image, ids, want


def test_several_inputs_and_outputs_stream_to_npz(tmp_path):
    m, image, ids, want = two_heads()
    n = len(image)

    def rows():  # one example per batch, as a dict by input name
        for i in range(n):
            yield {"ids": ids[i:i + 1], "image": image[i:i + 1]}

    out = tmp_path / "heads.npz"
    assert m.predict(rows(), backend="cpu", out=out, verbose=0) is None
    with np.load(out) as z:
        assert sorted(z.files) == ["probs", "score"]
        close(z["probs"], want[0], "probs")
        close(z["score"], want[1], "score")
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["probs.npy", "score.npy"]
    # Lists in input order, kept in memory: a list of outputs.
    ys = m.predict(([image[i:i + 1], ids[i:i + 1]] for i in range(n)), backend="gpu", verbose=0)
    close(ys[0], want[0])
    close(ys[1], want[1])
    # Memory-mapped inputs by name are cut into batches together.
    np.save(tmp_path / "image.npy", image)
    np.save(tmp_path / "ids.npy", ids)
    mapped = {"image": np.load(tmp_path / "image.npy", mmap_mode="r"),
              "ids": np.load(tmp_path / "ids.npy", mmap_mode="r")}
    ys = m.predict(mapped, batch_size=1, backend="cpu", verbose=0)
    close(ys[0], want[0])
    with pytest.raises(ValueError, match="2 outputs .*one .npz file"):
        m.predict(rows(), out=tmp_path / "heads.npy", verbose=0)
    assert not (tmp_path / "heads.npy").exists()


def test_stream_errors_name_the_batch_and_leave_no_file(classifier, images, tmp_path):
    out = tmp_path / "probs.npy"

    def broken():
        yield images[:10]
        yield images[10:20]
        yield images[20:30, :31]

    with pytest.raises(ValueError, match=r"batch 2: input 'image': has shape \[10, 31, 32, 3\]"):
        classifier.predict(broken(), out=out, backend="cpu", verbose=0)

    def failing():
        yield images[:10]
        raise RuntimeError("the data loader broke")

    with pytest.raises(RuntimeError, match="the data loader broke"):
        classifier.predict(failing(), out=out, backend="cpu", verbose=0)
    assert list(tmp_path.iterdir()) == [], "nothing written, no .partial left"
    with pytest.raises(ValueError, match="no batches"):
        classifier.predict(iter([]), backend="cpu", verbose=0)
    with pytest.raises(ValueError, match=r"\(x, y\).*tuple of 4"):
        classifier.predict(iter([(images[:2],) * 4]), backend="cpu", verbose=0)
    with pytest.raises(TypeError, match="not a file name"):
        classifier.predict(str(BATCH / "classifier.output.npy"))
    with pytest.raises(TypeError, match="iterable of batches"):
        classifier.predict(object())
    with pytest.raises(ValueError, match=".npy or .npz"):
        classifier.predict(images, out=tmp_path / "probs.csv")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        classifier.predict(images, out=tmp_path / "no-such-dir" / "probs.npy")
    for bad in (dict(verbose=3), dict(steps=0), dict(steps=1.5), dict(batch_size=0)):
        with pytest.raises(ValueError):
            classifier.predict(iter([images[:2]]), **bad)


def test_verbose_2_prints_one_line(classifier, images, capsys):
    classifier.predict(batches_of(images, [128, 128]), backend="cpu", verbose=2)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{N} examples in ") and "\r" not in err, err


def test_importing_wgcnn_never_imports_ray():
    model = str(BATCH / "classifier.keras")
    script = (
        "import sys, numpy as np, wgcnn, wgcnn.ray\n"
        f"m = wgcnn.load({model!r})\n"
        "m.predict(iter([np.zeros((2, 32, 32, 3), np.float32)]), backend='cpu', verbose=0)\n"
        f"p = wgcnn.ray.Predictor({model!r})\n"
        "p({'image': np.zeros((2, 32, 32, 3), np.uint8)})\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr


# ------------------------------------------------------------------------------------------
# wgcnn.ray.Predictor on batches, as map_batches calls it


def test_predictor_adds_predictions_and_keeps_the_other_columns(images, want):
    p = wgcnn.ray.Predictor(str(BATCH / "classifier.keras"))
    assert p.backend == "cpu" and p.device.startswith("cpu: ")  # no Ray GPU here
    ids = np.arange(N)[::-1].copy()
    out = p({"id": ids, "path": np.array([f"img{i}.png" for i in ids]), "image": images[ids]})
    assert list(out) == ["id", "path", "probs"]
    np.testing.assert_array_equal(out["id"], ids)
    close(out["probs"], want[ids])
    # The one image column is the input whatever its name; several: say which.
    out = p({"key": ids, "pixels": images[ids]})
    close(out["probs"], want[ids])
    with pytest.raises(ValueError, match="which column feeds input 'image'.*column='NAME'"):
        p({"a": images, "b": images})
    picked = wgcnn.ray.Predictor(BATCH / "classifier.keras", column="b", keep_inputs=True,
                                 output_columns="scores", backend="gpu", batch_size=100)
    out = picked({"a": images[:1], "b": images})
    assert list(out) == ["a", "b", "scores"] and picked.device.startswith("gpu: ")
    close(out["scores"], want)
    with pytest.raises(ValueError, match="no column 'b'"):
        picked({"image": images})
    # An empty batch (an empty block after a filter): empty prediction columns.
    out = p({"id": ids[:0], "image": images[:0]})
    assert list(out) == ["id", "probs"] and out["probs"].shape == (0, 4)
    # A column of separately stored arrays (variable-shape tensors) is stacked.
    ragged = np.empty(N, dtype=object)
    ragged[:] = list(images)
    close(p({"image": ragged})["probs"], want)
    with pytest.raises(ValueError, match="already has column.*'probs'.*output_columns="):
        p({"image": images, "probs": ids})
    with pytest.raises(ValueError, match="different shapes"):
        ragged[3] = images[3][:30]
        p({"image": ragged})
    with pytest.raises(ValueError, match=r"has shape \[256, 32, 31, 3\].*column 'image'"):
        p({"image": images[:, :, :31]})


def test_predictor_preprocesses_and_takes_bytes(images, want):
    data = (BATCH / "classifier.keras").read_bytes()
    # Keras saw pixels 0..255; a preprocess that scales them to 0..1 and back is the identity.
    p = wgcnn.ray.Predictor(data, preprocess=lambda x: (x / 255.0) * 255.0)
    close(p({"image": images})["probs"], want)
    with pytest.raises(TypeError, match="preprocess"):
        wgcnn.ray.Predictor(data, preprocess="scale")
    with pytest.raises(ValueError, match="unknown backend"):
        wgcnn.ray.Predictor(data, backend="tpu")
    with pytest.raises(OSError, match="not valid JSON"):
        wgcnn.ray.Predictor(b"garbage")
    with pytest.raises(ValueError, match="1 output"):
        wgcnn.ray.Predictor(data, output_columns=["a", "b"])


def test_predictor_with_several_inputs_takes_columns_by_name():
    m, image, ids, want = two_heads()
    path = MODELS / "two_heads.keras"
    p = wgcnn.ray.Predictor(path, columns={"image": "picture"})
    out = p({"ids": ids, "picture": image, "row": np.arange(len(ids))})
    assert list(out) == ["row", "probs", "score"]
    close(out["probs"], want[0])
    close(out["score"], want[1])
    with pytest.raises(ValueError, match="no column for input.*image"):
        wgcnn.ray.Predictor(path)({"ids": ids, "picture": image})
    with pytest.raises(ValueError, match="column= is for a model with one input"):
        wgcnn.ray.Predictor(path, column="picture")
    with pytest.raises(ValueError, match="no input of; its inputs: image, ids"):
        wgcnn.ray.Predictor(path, columns={"photo": "picture"})
    with pytest.raises(TypeError, match="dict of numpy arrays or a pandas"):
        p([image, ids])


@pytest.mark.skipif(not HAVE_PANDAS, reason="pandas is not installed (it comes with "
                    "'wgcnn[ray]'): the pandas batch format is not checked")
def test_predictor_takes_pandas_batches(images, want):
    import pandas as pd

    p = wgcnn.ray.Predictor(BATCH / "classifier.keras")
    frame = pd.DataFrame({"id": np.arange(N), "image": list(images)})
    out = p(frame)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["id", "probs"]
    close(np.stack(out["probs"].to_numpy()), want)
    assert "image" in frame.columns, "the caller's frame is not changed"
