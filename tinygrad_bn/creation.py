"""Functions that make new leaf tensors: ``tensor``, ``as_tensor``, ``zeros``,
``ones``, ``full``, ``eye``, ``rand``, ``randn``, ``randint``, ``arange``,
``linspace``, ``logspace`` and their ``*_like`` twins, as in PyTorch."""
import numbers

from .arguments import number_arg, tensor_arg
from .backends import get_backend
from . import dtypes
from .dtypes import as_dtype, bool_, float16, float32, float64, float_only, int32, int64, is_float
from .ops.index_args import fill_number, python_number
from .ops.movement import shape_arg
from .tensor import Tensor
from .tensor_base import make_tensor
from .random import stream


def tensor(data, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (lists, scalars, NumPy arrays).

    NumPy arrays keep their dtype; Python floats become float32 and ints int64.
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def from_numpy(array) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array (as ``torch.from_numpy``)."""
    if not hasattr(array, "__array_interface__") or array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: expected a numeric NumPy array, got {type(array).__name__}"
                        f"{' of dtype ' + str(array.dtype) if hasattr(array, 'dtype') else ''}")
    if not array.dtype.isnative:  # as torch.from_numpy: memory is shared, so no conversion
        raise TypeError(f"from_numpy: the array's byte order ({array.dtype.str}) is not this machine's; "
                        "convert it with array.astype(array.dtype.newbyteorder('=')) or use tinygrad_bn.tensor")
    return make_tensor(array, get_backend("cpu"))


def _make(who, size, dtype, requires_grad, device, fill):
    """A leaf from ``fill(backend, shape, dtype)``, after checking the arguments."""
    try:
        shape = shape_arg(size, who)
    except TypeError:
        raise TypeError(f"{who}: expected sizes as ints, got {size!r}") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"{who}: sizes must be >= 0, got {shape}")
    dtype = as_dtype(dtype, who) or dtypes.default_float
    if requires_grad and not is_float(dtype):
        raise RuntimeError(f"{who}: only floating point tensors can require gradients, got {dtype}")
    be = get_backend(device)
    return make_tensor(fill(be, shape, dtype), be, bool(requires_grad))


def zeros(*size, dtype=None, requires_grad=False, device="cpu"):
    return _make("zeros", size, dtype, requires_grad, device, lambda be, s, d: be.zeros(s, d))


def ones(*size, dtype=None, requires_grad=False, device="cpu"):
    return _make("ones", size, dtype, requires_grad, device, lambda be, s, d: be.full(s, 1, d))


def empty(*size, dtype=None, requires_grad=False, device="cpu"):
    """Zeros: an uninitialised tensor would be one more way to read garbage."""
    return _make("empty", size, dtype, requires_grad, device, lambda be, s, d: be.zeros(s, d))


def full(size, fill_value, dtype=None, requires_grad=False, device="cpu"):
    return filled("full", (size,), fill_value, dtype, requires_grad, device)


def filled(who, size, fill_value, dtype, requires_grad, device):
    """A leaf of ``size`` (the sizes as given: ints or one sequence) filled with ``fill_value``, its
    errors naming ``who``: ``full`` and the tensor methods new_full, new_zeros, new_ones, new_empty.
    A 0-d tensor gives its number, as PyTorch reads one as a Scalar."""
    given = _scalar_of(who, fill_value)
    fill_value = python_number(given)
    if not isinstance(fill_value, bool):
        number_arg(who, "fill_value", fill_value, finite=False)
    if dtype is None:  # (PyTorch reads NumPy's bool as a float: only a Python bool makes a bool tensor)
        dtype = (bool_ if isinstance(given, bool) else dtypes.default_float if isinstance(fill_value, bool)
                 else int64 if isinstance(fill_value, numbers.Integral) else dtypes.default_float)
    value = fill_number(who, as_dtype(dtype, who), fill_value)  # PyTorch's cast: truncated, wrapped or refused
    return _make(who, size, dtype, requires_grad, device, lambda be, s, d: be.full(s, value, d))


def _scalar_of(who, value):
    """A 0-d tensor's number (a Python scalar); anything else as it is."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"{who}: fill_value must be a number or a 0-d tensor, got a tensor of shape "
                               f"{tuple(value.shape)}")
        return value.item()
    return value


def rand(*size, generator=None, dtype=None, requires_grad=False, device="cpu"):
    """Uniform on [0, 1) from the device's generator (seeded by ``manual_seed``) or ``generator``."""
    float_only("rand", dtype)
    rng = stream("rand", generator, device)
    return _make("rand", size, dtype, requires_grad, device,
                 lambda be, s, d: be.rand(s, d) if generator is None else rng.random(s).astype(d, copy=False))


