"""Argument checks shared by the public entry points, so every refusal says the
same three things: which op, what it got, what it expected."""
import functools
import inspect
import math
import numbers

from .tensor_base import TensorBase


def _kind(value):
    return type(value).__name__


def devices_differ(who, first, second, which=None):
    """The error for tensors on two devices where one is needed: the op, both
    devices (and, given ``which``, the arguments they belong to), the fix."""
    arguments = f" ({which})" if which else ""
    return RuntimeError(f"{who}: expected all tensors on the same device, got {first} and {second}{arguments}; "
                        "move them with .to(device)")


def tensor_arg(who, value, name="input"):
    """``value`` itself when it is a Tensor, else a TypeError naming ``who``."""
    if not isinstance(value, TensorBase):
        raise TypeError(f"{who}: {name} must be a Tensor, got {_kind(value)}; "
                        "make one with tinygrad_bn.tensor(...) first")
    return value


def float_tensor_arg(who, value, name="input"):
    tensor_arg(who, value, name)
    if value.dtype.kind != "f":
        raise TypeError(f"{who}: {name} must be floating point, got dtype {value.dtype}; call .float() first")
    return value


def number_arg(who, name, value, low=None, high=None, low_open=False, integer=False, allow_none=False,
               finite=True):
    """``value`` when it is a number (finite, unless ``finite=False``) within
    [low, high] (``low_open``: above low; a NaN is within no bound); bools are
    not numbers here.
    Otherwise a TypeError or ValueError."""
    if value is None and allow_none:
        return value
    wanted = "an int" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral if integer else numbers.Real):
        raise TypeError(f"{who}: {name} must be {wanted}, got {_kind(value)} {value!r}")
    if finite and not integer and not math.isfinite(value):
        raise ValueError(f"{who}: {name} must be a finite number, got {value!r}")
    # written as "not within" so that a NaN (every comparison false) is outside any bound
    too_low = low is not None and not (value > low if low_open else value >= low)
    too_high = high is not None and not value <= high
    if too_low or too_high:
        lo = "" if low is None else (f"> {low}" if low_open else f">= {low}")
        hi = "" if high is None else f"<= {high}"
        raise ValueError(f"{who}: {name} must be {' and '.join(s for s in (lo, hi) if s)}, got {value!r}")
    return value


def choice_arg(who, name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{who}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def iterable_arg(who, name, value):
    """``list(value)``, or a TypeError when ``value`` is not iterable (or is a str)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{who}: {name} must be an iterable of tensors, got {_kind(value)}")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{who}: {name} must be an iterable of tensors, got {_kind(value)}") from None


# ------------------------------------------------------------------ NumPy's spellings of dim
# PyTorch's argument parser takes NumPy's axis= for dim= and keepdims= for keepdim= in every
# op of its own that has a dim; the ones it writes in Python do not (Tensor.split, norm,
# unique, unique_consecutive, unflatten; F.softmax and the other functionals).
DIM_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def varargs_or_keyword(who, name, args, value):
    """The sizes or dims a method takes as ``*args`` (``x.flip(0, 1)``, ``x.flip((0, 1))``)
    or, as PyTorch also takes them, by keyword (``x.flip(dims=(0, 1))``): ``args``, or
    ``(value,)`` when given by keyword; both at once is refused."""
    if value is None:
        return args
    if args:
        raise TypeError(f"{who}: got {name} both by position {args!r} and as {name}={value!r}; pass them one way")
    return (value,)


def accepts_axis(fn, who=None):
    """``fn`` taking ``axis=`` for its ``dim=`` (and ``keepdims=`` for ``keepdim=`` when it has
    one), as PyTorch; both spellings at once are refused. The one normalizer of these aliases."""
    params = inspect.signature(fn).parameters
    aliases = tuple((alias, name) for alias, name in DIM_ALIASES if name in params)
    who = who or fn.__name__

    @functools.wraps(fn)
    def with_aliases(*args, **kwargs):
        if kwargs:
            for alias, name in aliases:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{who}: pass {name} or {alias} (its alias), not both")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    with_aliases.accepts_axis = True
    return with_aliases


def accept_axis_in_methods(cls, python_level=()):
    """Every method of ``cls`` with a ``dim`` parameter takes ``axis=`` too (``accepts_axis``),
    but for the names in ``python_level`` (PyTorch's methods written in Python, which refuse it)."""
    for name in dir(cls):
        if name.startswith("_") or name in python_level:
            continue
        fn = inspect.getattr_static(cls, name)
        if not inspect.isfunction(fn) or getattr(fn, "accepts_axis", False):
            continue
        if "dim" in inspect.signature(fn).parameters:
            setattr(cls, name, accepts_axis(fn, name))
