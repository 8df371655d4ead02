"""Type stubs of wgcnn's compiled extension (re-exported by the ``wgcnn`` package).

Tensors follow Keras: activations NHWC (``channels_last``), Conv2D kernels HWIO
``(kh, kw, in_channels / groups, filters)``, biases ``(filters,)``, float32.

Array arguments take anything ``numpy.asarray`` takes. A float32 C-contiguous array is read in
place; anything else (float64, int, Fortran order, strided views, lists) is converted to float32
C order first. Results are new float32 C-contiguous numpy arrays.

Errors carry wgcnn's message:

- ``ValueError``: bad shapes, configs (padding, strides, activation, backend names...),
  weights that do not fit the model, a model without weights given to ``predict``.
- ``OSError`` (``FileNotFoundError``, ``PermissionError``, ...): files that cannot be read,
  or are not model files at all (not a zip / HDF5 / JSON file, a corrupt archive).
- ``MemoryError``: a CPU-backend tensor beyond the CPU memory limit
  (``WGCNN_CPU_MEMORY_LIMIT``).
- ``GpuError`` (a ``RuntimeError``): no adapter, an unsupported adapter, device errors,
  device loss, timeouts, tensors beyond the device's limits.
- ``TypeError``: an array whose dtype is not numeric.

The GIL is released while a backend computes, so other Python threads keep running.
"""

from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any, Literal, Optional, TypedDict, Union, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "GpuError",
    "Model",
    "__version__",
    "adapters",
    "conv2d",
    "gpu_adapter",
    "load",
    "max_pool2d",
]

__version__: str

_ArrayLike = npt.ArrayLike
"""Anything ``numpy.asarray`` turns into a numeric array."""

_Backend = Literal["auto", "gpu", "cpu", "reference"]
"""Where to compute: ``"auto"`` (the default, as in the CLI: the GPU on a hardware adapter,
else ``"cpu"``, since a software adapter runs shaders slower than the CPU backend), ``"gpu"``
(WGSL compute shaders through wgpu, on any adapter), ``"cpu"`` (the fast CPU backend:
multi-threaded SIMD GEMMs) or ``"reference"`` (plain loops with float64 accumulation: slow,
obviously correct)."""

_Padding = Literal["valid", "same"]
"""Keras's ``padding`` (any case): ``"valid"`` (windows inside the input) or ``"same"``
(output size ``ceil(input / stride)``; the odd extra padding cell goes after, as in Keras)."""

_IntPair = Union[int, tuple[int, int], Sequence[int]]
"""One int for both axes, or ``(rows, cols)``."""

class GpuError(RuntimeError):
    """A GPU failure: no adapter, an unsupported adapter, a device error or device loss, a
    timeout, or a tensor beyond the device's limits."""

class _AdapterInfo(TypedDict):
    """An adapter as ``adapters()`` lists it."""

    name: str
    """e.g. ``"llvmpipe (LLVM 15.0.6, 256 bits)"``."""
    backend: str
    """``"Vulkan"``, ``"Metal"``, ``"Dx12"`` or ``"Gl"``."""
    device_type: str
    """``"DiscreteGpu"``, ``"IntegratedGpu"``, ``"Cpu"``, ..."""
    driver: str
    driver_info: str
    pci_bus_id: str
    """The PCI address ``domain:bus:device.function`` (hex) where the backend reports one
    (Vulkan, DX12), else ``""``; ``WGCNN_ADAPTER_PCI_BUS_ID`` selects an adapter by it."""
    compute: bool
    """Whether it can run compute shaders at all (wgcnn needs them)."""
    unmet: list[str]
    """What keeps it from running wgcnn (no compute shaders, a limit below what the kernels
    need, e.g. ``"max_storage_buffers_per_shader_stage 4 < 5"``); empty when it can."""
    selected: bool
    """Whether the GPU backend would use this adapter."""

class _GpuAdapterInfo(TypedDict):
    """The adapter the GPU backend runs on."""

    name: str
    backend: str
    device_type: str
    driver: str
    driver_info: str
    pci_bus_id: str

