"""A cache of large output buffers for the normalization kernels.

Fresh memory from the operating system arrives unmapped: the first write to
each 4 KiB page faults and the kernel zeroes it, which for a 64 MiB output
costs about as much as the normalization itself. Training allocates outputs
of the same sizes every step, so the kernels take them from here instead.

A buffer goes back to the cache when the last array that uses it dies: arrays
are made over an owner object (through ``__array_interface__``), every view
keeps that owner alive, and the owner's ``__del__`` returns the memory.
Buffers under ``MIN_BYTES`` are left to malloc; at most ``MAX_CACHED_BYTES``
are kept; ``empty_cache()`` gives them all back.
"""
import threading

import numpy as np

MIN_BYTES = 1 << 20
MAX_CACHED_BYTES = 1 << 30

_free = {}  # nbytes -> list of raw uint8 buffers
_cached = [0]
# reentrant: the garbage collector may run an owner's __del__ (which takes the
# lock) in the middle of empty() on the same thread, while it holds it
_lock = threading.RLock()


class _Owner:
    __slots__ = ("raw", "__array_interface__")

    def __init__(self, raw, shape, dtype):
        self.raw = raw
        self.__array_interface__ = {
            "data": (raw.ctypes.data, False), "shape": tuple(shape), "typestr": dtype.str, "version": 3,
        }

    # The cache's lock and lists are bound here, not looked up as module globals:
    # an owner that dies while the interpreter shuts down may find this module's
    # globals already set to None ("Exception ignored in _Owner.__del__").
    def __del__(self, _lock=_lock, _free=_free, _cached=_cached):
        if MAX_CACHED_BYTES is None:  # the module is being cleared: nothing to keep
            return
        raw = self.raw
        with _lock:
            if _cached[0] + raw.nbytes <= MAX_CACHED_BYTES:
                _free.setdefault(raw.nbytes, []).append(raw)
                _cached[0] += raw.nbytes


def empty(shape, dtype):
    """An uninitialised C-contiguous array, from the cache when one fits exactly."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    with _lock:
        blocks = _free.get(nbytes)
        raw = blocks.pop() if blocks else None
        if raw is not None:
            _cached[0] -= nbytes
    if raw is None:
        raw = np.empty(nbytes, np.uint8)
    return np.asarray(_Owner(raw, shape, dtype))


def empty_like(a):
    return empty(a.shape, a.dtype)


def cached_bytes() -> int:
    return _cached[0]


def empty_cache() -> None:
    """Give every cached buffer back to the allocator."""
    with _lock:
        _free.clear()
        _cached[0] = 0
