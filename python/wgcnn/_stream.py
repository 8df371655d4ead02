"""``Model.predict`` on more than one array in memory: streams of batches, memory-mapped
arrays larger than RAM, outputs streamed to a ``.npy`` / ``.npz`` file, a progress bar.

``Model.predict`` (Rust) hands its input here unless it is a plain ``numpy.ndarray`` with none
of ``verbose``, ``steps`` and ``out`` given. What comes here runs batch by batch through
``Model._predict`` (the one-call forward pass), with one input batch in memory at a time:

- an ndarray, list or dict of arrays in memory: one call, or batches of ``batch_size`` rows
  when ``out`` or a progress bar is asked for;
- a ``numpy.memmap`` (``np.load(path, mmap_mode="r")``), alone or in a list or dict: batches
  of ``batch_size`` rows read from the file as they are needed;
- anything else iterable (a generator, a ``tf.data`` dataset, a Keras ``PyDataset``, a
  PyTorch ``DataLoader``): one batch per element. As in Keras, an element that is a tuple is
  ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` and only ``x`` is used; a list or dict is
  the inputs of a model with several.

Outputs are kept in memory and returned, unless ``out`` names a file: then each batch's
outputs are appended to it as they come (``.npy`` for a model with one output, ``.npz`` for any
number, members named as ``wgcnn run`` names them), the file appears only once every batch
succeeded, and ``predict`` returns ``None``.
"""

import os
import sys
import time
import zipfile

import numpy as np

# Keras's predict default, and the rows per batch read from an array or memory map.
DEFAULT_BATCH_SIZE = 32


def predict(model, x, batch_size, backend, verbose, steps, out):
    """``Model.predict`` past its common case (see the module documentation)."""
    asked_for_progress = verbose in (1, 2) and not isinstance(verbose, bool)
    verbose = _verbosity(verbose)
    steps = _steps(steps)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    if isinstance(x, (str, bytes, os.PathLike)):
        raise TypeError(
            "predict takes arrays or batches of them, not a file name: load a .npy file with "
            "np.load(path, mmap_mode='r') to stream it")
    arrays = _as_arrays(x)
    if arrays is not None:
        mapped = any(isinstance(a, np.memmap) for a in _leaves(arrays))
        if not mapped and out is None and not asked_for_progress and steps is None:
            return model._predict(arrays, batch_size, backend)
        rows = batch_size or DEFAULT_BATCH_SIZE
        batches, total = _slices(model, arrays, rows)
    else:
        batches, total = _iterate(x)
    if steps is not None:
        total = steps if total is None else min(total, steps)
    return _run(model, batches, total, batch_size, backend, verbose, steps, out)


def _verbosity(verbose):
    """Keras's ``verbose``: "auto" (a bar when stderr is a terminal), 0 (silent), 1 (a progress
    bar) or 2 (one line at the end)."""
    if verbose is None or verbose == "auto":
        return 1 if _is_terminal(sys.stderr) else 0
    if verbose in (0, 1, 2) and not isinstance(verbose, bool):
        return verbose
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _steps(steps):
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int or None, got {steps!r}")
    return steps


def _is_array(v):
    return isinstance(v, np.ndarray) or hasattr(v, "__array__") or hasattr(
        v, "__array_interface__")


def _as_arrays(x):
    """``x`` when it is the model's inputs as arrays (an array, or a list, tuple or dict of
    them, as ``predict`` takes them), else None (a stream of batches)."""
    if _is_array(x):
        return x
    if isinstance(x, dict):
        return x
    if isinstance(x, (list, tuple)):
        # A nested list is data too (the one input's), as predict takes it.
        return x
    return None


def _leaves(arrays):
    if isinstance(arrays, dict):
        return list(arrays.values())
    if isinstance(arrays, (list, tuple)) and arrays and all(_is_array(v) for v in arrays):
        return list(arrays)
    return [arrays]


