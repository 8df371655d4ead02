"""Batch inference over a Ray Dataset: the model runs in Ray actors, on a GPU where Ray gives
the actor one and on wgcnn's fast CPU backend otherwise.

    import ray
    import wgcnn.ray

    ds = ray.data.read_images("s3://bucket/images", size=(224, 224))  # or from_numpy, read_parquet
    out = ds.map_batches(wgcnn.ray.Predictor, fn_constructor_kwargs={"model": "resnet50.keras"},
                         batch_size=64, concurrency=4, num_gpus=1)  # num_gpus=0: the CPU backend
    out.write_parquet("predictions/")

Ray creates ``concurrency`` actors; each loads the model once, compiles its GPU program once
(in the constructor, so that the first batch does not wait for it) and then predicts batch
after batch. The model reaches the actors as a path every node can read, or as the file's
bytes in Ray's object store (``ray.put(Path("m.keras").read_bytes())``: pass the reference
as ``model``).

Needs Ray (``pip install 'wgcnn[ray]'``); ``import wgcnn`` alone never imports it, and
``Predictor`` itself also works without Ray, called on a batch (a dict of arrays or a pandas
DataFrame) as ``map_batches`` would call it.
"""

import logging
import math
import os
import subprocess
import sys

import numpy as np

import wgcnn

__all__ = ["Predictor"]

logger = logging.getLogger("wgcnn.ray")


