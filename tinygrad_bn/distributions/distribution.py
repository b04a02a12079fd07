"""``Distribution``: the base of the distributions, with ``torch.distributions.Distribution``'s
public interface: ``batch_shape``, ``event_shape``, ``sample``, ``rsample``,
``log_prob``, ``entropy``, ``mean``, ``mode``, ``variance``, ``stddev``, ``expand``,
``validate_args`` and ``set_default_validate_args``.

``arg_constraints`` and ``support`` are constraint objects (``constraints.py``)
as in PyTorch; a failing check raises ValueError, as PyTorch's does, with our
wording."""
import numbers
import warnings

import numpy as np

from ..arguments import devices_differ
from ..device import Size
from ..grad_mode import no_grad
from ..tensor import Tensor
from .utils import broadcast_all


def _shape_arg(who, shape, name):
    if isinstance(shape, (tuple, list)) and all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in shape):
        return Size(int(n) for n in shape)
    raise TypeError(f"{who}: {name} must be a tuple of non-negative ints such as (100,) (a torch.Size), "
                    f"got {type(shape).__name__} {shape!r}")


def _first_bad(value, ok, event_dim):
    """The first element (or event: a list) of ``value`` where ``ok`` (one bool per event,
    perhaps of a broadcast shape) is False."""
    v = value.detach().cpu().numpy()
    event = v.shape[v.ndim - event_dim:] if event_dim else ()
    try:
        v = np.broadcast_to(v, ok.shape + event)
    except ValueError:
        return v.flat[0].item()
    return v[~ok][0].tolist()


