"""wgcnn: Keras models on any GPU through wgpu, plus a fast CPU backend and a CPU reference.

>>> import wgcnn
>>> m = wgcnn.load("model.keras")        # also legacy .h5 and a model.to_json() file
>>> print(m.summary())                    # the table Keras prints
>>> y = m.predict(x)                      # x: numpy NHWC; backend="gpu" | "cpu" | "reference"
>>> m.predict(batches, out="y.npy")       # a generator, tf.data, a memory map: batch by batch
>>> y = wgcnn.conv2d(x, kernel, bias, strides=(2, 1), padding="same", activation="relu")
>>> y = wgcnn.max_pool2d(x, pool_size=(2, 2))
>>> wgcnn.adapters()                      # what wgpu sees

The GPU adapter is chosen by wgpu's environment variables: WGPU_BACKEND (vulkan, gl, metal,
dx12), WGPU_ADAPTER_NAME (a substring of the adapter's name), WGPU_POWER_PREF (low, high).
The functions and the Model class are documented in the type stubs (_wgcnn.pyi). Batch
inference over a Ray Dataset: wgcnn.ray.Predictor (import wgcnn.ray; this package never imports
Ray itself).
"""

from ._wgcnn import (
    GpuError,
    Model,
    __version__,
    adapters,
    conv2d,
    gpu_adapter,
    load,
    max_pool2d,
)

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