class Predictor:
    """A callable class for ``Dataset.map_batches``: adds the model's predictions to each
    batch as new columns and keeps the batch's other columns (ids), so results can be joined.

    Args:
        model: the model, as ``wgcnn.load`` takes it: a path (``.keras``, legacy ``.h5``) every
            node can read, the file's bytes, or a Ray object reference to either.
        column: for a model with one input, the batch column that feeds it. Default: the
            column named like the model's input; else the one column holding arrays of the
            input's rank (images); else the one column holding arrays at all.
        columns: for a model with several inputs, ``{input name: column}``; an input left out
            is read from the column of its own name.
        output_columns: the new columns' names: one string for a model with one output, or a
            list in ``output_names`` order. Default: the output layers' names as file stems
            (``keras.applications`` classifiers: ``predictions``).
        keep_inputs: keep the columns the model read (images) in the result too. Default:
            drop them; every other column is kept.
        backend: ``"auto"`` (the default: ``"gpu"`` when Ray gave this actor a GPU, i.e.
            ``num_gpus`` > 0, else ``"cpu"``, the fast CPU backend), ``"gpu"``, ``"cpu"`` or
            ``"reference"``.
        batch_size: the most examples per GPU round (default 32); each Ray batch runs in as
            many rounds as it needs, on the one compiled program.
        preprocess: a function applied to the model's input before ``predict``: to the
            column's array for a one-input model (e.g. ``lambda x: x / 127.5 - 1``), to the
            dict ``{input name: array}`` otherwise. Pixels go in as they are (uint8 images
            become float32 0..255, as ``keras.utils.img_to_array`` gives them).
        num_threads: threads of the CPU backend. Default: the CPUs Ray assigned to the actor
            (``num_cpus`` of ``map_batches``, at least 1), so that several actors on one
            machine do not each start a thread per core.

    Attributes:
        model: the ``wgcnn.Model``.
        backend: ``"gpu"``, ``"cpu"`` or ``"reference"``: where it computes.
        device: what computes, in words (the adapter, or the CPU backend and its threads).
    """

    def __init__(self, model, *, column=None, columns=None, output_columns=None,
                 keep_inputs=False, backend="auto", batch_size=None, preprocess=None,
                 num_threads=None):
        if backend not in ("auto", "gpu", "cpu", "reference"):
            raise ValueError(
                f"unknown backend {backend!r} (expected auto, gpu, cpu or reference)")
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
        if preprocess is not None and not callable(preprocess):
            raise TypeError("preprocess must be a function of the input array(s)")
        _log_to_stderr_in_ray_workers()
        gpu_ids = _ray_gpu_ids()
        if backend == "auto":
            backend = "gpu" if gpu_ids else "cpu"
        why = f"Ray gave this actor GPU {', '.join(map(str, gpu_ids))}" if gpu_ids \
            else "Ray gave this actor no GPU"
        if backend == "gpu" and gpu_ids:
            why += _use_ray_gpu(gpu_ids)
        elif backend == "cpu":
            _set_cpu_threads(num_threads)

        source, label = _model_source(model)
        self.model = wgcnn.load(source)
        self.backend = backend
        self.batch_size = batch_size or 32
        self.preprocess = preprocess
        self.keep_inputs = bool(keep_inputs)
        inputs = self.model.input_names
        if column is not None and len(inputs) != 1:
            raise ValueError(
                f"column= is for a model with one input; this one has {len(inputs)} "
                f"({', '.join(inputs)}): give columns={{input name: column}}")
        unknown = sorted(set(columns or {}) - set(inputs))
        if unknown:
            raise ValueError(
                f"columns= names {', '.join(map(repr, unknown))}, which the model has no input "
                f"of; its inputs: {', '.join(inputs)}")
        self.columns = dict(columns or {})
        if column is not None:
            self.columns[inputs[0]] = column
        self.output_columns = _output_columns(self.model, output_columns)

        if backend == "gpu":
            adapter = wgcnn.gpu_adapter()
            self.device = f"gpu: {adapter['name']} ({adapter['backend']})"
            if adapter["device_type"] == "Cpu":
                logger.warning("wgcnn: the GPU backend runs on a software adapter (%s): "
                               "backend='cpu' is faster on this machine", adapter["name"])
            self._compile()
        elif backend == "cpu":
            try:
                threads = int(os.environ.get("RAYON_NUM_THREADS", "0"))
            except ValueError:
                threads = 0
            threads = threads if threads > 0 else (os.cpu_count() or 1)
            self.device = f"cpu: the fast CPU backend, {threads} thread" + (
                "s" if threads != 1 else "")
        else:
            self.device = "reference: the CPU reference (slow)"
        logger.info("wgcnn.ray.Predictor: model '%s' (%s) on %s (%s); inputs %s, outputs %s",
                    self.model.name, label, self.device, why,
                    ", ".join(f"{n} {s}" for n, s in zip(inputs, self.model.input_shapes)),
                    ", ".join(self.output_columns))

    def _compile(self):
        """Compiles the GPU program for rounds of ``batch_size`` now, on zeros, so that no
        batch waits for it (and a GPU that cannot run the model fails the actor at once)."""
        shapes = self.model.input_shapes
        if any(d is None for s in shapes for d in s[1:]):
            return  # sized by the first batch instead
        zeros = [np.zeros((self.batch_size, *s[1:]), np.float32) for s in shapes]
        self.model.predict(zeros if len(zeros) > 1 else zeros[0], batch_size=self.batch_size,
                           backend="gpu")

    def __call__(self, batch):
        pandas = _is_dataframe(batch)
        names = list(batch.columns) if pandas else list(batch)
        if not pandas and not isinstance(batch, dict):
            raise TypeError(
                f"wgcnn.ray.Predictor takes batches as a dict of numpy arrays or a pandas "
                f"DataFrame (map_batches' batch_format 'numpy' or 'pandas'), not "
                f"{type(batch).__name__}")
        sources = self._input_columns(batch, names, pandas)
        arrays = {n: _column_array(batch, c, pandas) for n, c in sources.items()}
        x = arrays if len(arrays) > 1 else next(iter(arrays.values()))
        if len(next(iter(arrays.values()))) == 0:
            # An empty block (after a filter, say): empty prediction columns.
            ys = [np.zeros((0, *s[1:]), np.float32) for s in self.model.output_shapes]
        else:
            if self.preprocess is not None:
                x = self.preprocess(x)
            try:
                ys = self.model.predict(x, batch_size=self.batch_size, backend=self.backend)
            except ValueError as e:
                described = ", ".join(
                    f"column '{c}' {arrays[n].shape}" for n, c in sources.items())
                raise ValueError(f"wgcnn.ray.Predictor: {e} (batch: {described})") from e
        ys = ys if isinstance(ys, list) else [ys]
        dropped = set() if self.keep_inputs else set(sources.values())
        clash = sorted(set(self.output_columns) & (set(names) - dropped))
        if clash:
            raise ValueError(
                f"the batch already has column(s) {', '.join(map(repr, clash))}, which the "
                f"predictions would replace: name them with output_columns=")
        if pandas:
            out = batch.drop(columns=sorted(dropped)) if dropped else batch.copy()
            for name, y in zip(self.output_columns, ys):
                out[name] = list(y) if y.ndim > 1 else y
            return out
        out = {k: v for k, v in batch.items() if k not in dropped}
        out.update(zip(self.output_columns, ys))
        return out

    def _input_columns(self, batch, names, pandas):
        """``{model input: batch column}`` for this batch (see ``column`` and ``columns``)."""
        inputs = self.model.input_names
        found = {}
        for name in inputs:
            if name in self.columns:
                wanted = self.columns[name]
                if wanted not in names:
                    raise ValueError(
                        f"the batch has no column '{wanted}' (for input '{name}'); its "
                        f"columns: {', '.join(map(str, names))}")
                found[name] = wanted
            elif name in names:
                found[name] = name
        missing = [n for n in inputs if n not in found]
        if not missing:
            return found
        if len(inputs) == 1:
            rank = len(self.model.input_shapes[0]) - 1
            ranks = {c: _row_rank(batch, c, pandas) for c in names}
            for wanted in (lambda r: r == rank, lambda r: r is not None and r >= 1):
                matching = [c for c in names if ranks[c] is not None and wanted(ranks[c])]
                if len(matching) == 1:
                    return {inputs[0]: matching[0]}
            described = ", ".join(
                f"{c} ({'scalars' if not ranks[c] else f'rank-{ranks[c]} arrays'})"
                for c in names)
            raise ValueError(
                f"which column feeds input '{inputs[0]}' {self.model.input_shapes[0]}? The "
                f"batch has {described}: give column='NAME'")
        raise ValueError(
            f"the batch has no column for input(s) {', '.join(missing)}; its columns: "
            f"{', '.join(map(str, names))}: give columns={{input name: column}}")


