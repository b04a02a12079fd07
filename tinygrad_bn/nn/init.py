"""Weight initialisers (in place, under no_grad), named as in ``torch.nn.init``.

Each writes the tensor's values and returns the tensor. The random ones draw
from the tensor's device generator (seeded by ``tinygrad_bn.manual_seed``) or
from ``generator=`` (a ``tinygrad_bn.Generator`` on that device), as PyTorch's
take one. The numbers differ from PyTorch's (another generator); the
distributions are the same.
"""
import math
import warnings

from ..arguments import choice_arg, float_tensor_arg, number_arg
from ..creation import randperm
from ..linalg_host import random_orthogonal
from ..random import stream
from ..tensor_base import array_of, backend_of, write_in_place


def _fill(t, draw, who):
    """Overwrite ``t`` in place with ``draw(backend, shape, dtype)`` from its device's generator."""
    float_tensor_arg(who, t, "tensor")
    write_in_place(t, "copyto", draw(backend_of(t), t.shape, t.dtype))
    return t


def _uniform(t, low, high, dtype, generator, who):
    """Uniform draws on [low, high) of ``t``'s shape, as a ``dtype`` array of its device."""
    be = backend_of(t)
    if generator is None:
        return be.uniform(low, high, t.shape, dtype)
    u = be.asarray(stream(who, generator, t.device).random(t.shape), "float64")
    return be.cast(be.add(be.mul(u, high - low), low), dtype)


def _normal(t, mean, std, dtype, generator, who):
    """Normal draws of ``t``'s shape, as a ``dtype`` array of its device."""
    be = backend_of(t)
    if generator is None:
        return be.normal(mean, std, t.shape, dtype)
    z = be.asarray(stream(who, generator, t.device).standard_normal(t.shape), "float64")
    return be.cast(be.add(be.mul(z, std), mean), dtype)


def _fans(t, who):
    float_tensor_arg(who, t, "tensor")
    if t.ndim < 2:
        raise ValueError(f"{who}: fan in and fan out need a tensor with at least 2 dims, got shape {t.shape} "
                         f"({t.ndim} dims)")
    receptive = 1
    for n in t.shape[2:]:
        receptive *= n
    return t.shape[1] * receptive, t.shape[0] * receptive


def uniform_(t, a=0.0, b=1.0, generator=None):
    number_arg("uniform_", "a", a)
    number_arg("uniform_", f"b (with a={a})", b, a)
    return _fill(t, lambda be, shape, dtype: _uniform(t, a, b, dtype, generator, "uniform_"), "uniform_")


def normal_(t, mean=0.0, std=1.0, generator=None):
    number_arg("normal_", "mean", mean)
    number_arg("normal_", "std", std, 0.0)
    return _fill(t, lambda be, shape, dtype: _normal(t, mean, std, dtype, generator, "normal_"), "normal_")


