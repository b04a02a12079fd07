"""``tinygrad_bn.cuda``: is there a GPU, and waiting for it (as ``torch.cuda``).

The "cuda" device is CuPy arrays on an NVIDIA GPU with ``kernels/cuda`` for
normalization (``pip install "tinygrad-bn[cuda]"``). With
``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported and no GPU, "cuda" runs
the same kernels in Numba's CUDA simulator over NumPy arrays: ``is_available()``
is then True and ``is_simulated()`` says so. Nothing here imports CUDA
libraries until it is called.
"""


def is_available() -> bool:
    """True if tensors can live on "cuda": a GPU with CuPy and numba-cuda, or
    the simulator (see ``is_simulated``)."""
    from .backends.cuda import is_available as available
    return available()


def is_simulated() -> bool:
    """True if "cuda" is Numba's simulator on the CPU rather than a GPU."""
    from kernels.cuda._common import simulator
    return simulator()


def device_count() -> int:
    """1 if "cuda" is available (one GPU is used), else 0."""
    return 1 if is_available() else 0


def synchronize() -> None:
    """Wait until the GPU has finished all queued work (for timing); also
    raises a NaN/Inf error a normalization check queued."""
    from .backends import get_backend
    be = get_backend("cuda")
    be.synchronize()
    be.raise_pending_checks()


def empty_cache() -> None:
    """Give the GPU memory CuPy keeps for reuse back to the driver."""
    from .backends import get_backend
    get_backend("cuda").empty_cache()


def get_device_name(device=None) -> str:
    if device not in (None, 0, "cuda", "cuda:0"):
        raise ValueError(f"get_device_name: device {device!r} is not available; expected 0, 'cuda' or "
                         "'cuda:0' (tinygrad_bn uses one GPU)")
    from .backends import get_backend
    be = get_backend("cuda")
    if be.simulated:
        return "Numba CUDA simulator (CPU)"
    props = be.xp.cuda.runtime.getDeviceProperties(be.xp.cuda.Device().id)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)
