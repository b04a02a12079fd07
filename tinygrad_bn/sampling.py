"""Sampling beyond rand and randn: ``multinomial``, ``bernoulli``, ``poisson``,
``normal`` and the in-place fills (``exponential_``, ``cauchy_``, ...), from the
device's generator or a ``Generator``.

``multinomial`` and ``poisson`` are host algorithms: they read their weights
or rates into NumPy (their checks need the values anyway, as PyTorch's CPU
kernels do) and return results on the input's device. The fills transform
uniform or normal samples on the device (``-log(1 - u) / lambda``, ...)."""
import numbers

import numpy as np

from .arguments import number_arg, tensor_arg
from .backends import get_backend
from .dtypes import as_dtype, float_only, get_default_dtype, is_float
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


# ------------------------------------------------------------------ distributions by transformation

def _uniform(who, shape, device, generator):
    """Uniform float64 samples on [0, 1) on ``device``'s backend, from ``generator`` or the device's stream."""
    be = get_backend(device)
    if generator is None:
        return be, be.rand(tuple(shape), "float64")
    return be, be.asarray(stream(who, generator, device).random(tuple(shape)), "float64")


def _probability(who, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{who}: p must be a probability in [0, 1], got {p!r}")
    return float(p)


def _positive(who, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or value == np.inf:
        raise ValueError(f"{who}: {name} must be a finite number > 0, got {value!r}")
    return float(value)


def bernoulli(input, p=None, *, generator=None):
    """0 or 1 with probability ``input`` (or ``p``) of 1, elementwise, in input's dtype, as
    ``torch.bernoulli``; the result carries no gradient."""
    who = "bernoulli"
    tensor_arg(who, input)
    if not is_float(input.dtype):
        raise RuntimeError(f"{who}: expected a floating point tensor of probabilities, got {input.dtype}")
    be, u = _uniform(who, input.shape, input.device, generator)
    if p is None:
        probs = be.to_numpy(input._data)
        if not ((probs >= 0) & (probs <= 1)).all():
            raise RuntimeError(f"{who}: expected probabilities in [0, 1]; the input holds values outside "
                               f"(min {np.nanmin(probs)}, max {np.nanmax(probs)}) or NaN")
        probs = input._data
    else:
        probs = _probability(who, p)
    return make_tensor(be.cast(be.less(u, probs), input.dtype), be)


def poisson(input, generator=None):
    """Poisson counts with rates ``input`` (>= 0), elementwise, in input's dtype, as
    ``torch.poisson``; drawn by the generator's own Poisson sampler, without gradient."""
    who = "poisson"
    tensor_arg(who, input)
    if not is_float(input.dtype):
        raise RuntimeError(f"{who}: expected a floating point tensor of rates, got {input.dtype}")
    be = input._backend
    rates = be.to_numpy(input._data)
    if not (np.isfinite(rates) & (rates >= 0)).all():
        raise RuntimeError(f"{who}: expected finite rates >= 0; the input holds negative, NaN or infinite values")
    rng = stream(who, generator, input.device)
    return make_tensor(be.cast(be.asarray(rng.poisson(input._data)), input.dtype), be)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None):
    """Normal samples, as ``torch.normal``: tensor ``mean`` and/or ``std`` (broadcast
    together), or numbers with ``size``. The result carries no gradient (PyTorch's
    gives zeros to mean and std; use ``mean + std * randn_like(mean)`` to
    differentiate through a sample)."""
    from .tensor_base import TensorBase
    who = "normal"
    tensors = [t for t in (mean, std) if isinstance(t, TensorBase)]
    for name, v in (("mean", mean), ("std", std)):
        if not isinstance(v, TensorBase) and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
            raise TypeError(f"{who}: {name} must be a tensor or a number, got {type(v).__name__}")
    if not tensors:
        if size is None:
            raise TypeError(f"{who}: with a number mean and std, give size (e.g. normal(0.0, 1.0, size=(3,)))")
        shape = tuple(size) if isinstance(size, (tuple, list)) else (size,)
        be = get_backend(device or "cpu")
        out_dtype = as_dtype(dtype, who) if dtype is not None else get_default_dtype()
    else:
        if size is not None:
            raise TypeError(f"{who}: size is only for a number mean and std; the tensors give the shape")
        if dtype is not None:
            raise TypeError(f"{who}: dtype is only for a number mean and std; the tensors give the dtype")
        be = tensors[0]._backend
        if any(t._backend is not be for t in tensors):
            raise RuntimeError(f"{who}: mean and std are on different devices ({mean.device} and {std.device})")
        shape = np.broadcast_shapes(*(t.shape for t in tensors))
        out_dtype = tensors[0].dtype
    float_only(who, out_dtype)
    std_values = be.to_numpy(std._data) if isinstance(std, TensorBase) else np.asarray(std)
    if not (std_values >= 0).all():
        raise RuntimeError(f"{who}: std must be >= 0, got negative or NaN values")
    if generator is None:
        z = be.randn(shape, "float64")
    else:
        z = be.asarray(stream(who, generator, be.name).standard_normal(shape), "float64")
    raw = [v._data if isinstance(v, TensorBase) else v for v in (mean, std)]
    return make_tensor(be.cast(be.add(be.mul(z, raw[1]), raw[0]), out_dtype), be)


class SamplingMethods:
    """Tensor methods that draw: ``bernoulli`` and the in-place fills PyTorch has."""

    __slots__ = ()

    def bernoulli(self, p=None, *, generator=None):
        return bernoulli(self, p, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 1 (probability p, a number or a tensor of probabilities) or 0."""
        from .tensor_base import TensorBase
        if isinstance(p, TensorBase):
            return self._random_fill("bernoulli_", lambda be: be.cast(
                bernoulli(p.expand(*self.shape), generator=generator)._data, self.dtype))
        p = _probability("bernoulli_", p)
        return self._random_fill("bernoulli_", lambda be: be.cast(be.less(self._draw("bernoulli_", generator), p),
                                                                  self.dtype))

    def exponential_(self, lambd=1.0, *, generator=None):
        """Fill with exponential samples of rate ``lambd``: -log(1 - u) / lambd."""
        lambd = _positive("exponential_", "lambd", lambd)
        return self._random_fill("exponential_", lambda be: be.cast(be.div(be.neg(be.math(
            "log1p", be.neg(self._draw("exponential_", generator)))), lambd), self.dtype))

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Fill with Cauchy samples: median + sigma * tan(pi (u - 1/2))."""
        number_arg("cauchy_", "median", median)
        sigma = _positive("cauchy_", "sigma", sigma)
        return self._random_fill("cauchy_", lambda be: be.cast(be.add(be.mul(be.math("tan", be.mul(be.sub(
            self._draw("cauchy_", generator), 0.5), np.pi)), sigma), median), self.dtype))

    def geometric_(self, p, *, generator=None):
        """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
        p = _probability("geometric_", p)
        if p == 0.0:
            raise ValueError("geometric_: p must be in (0, 1], got 0")

        def draw(be):
            u = self._draw("geometric_", generator)
            if p == 1.0:
                return be.full(self.shape, 1, self.dtype)
            trials = be.math("ceil", be.div(be.math("log1p", be.neg(u)), np.log1p(-p)))
            return be.cast(be.maximum(trials, 1.0), self.dtype)
        return self._random_fill("geometric_", draw)

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """Fill with exp(mean + std * z), z standard normal."""
        number_arg("log_normal_", "mean", mean)
        std = _positive("log_normal_", "std", std)
        return self._random_fill("log_normal_", lambda be: be.cast(be.exp(be.add(be.mul(
            self._draw("log_normal_", generator, normal=True), std), mean)), self.dtype))

    def random_(self, from_=0, to=None, *, generator=None):
        """Fill with integers uniform on [from_, to); ``to`` defaults to 2^(mantissa bits + 1),
        the integers the dtype holds exactly, as PyTorch (``from`` is spelled ``from_`` here:
        a Python keyword)."""
        if not is_float(self.dtype):
            raise RuntimeError(f"random_: tinygrad_bn fills floating point tensors only; this one is {self.dtype} "
                               "(use randint for integers)")
        if to is None:
            from_, to = (0, from_) if from_ else (0, 2 ** (np.finfo(self.dtype).nmant + 1))
        for name, v in (("from", from_), ("to", to)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"random_: {name} must be an int, got {type(v).__name__} {v!r}")
        if not from_ < to:
            raise ValueError(f"random_: expected from < to, got from={from_}, to={to}")
        return self._random_fill("random_", lambda be: be.cast(be.math("floor", be.add(be.mul(
            self._draw("random_", generator), to - from_), from_)), self.dtype))

    def _draw(self, who, generator, normal=False):
        be = self._backend
        if generator is None:
            return be.randn(self.shape, "float64") if normal else be.rand(self.shape, "float64")
        rng = stream(who, generator, self.device)
        return be.asarray(rng.standard_normal(self.shape) if normal else rng.random(self.shape), "float64")
