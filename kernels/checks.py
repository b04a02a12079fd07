"""Argument checks of the kernel entry points, one set for ``kernels/cpu`` and
``kernels/cuda``.

The kernels index without bounds checks (Numba's CPU loops and CUDA threads
alike), so a vector of the wrong size would be read or written out of bounds:
a crash of the interpreter on the CPU, wrong numbers or a fault on a GPU.
Each entry point of both packages therefore first calls the function here
named after it in ``kernels.protocol``; a bad argument is then the same
TypeError or ValueError, naming it, on either device.

The checks look at types, dtypes, shapes and sizes only, never at values:
they take NumPy and CuPy arrays alike, copy nothing and never wait for a GPU.
"""
import math
import numbers
from typing import Callable, NamedTuple

import numpy as np


class ArrayKind(NamedTuple):
    """The arrays a package's kernels take: ``name`` for messages, ``accepts`` the test."""
    name: str
    accepts: Callable


NUMPY_ARRAYS = ArrayKind("a NumPy array", lambda a: isinstance(a, np.ndarray))
# On a GPU the kernels take CuPy arrays; NumPy ones too (Numba copies them over),
# which is what they are under Numba's CUDA simulator.
DEVICE_ARRAYS = ArrayKind("a CuPy or NumPy array",
                          lambda a: isinstance(a, np.ndarray) or type(a).__module__.split(".")[0] == "cupy")


# ------------------------------------------------------------ single checks
# These run before every kernel call, so they are written for speed: a call at
# (64, 64) takes a few microseconds, and each check here tens of nanoseconds.

# dtype objects, not the scalar types: "in" then finds x's dtype by identity
# instead of converting np.float32 to a dtype at each comparison (~0.15 us)
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def input_array(who, x, min_ndim, arrays):
    """x: a float32 or float64 array of ``arrays`` with at least ``min_ndim`` dims, none of them 0."""
    if type(x) is not np.ndarray and not arrays.accepts(x):
        raise TypeError(f"{who}: x must be {arrays.name}, got {type(x).__name__}")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{who}: x has dtype {x.dtype}; the kernels take float32 or float64 "
                        "(convert with x.astype(np.float32))")
    if x.ndim < min_ndim or 0 in x.shape:
        raise ValueError(f"{who}: x has shape {tuple(x.shape)}; expected at least {min_ndim} dims, none of them 0")


def vector(who, name, v, size):
    """``v`` holds ``size`` values (any shape: the kernels flatten it)."""
    count = getattr(v, "size", None)  # an int on NumPy and CuPy arrays
    if type(count) is not int:  # a list or a number: NumPy counts it on the host
        count = np.size(v)
    if count != size:
        raise ValueError(f"{who}: {name} has {count} values, expected {size} (one per normalized "
                         "channel or element of x)")


def affine(who, weight, bias, size):
    """weight and bias: None (no affine) or ``size`` values each."""
    # an array of the right size, the usual case, is passed without a call to vector
    if weight is not None and getattr(weight, "size", None) != size:
        vector(who, "weight", weight, size)
    if bias is not None and getattr(bias, "size", None) != size:
        vector(who, "bias", bias, size)


def same_shape(who, name, a, shape):
    got = tuple(a.shape) if hasattr(a, "shape") else np.shape(a)
    if got != tuple(shape):
        raise ValueError(f"{who}: {name} has shape {got}, expected {tuple(shape)} (x's)")


def _integer(n):
    return type(n) is int or isinstance(n, numbers.Integral)  # the ABC check costs ~0.4 us, the type test ~10 ns


def normalized_ndim(who, x, nd):
    if not _integer(nd) or not 1 <= nd <= x.ndim:
        raise ValueError(f"{who}: normalized_ndim is {nd!r}; expected 1 to x.ndim ({x.ndim})")


def num_groups(who, x, groups):
    if not _integer(groups) or groups < 1 or x.shape[1] % groups:
        raise ValueError(f"{who}: num_groups is {groups!r}; it must be a positive int dividing the "
                         f"channel count ({x.shape[1]})")


def _count(dims):
    return math.prod(dims)  # np.prod of a small tuple costs ~3 us a call


# ------------------------------------------------------------ one function per entry point
# Each takes the entry point's arguments (less the scalars no kernel indexes
# with) and the package's ArrayKind.


