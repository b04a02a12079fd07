"""Shared pieces of the CUDA normalization kernels.

Arrays: kernels take flat (1-D, C-contiguous) arrays plus their dimensions, so
each kernel compiles once per input dtype (float32, float64), whatever the
input's rank. Outside the simulator the arrays are CuPy's, handed to Numba
without a copy and without a host synchronisation; under the simulator
(``NUMBA_ENABLE_CUDASIM=1``) they are NumPy arrays. The entry points check
their arguments with ``kernels/checks.py`` and flatten them with
``kernels/arrays.py``, as the CPU ones do.

Numerics are those of ``kernels/cpu``: statistics accumulate in float64 on
data shifted by one of its own values, normalization subtracts the float64
mean before rounding back to the input dtype.

Reductions: each thread sums into float64 registers, a block sums its threads
with a shared-memory tree (``block_sum2``), and blocks write partial rows that
the next kernel sums in a fixed order. There are no float atomics and no warp
shuffles (the simulator has neither shuffles nor libdevice), so results repeat
exactly on one GPU and every line runs in the simulator.

Launch shapes live in ``LAUNCH``; the tests shrink them so tiny inputs still
use several blocks and row groups in the simulator.
"""
import ctypes
import math
import os
import warnings

import numpy as np
from numba import cuda
from numba.core import config as _config
from numba.core.errors import NumbaPerformanceWarning

from ..cache_stamp import drop_stale_kernel_cache, numba_locators

# Shared-memory reduction buffers are sized for this many threads per block.
MAX_THREADS = 256


class Launch:
    """Launch shapes. ``threads``: threads per block (a power of two, at most
    MAX_THREADS). ``bn_channels``: channels per block of the (N, C) batch-norm
    kernels (32: a warp reads one coalesced row segment). ``rows_per_thread``:
    rows (elements) a thread sums before another row group is worth it.
    ``blocks_per_sm``: blocks to aim for on each multiprocessor.
    ``row_threads``: the fewest threads that share one row of a row kernel
    (a warp; short rows then fit several to a block)."""

    threads = 256
    bn_channels = 32
    row_threads = 32
    rows_per_thread = 16
    blocks_per_sm = 4
    sm_count = None  # read from the device on first use

    def target_blocks(self):
        if self.sm_count is None:
            self.sm_count = 2 if _SIMULATED else cuda.get_current_device().MULTIPROCESSOR_COUNT
        return self.blocks_per_sm * self.sm_count


LAUNCH = Launch()


# fixed when numba is first imported, so read once (launch checks it every call)
_SIMULATED = bool(_config.ENABLE_CUDASIM)


def simulator() -> bool:
    """True when numba.cuda is Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1)."""
    return _SIMULATED


def _thread_safe_simulator_shared_arrays():
    """The simulator runs a block's threads as Python threads and makes a shared
    array on the first call at each source line, with no lock: two threads that
    reach the line together can each make their own array, and the block's
    reduction then sums into two buffers (a wrong result, now and then). Make
    that get-or-create atomic; the rest is the simulator's own logic."""
    import sys
    import threading
    import traceback

    from numba.core import types
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support

    shared = kernelapi.FakeCUDAShared
    if getattr(shared, "_atomic_get_or_create", False):
        return
    original = shared.array
    lock = threading.Lock()

    def array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:  # dynamic shared memory, or the simulator's error
            return original(self, shape, dtype, alignment)
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        caller = traceback.extract_stack(sys._getframe())[-2][0:2]  # the kernel's line, as upstream
        with lock:
            res = self._allocations.get(caller)
            if res is None:
                res = self._allocations[caller] = np.empty(shape, dtype)
        return res

    shared.array = array
    shared._atomic_get_or_create = True


if _SIMULATED:
    _thread_safe_simulator_shared_arrays()


# These kernels call device functions from other files of this folder (this
# one, layernorm.py), which Numba's cache does not watch: see cache_stamp.py.
if not _SIMULATED:  # the simulator compiles nothing, so caches nothing
    drop_stale_kernel_cache(os.path.dirname(os.path.abspath(__file__)), numba_locators("cuda"))