def _is_dataframe(batch):
    return type(batch).__module__.split(".")[0] == "pandas" and hasattr(batch, "columns")


def _row_rank(batch, column, pandas):
    """The rank of one row of ``column`` (an image: 3), None for a column of other things."""
    if pandas:
        series = batch[column]
        if len(series) == 0:
            return None
        first = series.iloc[0]
        return np.ndim(first) if isinstance(first, np.ndarray) else (
            0 if np.isscalar(first) else None)
    value = batch[column]
    if not isinstance(value, np.ndarray):
        return None
    if value.dtype == object:
        return np.ndim(value[0]) if len(value) and isinstance(value[0], np.ndarray) else None
    return value.ndim - 1


def _column_array(batch, column, pandas):
    """``column`` as one array ``(rows, *row shape)``: a tensor column as it is, a column of
    equally shaped arrays stacked."""
    value = batch[column].to_numpy() if pandas else np.asarray(batch[column])
    if value.dtype == object:
        shapes = {np.shape(v) for v in value}
        if len(shapes) > 1:
            raise ValueError(
                f"column '{column}' holds arrays of different shapes "
                f"({', '.join(map(str, sorted(shapes)))}): a batch needs them all alike (resize "
                f"images when reading them, e.g. read_images(..., size=(height, width)))")
        value = np.stack(list(value)) if len(value) else value
    return value


def _output_columns(model, output_columns):
    stems = model._output_stems
    if output_columns is None:
        return stems
    given = [output_columns] if isinstance(output_columns, str) else list(output_columns)
    if len(given) != len(stems) or len(set(given)) != len(given):
        raise ValueError(
            f"output_columns: the model has {len(stems)} output(s) ({', '.join(stems)}); give "
            f"as many distinct column names, got {given!r}")
    return given


def _model_source(model):
    """What ``wgcnn.load`` takes, from a path, bytes or a Ray object reference to either, and a
    label for the log."""
    if type(model).__name__ == "ObjectRef":
        import ray

        model = ray.get(model)
    if isinstance(model, (bytes, bytearray, memoryview)):
        model = bytes(model)
        return model, f"{len(model):,} bytes"
    return model, os.fspath(model)


def _ray_gpu_ids():
    """The GPUs Ray assigned to this worker (empty outside Ray, and without Ray installed)."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return []
    return list(ray.get_gpu_ids())


def _use_ray_gpu(gpu_ids):
    """Points wgcnn at the GPU Ray assigned. Ray restricts CUDA with CUDA_VISIBLE_DEVICES,
    which Vulkan ignores: every actor of a multi-GPU machine would open the first GPU. So the
    GPU's PCI address (from nvidia-smi) goes to WGCNN_ADAPTER_PCI_BUS_ID, which must be set
    before the process opens its device. Returns a note for the log."""
    if os.environ.get("WGCNN_ADAPTER_PCI_BUS_ID") or os.environ.get("WGPU_ADAPTER_NAME"):
        return " (adapter chosen by WGCNN_ADAPTER_PCI_BUS_ID / WGPU_ADAPTER_NAME)"
    try:
        found = subprocess.run(
            ["nvidia-smi", "--query-gpu=pci.bus_id", "--format=csv,noheader",
             f"--id={gpu_ids[0]}"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return f" (not matched to an adapter: nvidia-smi: {e}; using the default adapter)"
    bus_id = found.stdout.strip()
    if found.returncode != 0 or not bus_id:
        return (f" (not matched to an adapter: nvidia-smi said "
                f"{(found.stderr or found.stdout).strip()!r}; using the default adapter)")
    os.environ["WGCNN_ADAPTER_PCI_BUS_ID"] = bus_id
    return f" at PCI {bus_id}"


def _set_cpu_threads(num_threads):
    """The CPU backend's thread count (RAYON_NUM_THREADS, read when its thread pool starts: in
    a fresh actor, at the first batch): ``num_threads``, else the CPUs Ray assigned."""
    if num_threads is None:
        if os.environ.get("RAYON_NUM_THREADS"):
            return
        ray = sys.modules.get("ray")
        if ray is None or not ray.is_initialized():
            return
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
        if not cpus:
            return
        num_threads = max(1, math.ceil(cpus))
    if not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be at least 1, got {num_threads!r}")
    os.environ["RAYON_NUM_THREADS"] = str(num_threads)


def _log_to_stderr_in_ray_workers():
    """In a Ray actor, whose stderr Ray forwards to the driver, make the INFO line saying which
    backend runs visible (Python logs only warnings when nothing configured logging)."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized() or logger.handlers:
        return
    try:
        in_actor = ray.get_runtime_context().get_actor_id() is not None
    except Exception:  # noqa: BLE001 - only decides whether to log
        in_actor = False
    if in_actor and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