def randn(*size, generator=None, dtype=None, requires_grad=False, device="cpu"):
    """Standard normal from the device's generator (seeded by ``manual_seed``) or ``generator``."""
    float_only("randn", dtype)
    rng = stream("randn", generator, device)
    return _make("randn", size, dtype, requires_grad, device,
                 lambda be, s, d: be.randn(s, d) if generator is None else rng.standard_normal(s).astype(d, copy=False))


def randint(*args, size=None, generator=None, dtype=None, requires_grad=False, device="cpu"):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)``, as ``torch.randint`` (int64 unless ``dtype``)."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        args = (0,) + args
    if len(args) != 3:
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got {len(args)} arguments")
    low, high, size = args
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"randint: {name} must be an int, got {type(v).__name__} {v!r}")
    if not low < high:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint: size must be a tuple of ints such as (32,), got {type(size).__name__} {size!r}")
    rng = stream("randint", generator, device)
    return _make("randint", tuple(size), dtype or int64, requires_grad, device,
                 lambda be, s, d: be.asarray(rng.integers(int(low), int(high), size=s)).astype(d, copy=False))


def randperm(n, *, generator=None, dtype=None, requires_grad=False, device="cpu"):
    """A random permutation of 0 .. n-1, as ``torch.randperm``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    rng = stream("randperm", generator, device)
    return _make("randperm", (int(n),), dtype or int64, requires_grad, device,
                 lambda be, s, d: be.asarray(rng.permutation(int(n))).astype(d, copy=False))


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device="cpu"):
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        number_arg("arange", name, v)
    if step == 0:
        raise ValueError("arange: step must be non-zero, got 0")
    if (end - start) * step < 0:
        raise ValueError(f"arange: step {step} points away from end {end} (start {start}); "
                         "expected a step with the sign of end - start")
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = int64 if ints else dtypes.default_float
    return _make("arange", (), dtype, requires_grad, device,
                 lambda be, s, d: be.arange(start, end, step, d))


def inclusive_range(start=0, end=None, step=1, *, dtype=None, requires_grad=False, device="cpu"):
    """``tinygrad_bn.range`` (deprecated in PyTorch): values from start to end *inclusive*
    every step (float by default), as ``torch.range``, with a warning; use ``arange``.
    (Named otherwise here so the builtin ``range`` stays itself in this module.)"""
    import warnings
    warnings.warn("tinygrad_bn.range is deprecated, as torch.range is: use arange (which excludes end)",
                  UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        number_arg("range", name, v)
    if step == 0 or (end - start) * step < 0:
        raise ValueError(f"range: step {step} must be non-zero and point from start {start} to end {end}")
    count = int((end - start) // step) + 1
    return linspace(start, start + (count - 1) * step, count, dtype=dtype or dtypes.default_float,
                    requires_grad=requires_grad, device=device) if count > 1 else \
        full((1,), start, dtype=dtype or dtypes.default_float, requires_grad=requires_grad, device=device)


def linspace(start, end, steps, *, dtype=None, requires_grad=False, device="cpu"):
    """``steps`` values evenly spaced from start to end, both included, as ``torch.linspace``
    (computed in float64 as start + i * step, the last one exactly end, then cast)."""
    for name, v in (("start", start), ("end", end)):
        number_arg("linspace", name, v)
    _steps_arg("linspace", steps)

    def fill(be, s, d):
        if steps <= 1:
            return be.full((steps,), start, d)
        step = (end - start) / (steps - 1)
        values = be.add(be.mul(be.arange(0, steps, 1, "float64"), step), start)
        be.setitem(values, -1, end)
        return be.cast(values, d)
    return _make("linspace", (steps,), dtype, requires_grad, device, fill)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False, device="cpu"):
    """base ** linspace(start, end, steps), as ``torch.logspace``."""
    number_arg("logspace", "base", base)
    exponents = linspace(start, end, steps, dtype=float64, device=device)
    be = exponents._backend
    return _make("logspace", (steps,), dtype, requires_grad, device,
                 lambda _be, s, d: be.cast(be.pow(base, exponents._data), d))


def eye(n, m=None, *, dtype=None, requires_grad=False, device="cpu"):
    """The n x m identity (m = n by default): ones on the diagonal, as ``torch.eye``."""
    for name, v in (("n", n), ("m", m if m is not None else n)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"eye: {name} must be an int >= 0, got {v!r}")
    m = n if m is None else m

    def fill(be, s, d):
        out = be.zeros(s, d)
        k = be.arange(0, min(n, m), 1, "int64")
        be.setitem(out, (k, k), 1)
        return out
    return _make("eye", (n, m), dtype, requires_grad, device, fill)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it can, as ``torch.as_tensor``: a tensor
    of that dtype and device is returned as it is, a CPU NumPy array of that dtype is
    shared (``from_numpy``); anything else is copied."""
    if isinstance(data, Tensor):
        return data.to(dtype=as_dtype(dtype, "as_tensor") or data.dtype, device=device or data.device)
    wanted = as_dtype(dtype, "as_tensor")
    if (hasattr(data, "__array_interface__") and getattr(data, "dtype", None) is not None
            and (wanted is None or data.dtype == wanted) and device in (None, "cpu")):
        try:
            return from_numpy(data)
        except TypeError:
            pass  # not a numeric array with this machine's byte order: copied below
    return tensor(data, dtype=dtype, device=device or "cpu")


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``torch.asarray``: as ``as_tensor``, and ``copy=True`` always copies,
    ``copy=False`` refuses to (an error where a copy is needed)."""
    if copy:
        out = tensor(obj.detach().cpu().numpy() if isinstance(obj, Tensor) else obj, dtype=dtype,
                     device=device or getattr(obj, "device", "cpu"))
    else:
        out = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and not (out is obj or getattr(out, "_data", None) is obj):
            raise ValueError("asarray: copy=False, but the data must be copied (another dtype, device or a "
                             "Python sequence); pass copy=None to allow it")
    if requires_grad:
        out.requires_grad_(True)
    return out


def _steps_arg(who, steps):
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"{who}: steps must be an int >= 0, got {steps!r}")


def _like(fn, t, dtype, requires_grad, device, **draw):
    tensor_arg(fn.__name__ + "_like", t)
    return fn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device or t.device, **draw)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    return _like(zeros, t, dtype, requires_grad, device)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    return _like(ones, t, dtype, requires_grad, device)


def rand_like(t, dtype=None, requires_grad=False, device=None, *, generator=None):
    """Uniform on [0, 1) in t's shape, dtype and device, from the device's generator or ``generator``."""
    return _like(rand, t, dtype, requires_grad, device, generator=generator)


def randn_like(t, dtype=None, requires_grad=False, device=None, *, generator=None):
    """Standard normal in t's shape, dtype and device, from the device's generator or ``generator``."""
    return _like(randn, t, dtype, requires_grad, device, generator=generator)


def empty_like(t, dtype=None, requires_grad=False, device=None):
    """Zeros of t's shape (as ``empty``: no uninitialised memory)."""
    return _like(empty, t, dtype, requires_grad, device)