def batch_norm_train(x, weight, bias, arrays):
    who = "batchnorm.forward_train"
    input_array(who, x, 2, arrays)
    affine(who, weight, bias, x.shape[1])


def batch_norm_eval(x, weight, bias, running_mean, running_var, arrays):
    who = "batchnorm.forward_eval"
    input_array(who, x, 2, arrays)
    affine(who, weight, bias, x.shape[1])
    vector(who, "running_mean", running_mean, x.shape[1])
    vector(who, "running_var", running_var, x.shape[1])


def batch_norm_backward(x, dy, mean, invstd, weight, arrays):
    who = "batchnorm.backward"
    input_array(who, x, 2, arrays)
    same_shape(who, "dy", dy, x.shape)
    affine(who, weight, None, x.shape[1])
    vector(who, "mean", mean, x.shape[1])
    vector(who, "invstd", invstd, x.shape[1])


def layer_norm(x, weight, bias, nd, arrays):
    who = "layernorm.forward"
    input_array(who, x, 1, arrays)
    normalized_ndim(who, x, nd)
    affine(who, weight, bias, _count(x.shape[x.ndim - nd:]))


def layer_norm_backward(x, dy, mean, invstd, weight, nd, arrays):
    who = "layernorm.backward"
    input_array(who, x, 1, arrays)
    normalized_ndim(who, x, nd)
    same_shape(who, "dy", dy, x.shape)
    affine(who, weight, None, _count(x.shape[x.ndim - nd:]))
    rows = _count(x.shape[: x.ndim - nd])
    vector(who, "mean", mean, rows)
    vector(who, "invstd", invstd, rows)


def rms_norm(x, weight, nd, arrays):
    who = "rmsnorm.forward"
    input_array(who, x, 1, arrays)
    normalized_ndim(who, x, nd)
    affine(who, weight, None, _count(x.shape[x.ndim - nd:]))


def rms_norm_backward(x, dy, rstd, weight, nd, arrays):
    who = "rmsnorm.backward"
    input_array(who, x, 1, arrays)
    normalized_ndim(who, x, nd)
    same_shape(who, "dy", dy, x.shape)
    affine(who, weight, None, _count(x.shape[x.ndim - nd:]))
    vector(who, "rstd", rstd, _count(x.shape[: x.ndim - nd]))


def group_norm(x, groups, weight, bias, arrays):
    who = "groupnorm.forward"
    input_array(who, x, 2, arrays)
    num_groups(who, x, groups)
    affine(who, weight, bias, x.shape[1])


def group_norm_backward(x, dy, groups, mean, invstd, weight, arrays):
    who = "groupnorm.backward"
    input_array(who, x, 2, arrays)
    num_groups(who, x, groups)
    same_shape(who, "dy", dy, x.shape)
    affine(who, weight, None, x.shape[1])
    vector(who, "mean", mean, x.shape[0] * groups)
    vector(who, "invstd", invstd, x.shape[0] * groups)


def summarize(x, arrays):
    """Any array of the package's kind: every dtype and shape has a summary."""
    if not arrays.accepts(x):
        raise TypeError(f"summarize: x must be {arrays.name}, got {type(x).__name__}")


def renorm_limits(who, r_max, d_max):
    """r_max >= 1 and d_max >= 0, finite numbers (r lies in [1 / r_max, r_max], d in [-d_max, d_max])."""
    for name, v, low in (("r_max", r_max, 1.0), ("d_max", d_max, 0.0)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < low:
            raise ValueError(f"{who}: {name} is {v!r}; expected a finite number >= {low:g}")


def batch_renorm_train(x, weight, bias, running_mean, running_var, r_max, d_max, arrays):
    who = "batchrenorm.forward_train"
    input_array(who, x, 2, arrays)
    affine(who, weight, bias, x.shape[1])
    vector(who, "running_mean", running_mean, x.shape[1])
    vector(who, "running_var", running_var, x.shape[1])
    renorm_limits(who, r_max, d_max)


def batch_renorm_backward(x, dy, mean, invstd, r, d, weight, arrays):
    who = "batchrenorm.backward"
    input_array(who, x, 2, arrays)
    same_shape(who, "dy", dy, x.shape)
    affine(who, weight, None, x.shape[1])
    for name, v in (("mean", mean), ("invstd", invstd), ("r", r), ("d", d)):
        vector(who, name, v, x.shape[1])
