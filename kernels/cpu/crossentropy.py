"""Cross entropy of logits (N, C) against class indices (N,), forward and
backward, one pass over the logits each (CPU only: beyond the kernel protocol,
as the fused double backward; elsewhere ops/loss.py composes it from the
backend's ops).

Composed from NumPy calls, a SimpleNet step at batch 16 spent about 60 us of
its 175 in the thirty-odd small calls of the loss and its gradient (max, exp,
sum, log, the target checks, take_along_axis, put_along_axis, ...); as two
kernels they cost a few. Per row, with t the row's target:

    log_probs = (z - max z) - log(sum(exp(z - max z)))
    loss      = -log_probs[t]              (0 where t is ignore_index)
    dz        = (exp(log_probs) - one_hot(t)) * (valid * scale)

The sum of exponentials and the total of the losses accumulate in float64
(for float32 logits too) and are rounded to the logits' dtype once; NaN and
infinities propagate as in the composed form (a row holding NaN, or +inf,
gives NaN). The result is the same at any thread count: rows run in order.

The exponentials of float32 logits are ``_exp_to_0``'s, within about 1 ulp of the
exact ones (NumPy's own float32 exp is within 2.4 ulp): Numba's np.exp calls
the C library once per value, 6.4 ns each, which made the exponentials most
of both kernels' time (2560 of them at batch 256: 16 us in libm, 1.5 us as
this inlined polynomial, which LLVM vectorizes). float64 logits keep np.exp.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

from ._common import JIT


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose bits are the int32 ``bits``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


_LOG2E = np.float32(1.44269504088896341)
_LN2_HIGH, _LN2_LOW = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln 2 in two parts (Cody-Waite)


@njit(**JIT)
def _exp_to_0(x):
    """exp(x) of a float32 x <= 0 (or NaN: NaN), within about 1 ulp; 0 below -87, where
    the exact value is a subnormal under 1.7e-38. Cephes' expf: x = n ln 2 + r,
    |r| <= ln 2 / 2, exp(r) by a degree-7 polynomial, times 2^n built from its bits.
    No branches, so a loop of it vectorizes."""
    xc = x if not x < np.float32(-87.0) else np.float32(-87.0)  # a NaN stays NaN
    n = np.floor((np.float32(0.0) if np.isnan(xc) else xc) * _LOG2E + np.float32(0.5))  # (n of a number)
    r = (xc - n * _LN2_HIGH) - n * _LN2_LOW
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * r * r + r + np.float32(1.0)
    y = p * _float32_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))
    return y if not x < np.float32(-87.0) else np.float32(0.0)


def _exp(x):
    """exp of a log-probability (x <= 0): ``_exp_to_0`` for float32, np.exp otherwise."""
    return np.exp(x)


@overload(_exp)
def _exp_for(x):
    if x == types.float32:
        return lambda x: _exp_to_0(x)
    return lambda x: np.exp(x)


@njit(**JIT)
def _forward(z, target, ignore_index, log_probs, losses, valid, safe, bad):
    """Fills log_probs, losses, valid, safe (the target, or 0 where it does not
    count or is out of range) and bad[0] (a counted target is out of range);
    returns (sum of the losses, number of counted rows)."""
    rows, classes = z.shape
    ty = z.dtype.type
    total = 0.0
    count = 0
    for i in range(rows):
        zr, lr = z[i], log_probs[i]
        # a NaN anywhere in the row (or +inf, as inf - inf) makes the sum below NaN, and so
        # every log_prob of the row, as in the composed form, where np.max returns the NaN
        top = zr[0]
        for j in range(1, classes):
            top = max(top, zr[j])
        s = 0.0
        for j in range(classes):
            s += np.float64(_exp(zr[j] - top))
        lse = ty(np.log(s))
        for j in range(classes):
            lr[j] = (zr[j] - top) - lse
        t = target[i]
        counted = t != ignore_index
        inside = 0 <= t < classes
        valid[i] = counted
        if counted and not inside:
            bad[0] = True
        k = t if counted and inside else 0
        safe[i] = k
        if counted:
            loss = -lr[k]
            losses[i] = loss
            total += np.float64(loss)
            count += 1
        else:
            losses[i] = 0
    return total, count


@njit(**JIT)
def _backward(log_probs, safe, valid, scale, dz):
    rows, classes = log_probs.shape
    ty = log_probs.dtype.type
    per_row = scale.shape[0] != 1
    for i in range(rows):
        f = ty(valid[i]) * scale[i if per_row else 0]
        lr, dr = log_probs[i], dz[i]
        for j in range(classes):
            dr[j] = _exp(lr[j]) * f
        t = safe[i]
        dr[t] = (_exp(lr[t]) - ty(1)) * f


def _check(logits, target):
    if not (isinstance(logits, np.ndarray) and isinstance(target, np.ndarray) and logits.ndim == 2
            and logits.shape[1] > 0 and logits.dtype in (np.float32, np.float64) and target.ndim == 1
            and target.dtype == np.int64 and target.shape[0] == logits.shape[0]):
        raise TypeError(
            "kernels.cpu.cross_entropy: expected NumPy logits (N, C) of float32 or float64 with C >= 1 and "
            f"int64 targets (N,); got logits {getattr(logits, 'shape', type(logits).__name__)} "
            f"{getattr(logits, 'dtype', '')} and targets {getattr(target, 'shape', type(target).__name__)} "
            f"{getattr(target, 'dtype', '')} (other arrays take the composed form in ops/loss.py)")


def cross_entropy(logits, target, ignore_index):
    """(log_probs (N, C), losses (N,), valid (N,) bool, safe target (N,) int64,
    bad (1,) bool, total (0-d), count (0-d)): the per-row losses (0 on rows
    whose target is ``ignore_index``), their sum, and the number of counted rows
    in the logits' dtype (NaN when none, so a mean over no targets is NaN)."""
    _check(logits, target)
    return _forward_arrays(logits, target, ignore_index)


def _forward_arrays(logits, target, ignore_index):
    """cross_entropy's outputs, for arguments already checked."""
    z = np.ascontiguousarray(logits)
    rows = z.shape[0]
    log_probs = np.empty_like(z)
    losses = np.empty(rows, z.dtype)
    valid = np.empty(rows, np.bool_)
    safe = np.empty(rows, np.int64)
    bad = np.zeros(1, np.bool_)
    total, count = _forward(z, np.ascontiguousarray(target), int(ignore_index), log_probs, losses, valid, safe, bad)
    ty = z.dtype.type
    return (log_probs, losses, valid, safe, bad, np.asarray(ty(total)),
            np.asarray(ty(count) if count else ty(np.nan)))


def cross_entropy_backward(log_probs, safe_target, valid, scale):
    """dz = (softmax - one_hot(target)) * (valid * scale) per row; ``scale`` is
    a 1-d array of the logits' dtype with one value for all rows or one per row."""
    dz = np.empty_like(log_probs)
    _backward(log_probs, safe_target, valid, np.ascontiguousarray(scale).reshape(-1), dz)
    return dz


# ------------------------------------------------- forms for a compiled replay
# A compiled step replays calls whose arguments the trace already checked, with
# the same shapes and dtypes every time (see batchnorm.py's forms): the forward
# skips the checks.


def _cross_entropy_replay_form(logits, target, ignore_index):
    return _forward_arrays


cross_entropy.replay_form = _cross_entropy_replay_form