def randint_like(t, low=0, high=None, *, generator=None, dtype=None, requires_grad=False, device=None):
    """Integers on [low, high) in t's shape (``randint_like(t, high)`` takes high alone), as PyTorch."""
    tensor_arg("randint_like", t)
    if high is None:
        low, high = 0, low
    return randint(low, high, t.shape, generator=generator, dtype=dtype or t.dtype, requires_grad=requires_grad,
                   device=device or t.device)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    tensor_arg("full_like", t)
    return filled("full_like", (t.shape,), fill_value, dtype or t.dtype, requires_grad, device or t.device)


def _legacy_constructor(dtype, name):
    """PyTorch's legacy typed constructors: ``FloatTensor(2, 3)`` (sizes: zeros here,
    uninitialized in PyTorch) or ``FloatTensor([1, 2])`` (data)."""
    def constructor(*args, device="cpu"):
        if args and all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return zeros(*args, dtype=dtype, device=device)
        if len(args) == 1:
            return tensor(args[0], dtype=dtype, device=device)
        if not args:
            return zeros(0, dtype=dtype, device=device)
        raise TypeError(f"{name}: expected sizes (ints) or one sequence of data, got "
                        f"{', '.join(type(a).__name__ for a in args)}")
    constructor.__name__ = constructor.__qualname__ = name
    return constructor


FloatTensor = _legacy_constructor(float32, "FloatTensor")
DoubleTensor = _legacy_constructor(float64, "DoubleTensor")
HalfTensor = _legacy_constructor(float16, "HalfTensor")
LongTensor = _legacy_constructor(int64, "LongTensor")
IntTensor = _legacy_constructor(int32, "IntTensor")
BoolTensor = _legacy_constructor(bool_, "BoolTensor")
ByteTensor = _legacy_constructor(dtypes.uint8, "ByteTensor")
CharTensor = _legacy_constructor(dtypes.int8, "CharTensor")
ShortTensor = _legacy_constructor(dtypes.int16, "ShortTensor")