def _slices(model, arrays, rows):
    """Batches of ``rows`` examples cut from arrays in memory or memory-mapped, and how many."""
    if isinstance(arrays, dict):
        leaves = list(arrays.values())
    elif isinstance(arrays, (list, tuple)) and (
            len(model.input_names) > 1 or (len(arrays) == 1 and _is_array(arrays[0]))):
        leaves = list(arrays)
    else:
        leaves = [arrays]  # one input's array, or its data as nested lists
    leaves = [v if isinstance(v, np.ndarray) else np.asarray(v) for v in leaves]
    lengths = {len(v) if v.ndim else 0 for v in leaves}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(
            "predict: every input needs the same number of examples (at least 1); got shapes "
            + ", ".join(str(v.shape) for v in leaves))
    (n,) = lengths

    def cut(start):
        # A slice of a memory map is read from the file when the backend touches it.
        part = [np.asarray(v[start:start + rows]) for v in leaves]
        if isinstance(arrays, dict):
            return dict(zip(arrays.keys(), part))
        return part if len(part) > 1 else part[0]

    return (cut(start) for start in range(0, n, rows)), -(-n // rows)


def _iterate(x):
    """The batches of a stream, and how many there are when it says (None otherwise)."""
    total = None
    if hasattr(x, "as_numpy_iterator"):  # tf.data
        try:
            cardinality = int(x.cardinality())
            total = cardinality if cardinality >= 0 else None
        except Exception:  # noqa: BLE001 - a count is only for the progress bar
            total = None
        return x.as_numpy_iterator(), total
    try:
        total = len(x)
    except TypeError:
        total = None
    if hasattr(x, "__iter__"):
        return iter(x), total
    if hasattr(x, "__getitem__") and total is not None:  # keras.utils.PyDataset, Sequence
        return (x[i] for i in range(total)), total
    raise TypeError(
        f"predict takes arrays, or an iterable of batches (a generator, a tf.data dataset, a "
        f"PyDataset), not {type(x).__name__}")


def _inputs_of(element):
    """A stream element's model inputs: Keras's ``(x,)``, ``(x, y)`` and
    ``(x, y, sample_weight)`` give ``x``; anything else is ``x`` itself."""
    if isinstance(element, tuple):
        if not 1 <= len(element) <= 3:
            raise ValueError(
                f"a batch given as a tuple must be (x,), (x, y) or (x, y, sample_weight) as in "
                f"Keras; got a tuple of {len(element)} (give several inputs as a list or a "
                f"dict)")
        return element[0]
    return element


def _run(model, batches, total, batch_size, backend, verbose, steps, out):
    writer = _Writer(model, out) if out is not None else None
    kept = None
    bar = _Progress(total, verbose)
    examples = 0
    try:
        for index, element in enumerate(batches):
            if steps is not None and index >= steps:
                break
            inputs = _inputs_of(element)
            try:
                ys = model._predict(inputs, batch_size, backend)
            except (ValueError, TypeError) as e:
                raise _named(e, f"batch {index}: {e}") from e
            ys = ys if isinstance(ys, list) else [ys]
            examples += len(ys[0])
            if writer is not None:
                writer.append(ys)
            else:
                kept = [[] for _ in ys] if kept is None else kept
                for part, y in zip(kept, ys):
                    part.append(y)
            bar.update(index + 1, examples)
        if examples == 0:
            raise ValueError("predict: the input holds no batches")
        bar.finish(examples)
        if writer is not None:
            writer.finish()
            return None
    finally:
        if writer is not None:
            writer.abandon()
    results = [np.concatenate(part) for part in kept]
    return results[0] if len(results) == 1 else results


def _named(error, message):
    """``error``'s kind with ``message`` (its own class where that takes a message alone)."""
    try:
        return type(error)(message)
    except Exception:  # noqa: BLE001 - a class whose constructor wants more arguments
        return (ValueError if isinstance(error, ValueError) else TypeError)(message)


class _Progress:
    """A one-line progress bar on stderr (Keras's verbose=1), or one line at the end (2)."""

    WIDTH = 30

    def __init__(self, total, verbose):
        self.total, self.verbose = total, verbose
        self.start = self.shown = time.perf_counter()
        self.stream = sys.stderr

    def update(self, batches, examples):
        now = time.perf_counter()
        if self.verbose != 1 or (now - self.shown < 0.1 and batches != self.total):
            return
        self.shown = now
        rate = examples / max(now - self.start, 1e-9)
        if self.total:
            done = int(self.WIDTH * min(batches, self.total) / self.total)
            left = (now - self.start) / batches * (self.total - batches)
            bar = "=" * done + "." * (self.WIDTH - done)
            text = f"{batches}/{self.total} [{bar}] {examples} examples, {rate:.1f}/s, " \
                   f"{left:.0f} s left"
        else:
            text = f"{batches} batches, {examples} examples, {rate:.1f}/s"
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()

    def finish(self, examples):
        took = time.perf_counter() - self.start
        summary = f"{examples} examples in {took:.1f} s ({examples / max(took, 1e-9):.1f}/s)"
        if self.verbose == 1:
            self.stream.write(f"\r{summary}\x1b[K\n")
        elif self.verbose == 2:
            self.stream.write(summary + "\n")
        self.stream.flush()


class _NpyAppender:
    """A float32 ``.npy`` file written batch by batch: the header leaves room for any example
    count and is rewritten with the real one at the end."""

    # Header bytes reserved (a multiple of 64, as the format asks): room for any shape
    # up to 32 dimensions of 20-digit sizes.
    HEADER = 1024

    def __init__(self, path):
        self.path = path
        self.file = open(path, "wb")
        self.file.write(b"\0" * self.HEADER)
        self.shape = None

    def append(self, y):
        y = np.ascontiguousarray(y, dtype="<f4")
        if self.shape is None:
            self.shape = [0, *y.shape[1:]]
        self.shape[0] += len(y)
        self.file.write(y.tobytes())

    def finish(self):
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': %r, }" % (
            tuple(self.shape),)
        room = self.HEADER - 10  # after the magic, the version and the length
        self.file.seek(0)
        self.file.write(b"\x93NUMPY\x01\x00" + room.to_bytes(2, "little"))
        self.file.write(header.ljust(room - 1).encode("latin1") + b"\n")
        self.file.close()

    def close(self):
        if not self.file.closed:
            self.file.close()