@final
class Model:
    """A Keras model loaded by wgcnn. Create one with :func:`load`.

    The GPU program compiled by the first GPU ``predict`` (weights uploaded, kernels chosen and
    tuned, buffers allocated) stays in the object and is reused by later calls; see
    ``gpu_compilations``. A Model may be shared between threads: GPU calls on one Model run one
    at a time, CPU calls concurrently.
    """

    @property
    def name(self) -> str:
        """The model's name."""
    @property
    def input_names(self) -> list[str]:
        """The input layers' names, in the order ``predict`` takes a list of arrays."""
    @property
    def output_names(self) -> list[str]:
        """The names of the layers producing the outputs, in the order ``predict`` returns
        them (a layer with several outputs appears once per output)."""
    @property
    def input_shapes(self) -> list[tuple[Optional[int], ...]]:
        """The input shapes as Keras writes them, batch first as ``None``:
        ``[(None, 32, 32, 3)]``."""
    @property
    def output_shapes(self) -> list[tuple[Optional[int], ...]]:
        """The output shapes as Keras writes them: ``[(None, 10)]``."""
    @property
    def input_dtypes(self) -> list[str]:
        """The inputs' Keras dtypes: ``"float32"``, or ``"int32"`` for token ids."""
    @property
    def has_weights(self) -> bool:
        """Whether every layer has its weights (a model read from an architecture JSON has
        none: it can print its summary but not ``predict``)."""
    @property
    def gpu_compilations(self) -> int:
        """How many times ``predict`` compiled this model for the GPU: 0 before the first GPU
        call, then 1 for as long as the compiled program fits the calls. It grows only when a
        call needs rounds larger than the program was compiled for (more examples than the
        first call had, up to ``batch_size``), asks for a smaller ``batch_size`` than it was
        compiled for, or after a GPU error."""
    def summary(self, line_length: Optional[int] = None, json: bool = False) -> str:
        """The summary Keras 3 prints for ``model.summary()``, character for character.

        Args:
            line_length: the table width. Default: Keras's, ``min(88, columns - 4)`` for a
                sequential-like model and ``min(108, columns - 4)`` otherwise, with the
                terminal's columns as ``shutil.get_terminal_size()`` finds them (``$COLUMNS``,
                else the terminal, else 80: so 76 when output is not a terminal).
            json: return JSON text instead: the model's name, its layers (name, class_name,
                output_shape with ``null`` batch, params, trainable_params, inbound tensors),
                inputs, outputs and the three totals.
        """
    def predict(
        self,
        x: Union[
            _ArrayLike, Sequence[_ArrayLike], Mapping[str, _ArrayLike], Iterable[Any]
        ],
        batch_size: Optional[int] = None,
        backend: _Backend = "auto",
        verbose: Union[Literal["auto"], int] = "auto",
        steps: Optional[int] = None,
        out: Union[str, PathLike[str], None] = None,
    ) -> Union[npt.NDArray[np.float32], list[npt.NDArray[np.float32]], None]:
        """The forward pass (inference), like Keras's ``model.predict``.

        Args:
            x: the input, ``(batch, *input_shape)``. A model with several inputs takes a list
                (in ``input_names`` order) or a dict by input name. An input Keras declares as
                an integer (``int32`` token ids for an Embedding) takes integer arrays, whose
                values must be within ±2**24 (exact in float32).

                Or a stream of batches, run one batch at a time: a generator or any other
                iterable, a ``tf.data`` dataset, a Keras ``PyDataset``. Each element is one
                batch in any of the forms above; as in Keras, an element that is a tuple is
                ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``, and only ``x`` is used (give
                several inputs as a list or dict). Or a memory-mapped array
                (``np.load(path, mmap_mode="r")``, alone or in a list or dict), larger than
                memory if need be: read ``batch_size`` rows at a time.
            batch_size: at most this many examples per GPU round (Keras's default: 32), and
                the rows per batch cut from a memory-mapped array or from arrays written to
                ``out``. The CPU backends take a whole batch at once.
            backend: ``"auto"``, ``"gpu"``, ``"cpu"`` or ``"reference"``.
            verbose: progress on stderr while batches run: ``"auto"`` (a bar when stderr is
                a terminal), ``0`` (none), ``1`` (a bar: batches, examples, examples/s, time
                left when the count is known) or ``2`` (one line at the end). A plain array
                in memory runs in one call and shows nothing unless asked (1 or 2).
            steps: run at most this many batches of a stream (Keras's ``steps``).
            out: a ``.npy`` file (a model with one output) or ``.npz`` file (any number; one
                member per output, named as ``wgcnn run`` names them) to stream the outputs
                to, batch by batch, instead of returning them. The file appears when every
                batch has succeeded (``FILE.partial`` until then, removed on an error).

        Returns:
            One float32 array ``(batch, *output_shape)``, or a list of them (in
            ``output_names`` order) for a model with several outputs; ``None`` with ``out``
            (read it back with ``np.load(out, mmap_mode="r")``).

            Memory: a stream or memory map holds one input batch at a time; the outputs are
            gathered in memory unless ``out`` is given.

        Raises:
            ValueError: a wrong input shape or count (for a stream: ``batch K: ...``), a
                batch of 0, a stream without batches, a model without weights.
            GpuError: no adapter, a device error (``backend="gpu"``).
        """
    def __repr__(self) -> str: ...

