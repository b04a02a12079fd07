"""Weight initialisers (in place, under no_grad), named as in ``torch.nn.init``."""
import math

from ..arguments import float_tensor_arg, number_arg
from ..tensor_base import backend_of, write_in_place


def _fill(t, draw, who):
    """Overwrite ``t`` in place with ``draw(backend, shape, dtype)`` from its device's generator."""
    float_tensor_arg(who, t, "tensor")
    write_in_place(t, "copyto", draw(backend_of(t), t.shape, t.dtype))
    return t


def _fans(t, who):
    float_tensor_arg(who, t, "tensor")
    if t.ndim < 2:
        raise ValueError(f"{who}: fan in and fan out need a tensor with at least 2 dims, got shape {t.shape} "
                         f"({t.ndim} dims)")
    receptive = 1
    for n in t.shape[2:]:
        receptive *= n
    return t.shape[1] * receptive, t.shape[0] * receptive


def uniform_(t, a=0.0, b=1.0):
    number_arg("uniform_", "a", a)
    number_arg("uniform_", f"b (with a={a})", b, a)
    return _fill(t, lambda be, shape, dtype: be.uniform(a, b, shape, dtype), "uniform_")


def normal_(t, mean=0.0, std=1.0):
    number_arg("normal_", "mean", mean)
    number_arg("normal_", "std", std, 0.0)
    return _fill(t, lambda be, shape, dtype: be.normal(mean, std, shape, dtype), "normal_")


def constant_(t, value, who="constant_"):
    float_tensor_arg(who, t, "tensor")
    number_arg(who, "value", value, finite=False)
    return write_in_place(t, "fill", value)


def zeros_(t):
    return constant_(t, 0.0, "zeros_")


def ones_(t):
    return constant_(t, 1.0, "ones_")


def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of 'linear', "
                     "'identity', 'sigmoid', 'tanh', 'relu', 'leaky_relu'")


def _fan(t, mode, who):
    fan_in, fan_out = _fans(t, who)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{who}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    fan = _fan(t, mode, "kaiming_uniform_")
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound)


def kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    fan = _fan(t, mode, "kaiming_normal_")
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def xavier_uniform_(t, gain=1.0):
    fan_in, fan_out = _fans(t, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t, gain=1.0):
    fan_in, fan_out = _fans(t, "xavier_normal_")
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))