class _Writer:
    """``out``: the outputs appended batch by batch to ``FILE.partial`` files, renamed into
    place when every batch has succeeded (and removed when one fails)."""

    def __init__(self, model, out):
        self.out = os.fspath(out)
        lower = self.out.lower()
        stems = model._output_stems
        if lower.endswith(".npz"):
            self.npz = True
        elif lower.endswith(".npy"):
            if len(stems) != 1:
                raise ValueError(
                    f"out={self.out!r}: the model has {len(stems)} outputs "
                    f"({', '.join(model.output_names)}); write them to one .npz file")
            self.npz = False
        else:
            raise ValueError(f"out={self.out!r}: give a .npy or .npz file name")
        directory = os.path.dirname(os.path.abspath(self.out))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"out={self.out!r}: the directory {directory} does not exist")
        self.partial = self.out + ".partial"
        self.parts = [
            _NpyAppender(f"{self.out}.{k}.partial" if self.npz else self.partial)
            for k in range(len(stems))
        ]
        self.stems = stems
        self.done = False

    def append(self, ys):
        for part, y in zip(self.parts, ys):
            part.append(y)

    def finish(self):
        for part in self.parts:
            part.finish()
        if self.npz:
            with zipfile.ZipFile(self.partial, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
                for stem, part in zip(self.stems, self.parts):
                    z.write(part.path, arcname=f"{stem}.npy")
                    os.remove(part.path)
        os.replace(self.partial, self.out)
        self.done = True

    def abandon(self):
        """Removes what an unfinished run wrote (nothing after ``finish``)."""
        if self.done:
            return
        for part in self.parts:
            part.close()
        for path in {p.path for p in self.parts} | {self.partial}:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