def cdiv(a, b):
    return -(-a // b)


def pow2_at_most(n):
    """The largest power of two <= n (n >= 1)."""
    return 1 << (max(1, int(n)).bit_length() - 1)


# ------------------------------------------------------------ arrays and launch


_streams = {}


def _current_stream():
    """CuPy's current stream as a Numba stream, so our kernels queue behind the
    CuPy work that made their inputs (0 under the simulator)."""
    if _SIMULATED:
        return 0
    import cupy
    ptr = cupy.cuda.get_current_stream().ptr
    s = _streams.get(ptr)
    if s is None:
        s = _streams[ptr] = cuda.default_stream() if ptr == 0 else cuda.external_stream(ptr)
    return s


def _device_arg(a):
    # CuPy arrays: wrap without the stream synchronisation Numba does by default
    # when it takes a foreign array (sync=False): we launch on CuPy's own stream.
    if type(a).__module__.startswith("cupy"):
        return cuda.as_cuda_array(a, sync=False)
    return a


def launch(kernel, grid, block, *args):
    """Run ``kernel`` on a grid of ``grid`` blocks of ``block`` threads on the
    current stream; returns without waiting for the GPU."""
    if _SIMULATED:
        kernel[grid, block](*args)
        return
    stream = _current_stream()
    if DIRECT_LAUNCH:
        key = (kernel, *[a.dtype if type(a) is _cupy_ndarray else type(a) for a in args])
        direct = _direct.get(key)
        if direct is not None and direct.launch(grid, block, stream, args):
            launch_counts["direct"] += 1
            return
    with warnings.catch_warnings():
        # our per-channel and per-row kernels launch small grids on purpose
        warnings.simplefilter("ignore", NumbaPerformanceWarning)
        wrapped = [_device_arg(a) for a in args]
        kernel[grid, block, stream](*wrapped)
    launch_counts["numba"] += 1
    if DIRECT_LAUNCH and key not in _direct:
        _direct[key] = DirectLaunch.after_first_launch(kernel, wrapped, args)


# Numba's dispatcher costs about 40 us of host time a launch, and wrapping each
# CuPy array for it (as_cuda_array) 15 us more (an H200 host,
# benchmarks/profile_cuda_launch.py): a batch norm forward at (4096, 1024),
# 3 launches of 17 arrays, took 0.9 ms of host time for far less GPU work, and
# a small MLP's training step is nothing but such launches. So once a kernel
# has been launched through Numba with some argument types (which compiles and
# loads it), later launches with the same types hand their arguments straight
# to cuda.core's launch, laid out as Numba lays them out (an array is meminfo,
# parent, size, itemsize, pointer, shape, strides: _Kernel._prepare_args).
# tests/kernels/test_cuda_direct_launch.py checks, on a GPU, that both launches
# give the same bits (test_direct_launch_layout.py the layout, anywhere);
# DIRECT_LAUNCH = False goes through Numba every time.
DIRECT_LAUNCH = True
launch_counts = {"direct": 0, "numba": 0}
_direct = {}
try:
    from cupy import ndarray as _cupy_ndarray
except ImportError:  # no CuPy: only the simulator runs kernels
    _cupy_ndarray = None


def _dim3(dims):
    """A grid or block size (an int or a tuple of up to three) as three ints."""
    dims = tuple(int(d) for d in dims) if isinstance(dims, tuple) else (int(dims),)
    return dims + (1,) * (3 - len(dims))


_warned_layout = False


def _warn_layout_once(kernel):
    """Say once per process that kernels launch through Numba (as kernels/cpu says a lost thread pool)."""
    global _warned_layout
    if not _warned_layout:
        _warned_layout = True
        warnings.warn(f"kernels.cuda: {getattr(kernel, '__name__', 'a kernel')}: this numba-cuda lays kernel "
                      "arguments out otherwise than the direct launch expects, so kernels launch through "
                      "Numba (correct, but about 40 us + 15 us per array slower a launch)", RuntimeWarning,
                      stacklevel=4)


def same_params(ours, numbas):
    """Whether two kernel parameter lists are the same: ctypes scalars of one type
    and value, and plain numbers (array fields, bools) of one value and boolness."""
    if len(ours) != len(numbas):
        return False
    for a, b in zip(ours, numbas):
        if isinstance(a, ctypes._SimpleCData) or isinstance(b, ctypes._SimpleCData):
            if type(a) is not type(b) or a.value != b.value:
                return False
        elif (0 if a is None else a) != (0 if b is None else b) or isinstance(a, bool) != isinstance(b, bool):
            return False  # (Numba passes an empty array's pointer as None, a null pointer as 0 is)
    return True


class DirectLaunch:
    """One compiled kernel and how to lay out its arguments for cuda.core."""

    def __init__(self, function, layout, core):
        self.function = function  # cuda.core's Kernel
        self.layout = layout  # per argument: None for a 1-D array, else the ctypes scalar type (or bool)
        self.core = core  # (launch, LaunchConfig, to_core_stream, cooperative keyword)
        self.configs = {}
        self.streams = {}

    @classmethod
    def after_first_launch(cls, kernel, wrapped, args):
        """The direct launch of ``kernel`` for these arguments' types, or None
        where something is not as this layout expects (Numba keeps launching).
        ``wrapped``: the arguments as Numba was given them; ``args``: as ours.
        The layout is checked once against the one Numba itself builds from
        them (``_prepare_args``), so a numba-cuda that lays arguments out
        otherwise keeps its own launch instead of reading wrong memory."""
        from numba.core import types
        try:
            from cuda.core import LaunchConfig
            from cuda.core import launch as core_launch
            from numba.cuda._compat import CUDA_CORE_GE_1_0
            from numba.cuda.cudadrv.driver import _to_core_stream
            overload = kernel.overloads[tuple(kernel.typeof_pyval(a) for a in wrapped)]
            function = overload._codelibrary.get_cufunc().kernel
        except Exception:  # noqa: BLE001 (another numba-cuda: its own launch path only)
            return None
        if getattr(overload, "debug", True) or getattr(overload, "cooperative", True):  # Numba does more for these
            return None
        layout = []
        for ty in overload.argument_types:
            if isinstance(ty, types.Array) and ty.ndim == 1 and ty.layout == "C":
                layout.append(None)
            elif isinstance(ty, types.Integer):
                layout.append(getattr(ctypes, f"c_{ty}"))
            elif ty == types.float64:
                layout.append(ctypes.c_double)
            elif ty == types.float32:
                layout.append(ctypes.c_float)
            elif ty == types.boolean:
                layout.append(bool)
            else:
                return None
        cooperative = "is_cooperative" if CUDA_CORE_GE_1_0 else "cooperative_launch"
        direct = cls(function, layout, (core_launch, LaunchConfig, _to_core_stream, cooperative))
        ours = direct.params(args)
        if ours is None:  # an argument of another kind (a strided array): Numba launches it
            return None
        try:
            numbas = []
            for ty, value in zip(overload.argument_types, wrapped):
                overload._prepare_args(ty, value, 0, [], numbas)
            same = same_params(ours, numbas)
        except Exception:  # noqa: BLE001 (another numba-cuda)
            same = False
        if not same:
            _warn_layout_once(kernel)
            return None
        return direct

    def params(self, args):
        """The kernel parameters for ``args``, or None for an argument this layout cannot pass."""
        params = []
        for a, kind in zip(args, self.layout):
            if kind is None:
                if type(a) is not _cupy_ndarray or a.ndim != 1 or not a.flags.c_contiguous:
                    return None
                n, size = a.shape[0], a.itemsize
                params += (0, 0, n, size, a.data.ptr, n, size)
            elif kind is bool:
                params.append(a)  # as Numba passes a bool
            else:
                params.append(kind(a))
        return params

    def launch(self, grid, block, stream, args):
        """Launch; False (nothing launched) for an argument this layout cannot pass."""
        params = self.params(args)
        if params is None:
            return False
        core_launch, launch_config, to_core_stream, cooperative = self.core
        config = self.configs.get((grid, block))
        if config is None:
            config = self.configs[grid, block] = launch_config(grid=_dim3(grid), block=_dim3(block), shmem_size=0,
                                                               **{cooperative: False})
        core_stream = self.streams.get(stream)
        if core_stream is None:
            core_stream = self.streams[stream] = to_core_stream(stream)
        core_launch(core_stream, config, self.function, *params)
        return True


# ------------------------------------------------------------ kernels and their types

# every kernel with its argument types, for the compile check (compile_check.py)
REGISTRY = []


def kernel(arg_types):
    """``cuda.jit`` a kernel (compiled lazily, per launch signature, cached on
    disk), recording its argument types: one letter each, X a 1-D array of the
    input dtype, F of float64, I an integer, E a float, B a bool."""
    def register(fn):
        REGISTRY.append((fn, arg_types.replace(" ", "")))
        return cuda.jit(cache=True)(fn)
    return register


# ------------------------------------------------------------ device functions


@cuda.jit(device=True, inline="always")
def block_sum2(v1, v2, sh1, sh2, me, pos, count, stride):
    """Sum (v1, v2) over a group of ``count`` threads (a power of two) of the
    block: this thread is slot ``me`` of the shared buffers and position ``pos``
    in its group, whose slots lie ``stride`` apart. Every thread of the block
    must call it (it synchronises); each gets its group's sums."""
    sh1[me] = v1
    sh2[me] = v2
    cuda.syncthreads()
    step = count // 2
    while step > 0:
        if pos < step:
            sh1[me] += sh1[me + step * stride]
            sh2[me] += sh2[me + step * stride]
        cuda.syncthreads()
        step //= 2
    base = me - pos * stride
    r1 = sh1[base]
    r2 = sh2[base]
    cuda.syncthreads()  # the buffers are reused by the next call
    return r1, r2


@cuda.jit(device=True, inline="always")
def moments(s1, s2, count, eps):
    """(mean of the shifted data, biased variance, 1 / sqrt(var + eps)) from
    float64 sums of (x - k) and (x - k)^2 over ``count`` values."""
    m = s1 / count
    var = s2 / count - m * m
    if var < 0.0:  # rounding; NaN stays NaN (NaN < 0 is false)
        var = 0.0
    return m, var, 1.0 / math.sqrt(var + eps)


@cuda.jit(device=True, inline="always")
def like(arr, value):
    """``value`` rounded to the dtype of ``arr``."""
    return arr.dtype.type(value)


# ------------------------------------------------------------ small kernels


@kernel("F I I F")
def sum_partial_rows(part, rows, width, out):
    """out[j] = sum over r < rows of part[r * width + j], in row order."""
    for j in range(cuda.grid(1), width, cuda.gridsize(1)):
        s = 0.0
        for r in range(rows):
            s += part[r * width + j]
        out[j] = s


def grid_for(total, threads):
    """Blocks for a grid-stride loop over ``total`` items: enough to fill the
    card, never more than there are items."""
    return max(1, min(cdiv(total, threads), 8 * LAUNCH.target_blocks()))


def launch_elementwise(kernel, size, *args):
    """``kernel`` with a grid-stride loop over ``size`` items."""
    threads = LAUNCH.threads
    launch(kernel, grid_for(size, threads), threads, *args)


def launch_per_item(kernel, count, *args):
    """``kernel`` with one thread per item (a channel, a row) for ``count`` items."""
    threads = min(LAUNCH.threads, 128)
    launch(kernel, cdiv(count, threads), threads, *args)


def reduce_partials(part, rows, width, out):
    launch_elementwise(sum_partial_rows, width, part, rows, width, out)


def layout(shape):
    """(N, C, L) of an input of shape (N, C, *), L the product of the spatial dims."""
    n, c = shape[0], shape[1]
    return n, c, int(np.prod(shape[2:], dtype=np.int64)) if len(shape) > 2 else 1


__all__ = ["LAUNCH", "MAX_THREADS", "REGISTRY", "block_sum2", "cdiv", "grid_for", "kernel", "launch",
           "launch_elementwise", "launch_per_item", "layout", "like", "moments", "pow2_at_most", "reduce_partials",
           "simulator"]