def load(source: Union[str, PathLike[str], bytes]) -> Model:
    """Loads a Keras model: a ``.keras`` file (architecture and weights), a legacy Keras 2
    ``.h5`` file (``model.save("m.h5")``), or an architecture JSON (``model.to_json()`` or the
    ``config.json`` inside a ``.keras`` file; no weights, enough for ``summary``), from a path
    or from the file's bytes. Other frameworks' files (ONNX, SavedModel, PyTorch) are named in
    the error.

    Raises:
        OSError: the file cannot be read (``FileNotFoundError`` when it does not exist), or is
            not a model file (not a zip, HDF5 or JSON file; a corrupt archive).
        ValueError: the model uses something wgcnn does not support, or its weights do not
            fit its layers.
    """

def conv2d(
    x: _ArrayLike,
    kernel: _ArrayLike,
    bias: Optional[_ArrayLike] = None,
    strides: _IntPair = (1, 1),
    padding: _Padding = "valid",
    dilation_rate: _IntPair = (1, 1),
    groups: int = 1,
    activation: Optional[str] = None,
    backend: _Backend = "auto",
) -> npt.NDArray[np.float32]:
    """Keras ``Conv2D``: ``activation(conv(x, kernel) + bias)``.

    ``filters`` and ``kernel_size`` come from the kernel; the other arguments are Conv2D's,
    with Keras's defaults. Keras refuses ``dilation_rate > 1`` together with ``strides > 1``,
    and so does wgcnn.

    Args:
        x: ``(batch, height, width, in_channels)``.
        kernel: ``(kh, kw, in_channels / groups, filters)``, as Keras stores it.
        bias: ``(filters,)``; without it the layer has no bias (``use_bias=False``).
        strides: an int or ``(rows, cols)``.
        padding: ``"valid"`` or ``"same"``.
        dilation_rate: an int or ``(rows, cols)``.
        groups: grouped convolution: input channels and filters split into this many groups.
        activation: a Keras activation name (``"relu"``, ``"sigmoid"``, ``"tanh"``,
            ``"gelu"``, ``"silu"``/``"swish"``, ...); ``None`` is linear.
        backend: ``"auto"``, ``"gpu"``, ``"cpu"`` or ``"reference"``.

    Returns:
        ``(batch, out_height, out_width, filters)``, float32.

    Raises:
        ValueError: bad shapes or config (unknown padding or activation, zero strides, an
            empty output with ``"valid"``...).
        GpuError: no adapter, a device error (``backend="gpu"``).
    """

def max_pool2d(
    x: _ArrayLike,
    pool_size: _IntPair = (2, 2),
    strides: Optional[_IntPair] = None,
    padding: _Padding = "valid",
    backend: _Backend = "auto",
) -> npt.NDArray[np.float32]:
    """Keras ``MaxPooling2D``; with ``"same"`` padding, padded cells never win the max.

    Args:
        x: ``(batch, height, width, channels)``.
        pool_size: an int or ``(rows, cols)``.
        strides: an int or ``(rows, cols)``; ``None`` is the pool size, as in Keras.
        padding: ``"valid"`` or ``"same"``.
        backend: ``"auto"``, ``"gpu"``, ``"cpu"`` or ``"reference"``.

    Returns:
        ``(batch, out_height, out_width, channels)``, float32.
    """

def adapters() -> list[_AdapterInfo]:
    """Every adapter wgpu sees for the enabled backends (``WGPU_BACKEND``), like the CLI's
    ``wgcnn adapters``; ``selected`` marks the one the GPU backend uses. Empty when there is
    none."""

def gpu_adapter() -> _GpuAdapterInfo:
    """The adapter the GPU backend runs on, opening it if needed (it is opened once per
    process and kept).

    Raises:
        GpuError: no adapter (or none matching ``WGPU_ADAPTER_NAME``), or it cannot be opened.
    """