def _norm_cdf(x):
    """The standard normal CDF of a Python number."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


# Giles' double precision approximation of erfinv ("Approximating the erfinv
# function", GPU Computing Gems Jade Edition, 2011): a polynomial in
# w = -log(1 - x^2) on each of three ranges of w
_ERFINV_RANGES = (
    (6.25, False, 3.125, (
        -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
        1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
        6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
        2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
        1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
        4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
        0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
        0.24015818242558961693, 1.6536545626831027356)),
    (16.0, True, 3.25, (
        2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
        1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
        2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
        6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
        0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
        -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
        3.0838856104922207635)),
    (None, True, 5.0, (
        -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
        -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
        2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
        -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
        7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
        1.0103004648645343977, 4.8499064014085844221)),
)


def _erfinv(be, x):
    """erfinv of a float64 array with |x| < 1, by Giles' approximation (about
    1e-15 relative error). Made of contract names, so it runs on any device."""
    w = be.neg(be.log(be.mul(be.sub(1.0, x), be.add(1.0, x))))
    p = None
    for upper, root, shift, coefficients in reversed(_ERFINV_RANGES):
        v = be.sub(be.sqrt(be.maximum(w, 0.0)) if root else w, shift)  # w may round below 0
        value = coefficients[0]
        for c in coefficients[1:]:
            value = be.add(be.mul(value, v), c)
        p = value if upper is None else be.where(be.less(w, upper), value, p)
    return be.mul(p, x)


def trunc_normal_(t, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Values from N(mean, std^2) truncated to [a, b] (absolute bounds, as in
    PyTorch), by PyTorch's method: a uniform draw between the bounds' normal
    CDFs, mapped back through the inverse CDF (in float64), then clamped to
    [a, b]. As in PyTorch, it warns when mean is more than 2 std outside [a, b],
    where that method loses accuracy."""
    who = "trunc_normal_"
    float_tensor_arg(who, t, "tensor")
    number_arg(who, "mean", mean)
    number_arg(who, "std", std, 0.0, low_open=True)
    number_arg(who, "a", a, finite=False)
    if math.isnan(a):
        raise ValueError(f"{who}: a, the lower bound of the values, must be a number or -inf, got nan")
    number_arg(who, f"b (with a={a})", b, a, low_open=True, finite=False)
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(f"{who}: mean {mean} is more than 2 std ({std}) from [a, b] = [{a}, {b}]; the distribution "
                      "of the values may be inaccurate", stacklevel=2)
    low, high = _norm_cdf((a - mean) / std), _norm_cdf((b - mean) / std)
    be = backend_of(t)
    u = _uniform(t, 2 * low - 1, 2 * high - 1, "float64", generator, who)
    # |u| < 1 keeps erfinv finite (an infinite bound would give u = -1 exactly once in 2^53 draws)
    u = be.clip(u, -1.0 + 2.0 ** -52, 1.0 - 2.0 ** -53)
    values = be.add(be.mul(_erfinv(be, u), std * math.sqrt(2.0)), mean)
    write_in_place(t, "copyto", be.cast(be.clip(values, a, b), t.dtype))
    return t


def constant_(t, value, who="constant_"):
    float_tensor_arg(who, t, "tensor")
    number_arg(who, "value", value, finite=False)
    return write_in_place(t, "fill", value)


def zeros_(t):
    return constant_(t, 0.0, "zeros_")


def ones_(t):
    return constant_(t, 1.0, "ones_")


def eye_(t):
    """The identity matrix (ones on the diagonal, zeros elsewhere) of a 2-d
    tensor, square or not, as ``torch.nn.init.eye_``."""
    who = "eye_"
    float_tensor_arg(who, t, "tensor")
    if t.ndim != 2:
        raise ValueError(f"{who}: only 2-d tensors are supported, got shape {t.shape} ({t.ndim} dims); "
                         "for a convolution weight use dirac_")
    be = backend_of(t)
    rows, cols = t.shape
    on_diagonal = be.equal(be.reshape(be.arange(0, rows, 1, "int64"), (rows, 1)),
                           be.reshape(be.arange(0, cols, 1, "int64"), (1, cols)))
    return write_in_place(t, "copyto", be.cast(on_diagonal, t.dtype))


