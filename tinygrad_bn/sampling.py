"""``multinomial``: indices drawn with given weights. A host algorithm: it reads
the weights into NumPy (their checks need the values anyway, as PyTorch's CPU
kernel does), draws from the device's or the given generator, and returns the
indices on the weights' device."""
import numbers

import numpy as np

from .arguments import tensor_arg
from .dtypes import is_float
from .random import stream
from .tensor_base import make_tensor


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categories of each row of ``input`` (non-negative
    weights, 1-d or 2-d) with probabilities proportional to the weights, as
    ``torch.multinomial``: (num_samples,) or (rows, num_samples), int64. With
    replacement each draw inverts the row's cumulative weights at a uniform
    number; without, the draws are an exponential race (the same distribution
    as drawing one at a time and removing it). Reads the weights on the host."""
    who = "multinomial"
    tensor_arg(who, input)
    if input.ndim not in (1, 2) or not is_float(input.dtype):
        raise RuntimeError(f"{who}: expected a 1-d or 2-d floating point tensor of weights, got "
                           f"{input.ndim}-d {input.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples < 1:
        raise ValueError(f"{who}: num_samples must be a positive int, got {num_samples!r}")
    be = input._backend
    weights = be.to_numpy(input._data).astype("float64").reshape(-1, input.shape[-1])
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError(f"{who}: expected finite, non-negative weights; the input holds "
                           f"{'negative values' if (weights < 0).any() else 'NaN or Inf'}")
    positive = (weights > 0).sum(axis=1)
    if (positive == 0).any():
        raise RuntimeError(f"{who}: row {int(np.argmin(positive))} of the weights sums to 0; expected a positive sum")
    if not replacement and num_samples > positive.min():
        raise RuntimeError(f"{who}: cannot draw {num_samples} samples without replacement from a row with "
                           f"{int(positive.min())} categories of positive weight; use replacement=True or fewer")
    rng = stream(who, generator, input.device)
    u = be.to_numpy(rng.random((weights.shape[0], num_samples if replacement else weights.shape[1])))
    if replacement:
        cdf = np.cumsum(weights, axis=1)
        picks = np.stack([np.searchsorted(c, r * c[-1], side="right") for c, r in zip(cdf, u)])
        picks = np.minimum(picks, weights.shape[1] - 1)
    else:
        with np.errstate(divide="ignore"):
            keys = -np.log1p(-u) / weights  # exponential arrival times at the categories' rates; never for 0
        picks = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    picks = picks.astype(np.int64).reshape(input.shape[:-1] + (num_samples,))
    return make_tensor(be.asarray(picks), be)
