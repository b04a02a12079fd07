"""Tensor methods for PyTorch's reductions beyond sum, mean, var, std, max and
min (those are ``TensorMethods``'): prod, logsumexp, nansum, nanmean,
std_mean, var_mean, aminmax, count_nonzero and dist. ``Tensor`` (tensor.py)
inherits them.

prod is an op of its own (``ops.reduce.Prod``); the rest are compositions of
recorded ops, so every one has a backward and a double backward on every device.
"""
import math

from .dtypes import cast_for, int64, is_float
from .grad_mode import no_grad
from .ops import elementwise as E
from .ops import reduce as R
from .tensor_math import as_float


class ReductionMethods:
    __slots__ = ()

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """The product over ``dim`` (all elements when None); its gradient is the product of
        the others, exact where elements are 0, as in PyTorch."""
        x = cast_for(self, dtype, "prod")
        if dim is None:
            return R.Prod.apply(x, None, False)
        axes, keep = R.reduce_args(x, dim, keepdim, "prod")
        return R.Prod.apply(x, axes, keep)

    def logsumexp(self, dim, keepdim=False):
        """log(sum(exp(x))) over ``dim``, computed without overflow."""
        x = as_float(self)
        axes, keep = R.reduce_args(x, dim, keepdim, "logsumexp")
        if any(x.shape[a] == 0 for a in axes):
            # an empty sum is 0 and its log -inf, as PyTorch's (without log(0)'s warning);
            # the sum keeps the result on the tape, with the empty gradient it has
            return x.sum(axes, keepdim=keep) * 0.0 - math.inf
        with no_grad():
            m = x.detach().amax(axes, keepdim=True)
            m = E.where(m.isfinite(), m, 0.0)  # all -inf (or an inf): no shift
        # m is a constant: d/dm of m + log(sum(exp(x - m))) is 0, so the gradient is softmax(x)
        out = (x - m).exp().sum(axes, keepdim=True).log() + m
        return out if keep else out.squeeze(axes) if axes else out.reshape(())

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        x = cast_for(self, dtype, "nansum")
        return E.where(x.isnan(), 0.0, x).sum(dim, keepdim) if is_float(x.dtype) else x.sum(dim, keepdim)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        x = cast_for(self, dtype, "nanmean")
        if not is_float(x.dtype):
            raise RuntimeError(f"nanmean: expected a floating point tensor, got {x.dtype}; call .float() first")
        count = (~x.isnan()).to(x.dtype).sum(dim, keepdim)
        return x.nansum(dim, keepdim) / count

    def std_mean(self, dim=None, *, correction=1, keepdim=False):
        return self.std(dim, correction=correction, keepdim=keepdim), self.mean(dim, keepdim)

    def var_mean(self, dim=None, *, correction=1, keepdim=False):
        return self.var(dim, correction=correction, keepdim=keepdim), self.mean(dim, keepdim)

    def aminmax(self, *, dim=None, keepdim=False):
        """(min, max) over ``dim`` (all elements when None), as ``torch.aminmax``."""
        return _MinMax(self.amin(dim, keepdim), self.amax(dim, keepdim))

    def count_nonzero(self, dim=None):
        with no_grad():
            return (self.detach() != 0).to(int64).sum(dim)

    def dist(self, other, p=2):
        """The p-norm of self - other."""
        return (self - other).norm(p)


class _MinMax(tuple):
    """(min, max), with the names ``torch.aminmax`` gives them."""

    def __new__(cls, lo, hi):
        return super().__new__(cls, (lo, hi))

    min = property(lambda self: self[0])
    max = property(lambda self: self[1])
