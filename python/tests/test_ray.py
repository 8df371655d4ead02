"""Batch inference on a local Ray cluster: `ds.map_batches(wgcnn.ray.Predictor, ...)` against
the outputs real Keras computed (tests/fixtures/batch, tools/gen_keras_batch.py).

The cluster is this machine only (2 CPUs, loopback addresses, no dashboard), started once for
the module and shut down at the end; every run is bounded in time. Without Ray installed the
module is skipped, unless WGCNN_REQUIRE_RAY=1 (as CI sets it): then it fails.
"""

import contextlib
import faulthandler
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

# Ray's local cluster on loopback addresses only (Ray's behaviour on macOS and Windows, where
# it does not form clusters); read when Ray is imported.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

try:
    import ray
except ImportError:
    if os.environ.get("WGCNN_REQUIRE_RAY") == "1":
        pytest.fail("WGCNN_REQUIRE_RAY=1 but Ray is not installed (pip install './python[ray]')",
                    pytrace=False)
    pytest.skip("Ray is not installed (pip install './python[ray]'); the Ray tests are skipped",
                allow_module_level=True)

import wgcnn.ray  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BATCH = ROOT / "tests" / "fixtures" / "batch"
MODEL = BATCH / "classifier.keras"
sys.path.insert(0, str(ROOT / "tools"))
import keras_random  # noqa: E402  (the pixels Keras was given: tools/gen_keras_batch.py)

N = 256
TOL = 1e-5


