"""PyTorch's free functions over tensors (``tg.mean(x, 1)``, ``tg.matmul(a, b)``):
each is the tensor method of the same name, so the two spellings of a PyTorch
script both run."""
from .tensor import Tensor

# torch.<name>(input, ...) == input.<name>(...)
METHOD_FUNCTIONS = (
    "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softmax", "log_softmax",
    "clamp", "clip", "isfinite", "isnan", "reshape", "flatten", "permute", "transpose",
    "squeeze", "unsqueeze", "all", "any",
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


globals().update({name: _as_function(name) for name in METHOD_FUNCTIONS})
__all__ = list(METHOD_FUNCTIONS) + ["matmul"]