class Distribution:
    """A batch of probability distributions of one family.

    ``batch_shape``: the shape of the batch of independent distributions the
    parameters describe; ``event_shape``: the shape of one draw (``()`` for the
    scalar ones here). ``sample(sample_shape)`` returns a tensor of shape
    ``sample_shape + batch_shape + event_shape``.

    ``validate_args`` (default: True, as PyTorch's under ``python`` without
    ``-O``): check the parameters when made and the values given to
    ``log_prob``; a failing check raises ValueError. Checking reads the values
    back to the host (a synchronisation on a GPU), as in PyTorch.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turn checking on or off for distributions made from now on without ``validate_args``."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        who = type(self).__name__
        self._batch_shape = _shape_arg(who, batch_shape, "batch_shape")
        self._event_shape = _shape_arg(who, event_shape, "event_shape")
        if validate_args is not None:
            if validate_args not in (True, False):
                raise ValueError(f"{who}: validate_args must be True, False or None, got {validate_args!r}")
            self._validate_args = bool(validate_args)

    @property
    def arg_constraints(self):
        """{parameter name: the constraint it must satisfy}."""
        raise NotImplementedError(f"{type(self).__name__} does not define arg_constraints")

    @property
    def support(self):
        """The constraint every draw satisfies (what log_prob accepts)."""
        raise NotImplementedError(f"{type(self).__name__} does not define its support")

    # ------------------------------------------------------------------ shapes
    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        """``sample_shape + batch_shape + event_shape``: the shape of ``sample(sample_shape)``."""
        shape = _shape_arg(f"{type(self).__name__}.sample", sample_shape, "sample_shape")
        return Size(shape + self._batch_shape + self._event_shape)

    # what expand() expands: attribute names (None: the parameters _params() names, where each is an
    # attribute of that name); a subclass names its own where the parameters are derived or held elsewhere
    _expand_attrs = None
    # per-instance attributes expand() carries over as they are (e.g. the number of categories)
    _expand_copies = ()

    def expand(self, batch_shape, _instance=None):
        """This distribution with its parameters expanded (views) to ``batch_shape``: each
        attribute ``_expand_attrs`` names (by default the parameters) expanded, those
        ``_expand_copies`` names carried over, ``validate_args`` kept."""
        shape = self._expanded_batch(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        names = [name for name, _ in self._params()] if self._expand_attrs is None else self._expand_attrs
        for name in names:
            setattr(new, name, self._expanded(getattr(self, name), shape))
        for name in self._expand_copies:
            setattr(new, name, getattr(self, name))
        Distribution.__init__(new, shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _expanded(self, value, shape):
        """``value`` for the batch ``shape``: a tensor expanded (its dims past the batch, as an
        event or the categories, kept), a distribution by its own ``expand``, None as None."""
        if value is None:
            return None
        if isinstance(value, Distribution):
            return value.expand(shape)
        return value.expand(*shape, *value.shape[len(self._batch_shape):])

    def _expanded_batch(self, batch_shape):
        """``batch_shape`` as a Size, checked to be one the current batch expands to."""
        who = f"{type(self).__name__}.expand"
        batch_shape = _shape_arg(who, batch_shape, "batch_shape")
        old = tuple(self._batch_shape)
        fits = len(batch_shape) >= len(old) and all(
            n in (1, m) for n, m in zip(reversed(old), reversed(batch_shape)))
        if not fits:
            raise RuntimeError(f"{who}: cannot expand batch_shape {tuple(self._batch_shape)} to "
                               f"{tuple(batch_shape)}; only dims of size 1 grow")
        return batch_shape

    # ------------------------------------------------------------------ statistics
    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} has no mean here")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} has no mode here")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} has no variance here")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__}.entropy is not implemented")

    def perplexity(self):
        """exp(entropy)."""
        return self.entropy().exp()

    # ------------------------------------------------------------------ draws and densities
    def sample(self, sample_shape=()):
        """Draws of shape ``sample_shape + batch_shape + event_shape``, with no gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def sample_n(self, n):
        """``sample((n,))``; deprecated in PyTorch, kept for old scripts."""
        warnings.warn("sample_n will be removed in a future version of PyTorch; use sample((n,))",
                      FutureWarning, stacklevel=2)
        return self.sample((n,))

    def rsample(self, sample_shape=()):
        """Reparameterized draws: gradients flow to the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler (rsample); "
                                  "use sample(), or a distribution with has_rsample = True such as Normal")

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__}.log_prob is not implemented")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.cdf is not implemented")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.icdf is not implemented")

    def enumerate_support(self, expand=True):
        raise NotImplementedError(f"{type(self).__name__}.enumerate_support is not implemented")

    # ------------------------------------------------------------------ checks
    def _check_parameters(self, fixes=None, **params):
        """Check each parameter given against its ``arg_constraints`` entry
        (``fixes``: {name: how to fix it}, for the message)."""
        for name, value in params.items():
            constraint = self.arg_constraints[name]
            self._check_parameter(name, value, constraint.check(value), str(constraint), (fixes or {}).get(name, ""))

    def _check_parameter(self, name, value, valid, expected, fix=""):
        """ValueError unless ``valid`` (a bool tensor, one per element of ``value``) holds everywhere."""
        ok = valid.cpu().numpy()
        if ok.all():
            return
        bad = value.detach().cpu().numpy()[~ok] if value.shape == valid.shape else None
        example = "" if bad is None or not bad.size else f" (e.g. {bad.flat[0].item()!r})"
        raise ValueError(f"{type(self).__name__}: expected parameter {name} (a tensor of shape {tuple(value.shape)}) "
                         f"to be {expected}, but {int((~ok).sum())} of its {ok.size} values are not{example}"
                         + (f"; {fix}" if fix else ""))

    def _validate_sample(self, value, op="log_prob"):
        """Check a value given to ``op`` (log_prob, cdf): a tensor on the parameters'
        device, broadcastable to ``batch_shape + event_shape`` and in the support."""
        who = f"{type(self).__name__}.{op}"
        if not isinstance(value, Tensor):
            # a ValueError, not a TypeError: PyTorch's (scripts may catch it)
            raise ValueError(f"{who}: the value must be a Tensor, got {type(value).__name__}; "  # noqa: TRY004
                             "make one with tinygrad_bn.tensor(...)")
        device = self._param_device()
        if value.device != device:
            raise devices_differ(who, device, value.device, "the parameters and the value")
        n_event = len(self._event_shape)
        if n_event and tuple(value.shape[-n_event:]) != tuple(self._event_shape):
            raise ValueError(f"{who}: the value's last dims {tuple(value.shape[-n_event:])} must be the "
                             f"event_shape {tuple(self._event_shape)}")
        expected = tuple(self._batch_shape + self._event_shape)
        for got, want in zip(reversed(value.shape), reversed(expected)):
            if got != 1 and want != 1 and got != want:
                raise ValueError(f"{who}: a value of shape {tuple(value.shape)} does not broadcast with "
                                 f"batch_shape + event_shape {expected}")
        support = self.support
        inside = support.check(value)
        ok = inside.cpu().numpy()
        if not ok.all():
            raise ValueError(f"{who}: expected a value in the support ({support}), but "
                             f"{int((~ok).sum())} of the values are not "
                             f"(e.g. {_first_bad(value, ok, support.event_dim)!r})")

    def _param_device(self):
        return self._params()[0][1].device

    def _params(self):
        """[(name, tensor)] of the parameters as given (for repr, the device and ``expand``): by
        default those ``arg_constraints`` names, each read as an attribute."""
        return [(name, getattr(self, name)) for name in self.arg_constraints]

    def _init_params(self, fixes, validate_args, **params):
        """The parameters (numbers or floating point tensors) broadcast together under this
        class's name; the batch shape is their shape, and they are checked against
        ``arg_constraints`` when validating (``fixes``: {name: how to fix it})."""
        tensors = broadcast_all(type(self).__name__, **params)
        Distribution.__init__(self, tensors[0].shape, validate_args=validate_args)
        if self._validate_args:
            self._check_parameters(fixes, **dict(zip(params, tensors)))
        return tensors

    def __repr__(self):
        shown = ", ".join(f"{name}: {t.item() if t.numel() == 1 else repr(Size(t.shape))}" for name, t in self._params())
        return f"{type(self).__name__}({shown})"
