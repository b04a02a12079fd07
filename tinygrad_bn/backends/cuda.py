"""The CUDA backend: the array backend over CuPy (cuBLAS matmul, elementwise,
reductions, cuRAND) with ``kernels/cuda`` (``numba.cuda``) for normalization.

Without a GPU, ``NUMBA_ENABLE_CUDASIM=1`` (set before numba is first imported)
makes "cuda" the same backend over NumPy arrays, running the same CUDA kernels
in Numba's simulator: slow, but every kernel line and every device move is
exercised. Its repr says "simulator".

Nothing here waits for the GPU: checks of values (NaN/Inf in normalization
statistics, class targets out of range) set a flag on the device, and the flags
are read at the next host read (``.item()``, ``.tolist()``, ``.cpu()``), which
waits for the GPU anyway.
"""
import numpy as np

import kernels.cuda
from kernels.cuda import _common as kc

from .array import ArrayBackend
from .derived import Derived

INSTALL_HINT = (
    "install the GPU extra (pip install \"tinygrad-bn[cuda]\": CuPy and numba-cuda for CUDA 12, "
    "needs an NVIDIA driver for CUDA 12) on a machine with an NVIDIA GPU, or set "
    "NUMBA_ENABLE_CUDASIM=1 before importing tinygrad_bn to run the CUDA kernels in Numba's "
    "simulator on the CPU (slow; for tests)"
)

# queued NaN/Inf checks between two host reads; one more forces a read
MAX_PENDING_CHECKS = 64


def _gpu_problem():
    """None if CuPy sees a GPU that Numba can use, else why not."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # no driver, or a driver too old for this CuPy
        return f"CuPy finds no usable GPU ({exc})"
    if count < 1:
        return "CuPy finds no GPU"
    from numba import cuda
    if not cuda.is_available():
        return "numba.cuda finds no GPU (is numba-cuda installed?)"
    return None


def is_available() -> bool:
    """True if the "cuda" device can be made: a GPU with CuPy and numba-cuda, or
    the simulator (``NUMBA_ENABLE_CUDASIM=1``), which runs on the CPU."""
    return kc.simulator() or _gpu_problem() is None


class CudaBackend(ArrayBackend):
    """The array backend plus deferred NaN/Inf checks, read at host reads."""

    defers_checks = True

    def __init__(self, name, xp, kernels, erf, to_numpy=None, simulated=False, special=None):
        super().__init__(name, xp, kernels, erf, to_numpy=to_numpy, special=special)
        self.simulated = simulated
        self._flags = xp.zeros(MAX_PENDING_CHECKS, np.int32)
        self._pending = []

    def __repr__(self):
        how = "Numba's CUDA simulator over numpy (no GPU)" if self.simulated else "cupy"
        return f"<CudaBackend {self.name!r} over {how}>"

    def check(self, bad, error, message):
        # a flag on the device, read at the next host read: no wait here
        if len(self._pending) == MAX_PENDING_CHECKS:
            self.raise_pending_checks()
        slot = len(self._pending)
        self._pending.append((error, message))
        self._flags[slot] = self.xp.any(bad)

    # the derived check_finite goes through check, so it is deferred too (the
    # array backend's own raises at once)
    check_finite = Derived.check_finite

    def raise_pending_checks(self):
        """Read the queued check flags (waits for the GPU) and raise the first
        failed check's error."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        flags = self._host(self._flags[: len(pending)])
        if flags.any():
            self._flags.fill(0)
            error, message = pending[int(np.argmax(flags))]
            text = message() if callable(message) else message
            raise error(text + " (on CUDA, found at the next read of a value on the host, not at the op)")

    def _host(self, x):
        # a copy, so clearing the flags after reading them leaves what was read
        return np.array(super().to_numpy(x))

    # every read to the host first reports a failed check
    def to_numpy(self, x):
        self.raise_pending_checks()
        return super().to_numpy(x)

    def any(self, x):
        self.raise_pending_checks()
        return super().any(x)

    def finite_stats(self, x):
        self.raise_pending_checks()
        return super().finite_stats(x)


class CupyBackend(CudaBackend):
    """What CuPy does differently from NumPy: its generator, waiting for the GPU.
    (CuPy 14 has every other NumPy function the array backend calls.)"""

    def synchronize(self):
        self.xp.cuda.get_current_stream().synchronize()

    def seed(self, seed):
        # CuPy's RandomState (cuRAND) takes a dtype, so float32 samples are drawn as float32
        self.generator = self.xp.random.RandomState(seed)

    def rand(self, shape, dtype):
        return self.generator.random_sample(shape, dtype=_float_for(dtype)).astype(dtype, copy=False)

    def randn(self, shape, dtype):
        return self.generator.standard_normal(shape, dtype=_float_for(dtype)).astype(dtype, copy=False)

    def uniform(self, low, high, shape, dtype):
        return self.generator.uniform(low, high, shape, dtype=_float_for(dtype)).astype(dtype, copy=False)

    def normal(self, mean, std, shape, dtype):
        return self.generator.normal(mean, std, shape, dtype=_float_for(dtype)).astype(dtype, copy=False)

    def bernoulli_mask(self, keep_prob, shape, dtype):
        return (self.generator.random_sample(shape, dtype=np.float32) < keep_prob).astype(dtype)


def _float_for(dtype):
    """The dtype CuPy's generator draws in for ``dtype``: float32 and float64 as they
    are; cuRAND has no other (float16 and the rest are drawn in float64 and cast)."""
    return dtype if np.dtype(dtype) in (np.float32, np.float64) else np.float64


def cuda_backend(name="cuda"):
    """The "cuda" device: CuPy on a GPU, or the simulator over NumPy. Raises
    RuntimeError saying what to install or set when neither is there."""
    if kc.simulator():
        from .cpu import cpu_special_function, erf
        return CudaBackend(name, np, kernels.cuda, erf, simulated=True, special=cpu_special_function)
    problem = _gpu_problem()
    if problem is not None:
        raise RuntimeError(f"device 'cuda' is not available: {problem}. To use it, {INSTALL_HINT}.")
    import cupy
    import cupyx.scipy.special

    def special(fn):  # cupyx.scipy.special has them all, lgamma as gammaln
        f = getattr(cupyx.scipy.special, "gammaln" if fn == "lgamma" else fn)
        if fn == "polygamma":
            # cupyx's polygamma takes its order n as an array only (it calls cupy.where(n == 0, ...));
            # ours is a Python int (torch.polygamma(n, x), digamma's derivative)
            return lambda n, x: f(cupy.asarray(n), x)
        return f

    return CupyBackend(name, cupy, kernels.cuda, cupyx.scipy.special.erf, to_numpy=cupy.asnumpy, special=special)