def dirac_(t, groups=1):
    """The Dirac delta of a 3-, 4- or 5-d convolution weight (out, in, *kernel):
    1 at the kernel's centre from input channel d to output channel d of each
    of ``groups`` groups, 0 elsewhere, so the convolution passes its input
    through (as many channels as both sides have), as ``torch.nn.init.dirac_``."""
    who = "dirac_"
    float_tensor_arg(who, t, "tensor")
    if t.ndim not in (3, 4, 5):
        raise ValueError(f"{who}: only 3-, 4- and 5-d tensors (out_channels, in_channels, *kernel) are "
                         f"supported, got shape {t.shape} ({t.ndim} dims); for a matrix use eye_")
    number_arg(who, "groups", groups, 1, integer=True)
    if t.shape[0] % groups:
        raise ValueError(f"{who}: dim 0 ({t.shape[0]} output channels) must be divisible by groups ({groups})")
    per_group = t.shape[0] // groups
    channels = min(per_group, t.shape[1])
    centre = tuple(n // 2 for n in t.shape[2:])
    places = [(g * per_group + d, d) + centre for g in range(groups) for d in range(channels)]
    be = backend_of(t)
    write_in_place(t, "fill", 0.0)
    if places:
        index = tuple(be.asarray(list(column), "int64") for column in zip(*places))
        write_in_place(t, "setitem", index, 1.0)
    return t


def orthogonal_(t, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix times ``gain``, as ``torch.nn.init.orthogonal_``:
    the tensor is seen as (shape[0], rest), and that matrix has orthonormal
    rows (when shape[0] <= rest) or columns (otherwise). Drawn from a QR of a
    normal matrix with the signs of R's diagonal moved into Q (uniform over
    the orthogonal matrices); the QR runs on the host in float64."""
    who = "orthogonal_"
    float_tensor_arg(who, t, "tensor")
    number_arg(who, "gain", gain)
    if t.ndim < 2:
        raise ValueError(f"{who}: only tensors with 2 or more dims are supported, got a {t.ndim}-d tensor of "
                         f"shape {t.shape}")
    if _empty(t, who):
        return t
    rows = t.shape[0]
    cols = t.numel() // rows
    be = backend_of(t)
    q = random_orthogonal(be, rows, cols, t.dtype, t.device, generator, who)
    return write_in_place(t, "copyto", be.cast(be.reshape(be.mul(q, gain), t.shape), t.dtype))


def sparse_(t, sparsity, std=0.01, generator=None):
    """A 2-d tensor with ``ceil(sparsity * rows)`` zeros in each column, at rows
    drawn at random, and N(0, std^2) values elsewhere, as ``torch.nn.init.sparse_``."""
    who = "sparse_"
    float_tensor_arg(who, t, "tensor")
    if t.ndim != 2:
        raise ValueError(f"{who}: only 2-d tensors are supported, got shape {t.shape} ({t.ndim} dims)")
    number_arg(who, "sparsity", sparsity, 0.0, 1.0)
    number_arg(who, "std", std, 0.0)
    rows, cols = t.shape
    zeros_per_column = math.ceil(sparsity * rows)
    be = backend_of(t)
    values = _normal(t, 0.0, std, t.dtype, generator, who)
    for col in range(cols):
        chosen = array_of(randperm(rows, generator=generator, device=t.device))
        be.setitem(values, (be.getitem(chosen, slice(0, zeros_per_column)), col), 0.0)
    return write_in_place(t, "copyto", values)


_LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid", "identity")
_NONLINEARITIES = _LINEAR_GAIN + ("tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``:
    1 for linear, the convolutions and sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope^2)) for leaky_relu (slope ``param``, default 0.01),
    3/4 for selu. "identity" (1) is ours."""
    choice_arg("calculate_gain", "nonlinearity", nonlinearity, _NONLINEARITIES)
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4  # PyTorch's choice: keeps the forward pass's variance (self-normalizing networks)
    slope = 0.01 if param is None else number_arg("calculate_gain", "param (leaky_relu's negative slope)", param)
    return math.sqrt(2.0 / (1 + slope ** 2))


def _fan(t, mode, who):
    fan_in, fan_out = _fans(t, who)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{who}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def _empty(t, who):
    """True (after PyTorch's warning) for a tensor with no elements: nothing to initialise."""
    if 0 not in t.shape:
        return False
    warnings.warn(f"{who}: initializing a zero-element tensor (shape {t.shape}) is a no-op", stacklevel=3)
    return True


def kaiming_uniform_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan = _fan(t, mode, "kaiming_uniform_")
    if _empty(t, "kaiming_uniform_"):
        return t
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan = _fan(t, mode, "kaiming_normal_")
    if _empty(t, "kaiming_normal_"):
        return t
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def xavier_uniform_(t, gain=1.0, generator=None):
    fan_in, fan_out = _fans(t, "xavier_uniform_")
    if _empty(t, "xavier_uniform_"):
        return t
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, generator)


def xavier_normal_(t, gain=1.0, generator=None):
    fan_in, fan_out = _fans(t, "xavier_normal_")
    if _empty(t, "xavier_normal_"):
        return t
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)
