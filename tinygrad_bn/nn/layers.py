"""Layers: Linear, activations, Dropout, Flatten, Identity, Sequential."""
import math

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter
from ..arguments import number_arg, tensor_arg
from ..creation import zeros
from ..dtypes import as_dtype, is_float
from ..ops.elementwise import check_gelu_approximate


class Linear(Module):
    """y = x W^T + b. Input (*, in_features), output (*, out_features).

    Initialised as in PyTorch: W and b uniform on (-1/sqrt(in), 1/sqrt(in))
    (kaiming_uniform_ with a = sqrt(5) for W).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            number_arg("Linear", name, v, 1, integer=True)
        if dtype is not None and not is_float(as_dtype(dtype, "Linear")):
            raise TypeError(f"Linear: dtype must be a floating point type, got {as_dtype(dtype)}")
        self.in_features, self.out_features = in_features, out_features
        device = device or "cpu"
        self.weight = Parameter(zeros(out_features, in_features, dtype=dtype, device=device))
        self.bias = Parameter(zeros(out_features, dtype=dtype, device=device)) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = number_arg("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        check_gelu_approximate(approximate, "GELU")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"


class Softmax(Module):
    """softmax along ``dim`` (None: PyTorch's deprecated implicit choice, with a warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = number_arg(type(self).__name__, "dim", dim, integer=True, allow_none=True)

    def forward(self, x):
        return F.softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return F.log_softmax(x, self.dim, _stacklevel=5)


class Dropout(Module):
    """Zero elements with probability p in training mode; identity in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F.check_dropout_p(p, "Dropout")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = number_arg("Flatten", "start_dim", start_dim, integer=True)
        self.end_dim = number_arg("Flatten", "end_dim", end_dim, integer=True)

    def forward(self, x):
        return tensor_arg("Flatten", x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    def forward(self, x):
        return x


class Sequential(Module):
    """Modules applied in order; indexable, iterable, and with keys "0", "1", ..."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, expected a Module")
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*mods[i])
        number_arg("Sequential", "index", i, integer=True)
        if not -len(mods) <= i < len(mods):
            raise IndexError(f"Sequential: index {i} is out of range; expected -{len(mods)} <= index < {len(mods)}")
        return mods[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self
