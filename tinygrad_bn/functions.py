"""PyTorch's free functions over tensors (``tg.mean(x, 1)``, ``tg.matmul(a, b)``):
each is the tensor method of the same name, so the two spellings of a PyTorch
script both run."""
import numpy as np

from .tensor import Tensor
from .tensor_indexing import FREE_FUNCTIONS as INDEXING_FUNCTIONS
from .tensor_indexing import METHOD_FUNCTIONS as INDEXING_METHOD_FUNCTIONS
from .tensor_linalg import METHODS as LINALG_METHODS
from .tensor_math import MATH_FUNCTIONS

# torch.<name>(input, ...) == input.<name>(...)
METHOD_FUNCTIONS = (
    "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softmax", "log_softmax",
    "clamp", "clip", "isfinite", "isnan", "reshape", "flatten", "permute", "transpose",
    "squeeze", "unsqueeze", "all", "any", "norm", "log10", "log2", "t", "mm", "triu", "tril", "numel",
)


def _as_function(name):
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{name}: expected a Tensor as the first argument, got {type(input).__name__}; "
                f"make one with tinygrad_bn.tensor(...) first"
            )
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(input, ...)`` is ``input.{name}(...)``, as ``torch.{name}``."
    return function


def matmul(input, other):
    """``input @ other``, as ``torch.matmul``."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"matmul: expected a Tensor, got {type(input).__name__} and {type(other).__name__}")
    return input @ other


def _host(who, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: expected Tensors, got a {type(t).__name__}")
    return t.detach().cpu().numpy()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether |input - other| <= atol + rtol * |other| everywhere (a bool), as ``torch.allclose``."""
    return bool(np.allclose(_host("allclose", input), _host("allclose", other), rtol, atol, equal_nan))


def equal(input, other):
    """Whether the two tensors have the same shape and values (a bool), as ``torch.equal``."""
    a, b = _host("equal", input), _host("equal", other)
    return a.shape == b.shape and bool((a == b).all())


# pointwise math, arithmetic, comparisons and reductions of tensor_math.py, tensor_arithmetic.py,
# tensor_compare.py and tensor_reductions.py (polygamma and real are below)
METHOD_FUNCTIONS += tuple(n for n in MATH_FUNCTIONS if n not in METHOD_FUNCTIONS and n not in ("polygamma", "real"))
METHOD_FUNCTIONS += tuple(n for n in LINALG_METHODS if n not in METHOD_FUNCTIONS)


def polygamma(n, input):
    """``torch.polygamma(n, input)``: the n-th derivative of digamma (n first, as PyTorch)."""
    return _as_function("polygamma")(input, n)


def real(input):
    """``torch.real``: a real tensor itself."""
    return _as_function("conj")(input)


# indexing, joining, sorting and the other ops of tensor_indexing.py (and its functions that are no method)
METHOD_FUNCTIONS += tuple(n for n in INDEXING_METHOD_FUNCTIONS if n not in METHOD_FUNCTIONS)

globals().update({name: _as_function(name) for name in METHOD_FUNCTIONS})
globals().update(INDEXING_FUNCTIONS)
__all__ = list(METHOD_FUNCTIONS) + ["matmul", "allclose", "equal", "polygamma", "real"] + list(INDEXING_FUNCTIONS)