@contextlib.contextmanager
def deadline(seconds):
    """Fails the test with TimeoutError if the block runs longer than `seconds`; if even that
    cannot interrupt it, dumps every thread's stack and exits the process a minute later."""

    def expired(signum, frame):
        raise TimeoutError(f"the Ray run took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    faulthandler.dump_traceback_later(seconds + 60, exit=True)
    try:
        yield
    finally:
        signal.alarm(0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def cluster():
    with deadline(120):
        # One logical GPU beside the 2 CPUs: an actor asking for it gets a GPU id from Ray,
        # as on a GPU node, and runs on the machine's adapter (lavapipe in CI).
        ray.init(num_cpus=2, num_gpus=1, include_dashboard=False,
                 object_store_memory=200 * 1024 * 1024)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def images():
    return keras_random.uint8_images("batch/images", (N, 32, 32, 3))


@pytest.fixture(scope="module")
def keras_outputs():
    return np.load(BATCH / "classifier.output.npy")


def dataset(images):
    """Rows {id, image}, ids in shuffled order so that row position and id differ."""
    order = np.random.default_rng(5).permutation(len(images))
    return ray.data.from_items([{"id": int(i), "image": images[i]} for i in order])


def check_every_row_once(rows, keras_outputs, column="probs"):
    ids = [int(r["id"]) for r in rows]
    assert sorted(ids) == list(range(len(keras_outputs))), (
        f"{len(ids)} rows, {len(set(ids))} distinct ids: every row must come back exactly once")
    for r in rows:
        got, want = np.asarray(r[column]), keras_outputs[int(r["id"])]
        assert got.dtype == np.float32 and got.shape == want.shape, (got.dtype, got.shape)
        err = float(np.max(np.abs(got - want)))
        assert err <= TOL, f"row {r['id']}: max |wgcnn - Keras| = {err}"


def test_map_batches_on_two_actors_matches_keras(cluster, images, keras_outputs):
    with deadline(180):
        out = dataset(images).map_batches(
            wgcnn.ray.Predictor, fn_constructor_kwargs={"model": str(MODEL)},
            batch_size=32, compute=ray.data.ActorPoolStrategy(size=2), num_cpus=1)
        rows = out.take_all()
    assert set(rows[0]) == {"id", "probs"}, "the image column is dropped, ids kept"
    check_every_row_once(rows, keras_outputs)


def test_pandas_batches_and_a_model_in_the_object_store(cluster, images, keras_outputs):
    class Reporting(wgcnn.ray.Predictor):
        """Says, per row, where it computed (the backend the actor chose)."""

        def __call__(self, batch):
            out = super().__call__(batch)
            out["device"] = self.device
            return out

    model = ray.put(MODEL.read_bytes())
    with deadline(180):
        out = dataset(images).map_batches(
            Reporting, batch_format="pandas",
            fn_constructor_kwargs={"model": model, "keep_inputs": True,
                                   "output_columns": "scores"},
            batch_size=50, compute=ray.data.ActorPoolStrategy(size=1), num_cpus=2)
        rows = out.take_all()
    assert set(rows[0]) == {"id", "image", "scores", "device"}
    check_every_row_once(rows, keras_outputs, "scores")
    # No GPU for this actor: the fast CPU backend, with the 2 CPUs Ray gave it.
    assert {r["device"] for r in rows} == {"cpu: the fast CPU backend, 2 threads"}
    first = next(r for r in rows if r["id"] == 0)
    np.testing.assert_array_equal(first["image"], images[0])


def test_an_actor_given_a_gpu_runs_on_it_and_compiles_once(cluster, images, keras_outputs):
    class Reporting(wgcnn.ray.Predictor):
        def __call__(self, batch):
            out = super().__call__(batch)
            out["device"] = np.array([self.device] * len(out["id"]))
            out["compilations"] = np.full(len(out["id"]), self.model.gpu_compilations)
            return out

    with deadline(240):
        out = dataset(images).map_batches(
            Reporting, fn_constructor_kwargs={"model": str(MODEL), "batch_size": 16},
            batch_size=48, compute=ray.data.ActorPoolStrategy(size=1), num_gpus=1, num_cpus=1)
        rows = out.take_all()
    check_every_row_once(rows, keras_outputs)
    assert {str(r["device"]).split(":")[0] for r in rows} == {"gpu"}
    # Compiled in the constructor for rounds of 16; every batch, the last one's 16 rows
    # included, ran on that one program.
    assert {int(r["compilations"]) for r in rows} == {1}


def test_an_actor_killed_mid_run_loses_and_repeats_no_row(cluster, images, keras_outputs,
                                                         tmp_path):
    victim = tmp_path / "victim.pid"

    class Victim(wgcnn.ray.Predictor):
        """The first batch any actor of the pool gets: it writes its process id and waits to
        be killed; every other batch (the same one, retried, included) runs."""

        def __call__(self, batch):
            try:
                fd = os.open(victim, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return super().__call__(batch)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            time.sleep(600)
            raise RuntimeError("the victim was not killed")

    killed = []

    def kill_the_victim():
        for _ in range(2400):
            text = victim.read_text() if victim.exists() else ""
            if text:
                os.kill(int(text), signal.SIGKILL)
                killed.append(int(text))
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_victim, daemon=True)
    killer.start()
    with deadline(240):
        out = dataset(images).map_batches(
            Victim, fn_constructor_kwargs={"model": str(MODEL)},
            batch_size=16, compute=ray.data.ActorPoolStrategy(size=2), num_cpus=1)
        rows = out.take_all()
    killer.join(timeout=10)
    assert killed, "no actor was killed"
    check_every_row_once(rows, keras_outputs)


def run_expecting_failure(ds, **kwargs):
    """Runs map_batches, which must fail within a minute; returns the error's text."""
    with deadline(60):
        with pytest.raises(Exception) as failure:
            ds.map_batches(wgcnn.ray.Predictor, batch_size=16,
                           compute=ray.data.ActorPoolStrategy(size=1), num_cpus=1,
                           **kwargs).take_all()
    assert isinstance(failure.value, ray.exceptions.RayError), repr(failure.value)
    return str(failure.value)


def test_a_bad_model_file_fails_in_the_driver(cluster, images, tmp_path):
    ds = dataset(images[:32])
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"\xff\xfe not a model")
    text = run_expecting_failure(ds, fn_constructor_kwargs={"model": str(garbage)})
    assert f"OSError: {garbage}" in text and "neither a .keras" in text, text
    missing = tmp_path / "missing.keras"
    text = run_expecting_failure(ds, fn_constructor_kwargs={"model": str(missing)})
    assert f"FileNotFoundError: {missing}" in text, text


def test_a_bad_batch_fails_in_the_driver(cluster, images):
    # One image 31 rows high among 32x32 ones: that batch's column cannot be one array.
    rows = [{"id": i, "image": images[i] if i != 20 else images[i][:31]} for i in range(48)]
    text = run_expecting_failure(ray.data.from_items(rows),
                                 fn_constructor_kwargs={"model": str(MODEL)})
    assert "column 'image' holds arrays of different shapes" in text, text
    # All of one wrong size: the model says which shape it takes.
    rows = ray.data.from_items([{"id": i, "image": images[i][:, :30]} for i in range(32)])
    text = run_expecting_failure(rows, fn_constructor_kwargs={"model": str(MODEL)})
    assert "input 'image': has shape [16, 32, 30, 3], expected (batch ≥ 1, 32, 32, 3)" in text, \
        text
