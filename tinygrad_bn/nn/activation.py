"""Activation modules named as in ``torch.nn``: each stores its settings (checked
here, when it is built) and calls its function in ``activation_functional``."""
import warnings

from ..arguments import number_arg
from ..creation import full
from ..dtypes import as_dtype, is_float
from . import activation_functional as AF
from . import init
from .module import Module
from .parameter import Parameter

__all__ = [
    "CELU", "ELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "Mish",
    "PReLU", "RReLU", "ReLU6", "SiLU", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanhshrink",
    "Threshold",
]


def _inplace_repr(inplace):
    return "inplace=True" if inplace else ""


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = number_arg("ELU", "alpha", alpha)
        self.inplace = inplace

    def forward(self, input):
        return AF.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(Module):
    """scale * ELU(x, alpha) with SELU's constants (alpha = 1.6733, scale = 1.0507)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return AF.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class CELU(Module):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise; alpha must not be 0."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        number_arg("CELU", "alpha", alpha)
        if alpha == 0:
            raise ValueError("CELU: alpha cannot be 0 (the input is divided by it)")
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return AF.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SiLU(Module):
    """x * sigmoid(x)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return AF.silu(input, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Mish(SiLU):
    """x * tanh(softplus(x))."""

    def forward(self, input):
        return AF.mish(input, self.inplace)


class Hardsigmoid(SiLU):
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between."""

    def forward(self, input):
        return AF.hardsigmoid(input, self.inplace)

    def extra_repr(self):
        return ""  # PyTorch's Hardsigmoid and Hardswish print no inplace= (its SiLU and Mish do)


class Hardswish(SiLU):
    """x * relu6(x + 3) / 6."""

    def forward(self, input):
        return AF.hardswish(input, self.inplace)

    extra_repr = Hardsigmoid.extra_repr


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, x itself where beta * x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        number_arg("Softplus", "beta", beta)
        number_arg("Softplus", "threshold", threshold, finite=False)
        if beta == 0:
            raise ValueError("Softplus: beta must be non-zero (the result is divided by it), got 0")
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return AF.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, input):
        return AF.softsign(input)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed stably."""

    def forward(self, input):
        return AF.logsigmoid(input)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, input):
        return AF.tanhshrink(input)


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (``min_value``/``max_value``: PyTorch's deprecated names)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("Hardtanh: keyword argument `min_value` is deprecated, use `min_val` instead",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("Hardtanh: keyword argument `max_value` is deprecated, use `max_val` instead",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        number_arg("Hardtanh", "min_val", min_val, finite=False)
        number_arg("Hardtanh", "max_val", max_val, finite=False)
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val cannot be greater than max_val, got min_val={min_val} and "
                             f"max_val={max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return AF.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, 0 between (lambd >= 0)."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = number_arg("Softshrink", "lambd", lambd, 0.0)

    def forward(self, input):
        return AF.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Module):
    """x where |x| > lambd, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = number_arg("Hardshrink", "lambd", lambd)

    def forward(self, input):
        return AF.hardshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = number_arg("Threshold", "threshold", threshold, finite=False)
        self.value = number_arg("Threshold", "value", value, finite=False)
        self.inplace = inplace

    def forward(self, input):
        return AF.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = number_arg("GLU", "dim", dim, integer=True)

    def forward(self, input):
        return AF.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    """softmax(-x) along ``dim`` (None: PyTorch's deprecated implicit choice, with a warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = number_arg("Softmin", "dim", dim, integer=True, allow_none=True)

    def forward(self, input):
        return AF.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """max(0, x) + weight * min(0, x) with a learnable slope ``weight``: one
    (num_parameters=1) or one per channel (dim 1 of the input), each starting at ``init``."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        number_arg("PReLU", "num_parameters", num_parameters, 1, integer=True)
        number_arg("PReLU", "init", init)
        if dtype is not None and not is_float(as_dtype(dtype, "PReLU")):
            raise TypeError(f"PReLU: dtype must be a floating point type, got {as_dtype(dtype)}")
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(full((num_parameters,), float(init), dtype=dtype, device=device or "cpu"))

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return AF.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: in training, slopes for x <= 0 drawn uniform on [lower, upper)
    from the device's generator; in eval, the mean slope (lower + upper) / 2."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        AF._check_rrelu_bounds("RReLU", lower, upper)
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return AF.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")

