"""Checks the optimizers added after Adam share: betas, pairs of numbers, and
PyTorch's implementation switches (foreach, fused, capturable, differentiable)."""
from ..arguments import number_arg


def pair_arg(who, name, value):
    """``value`` as a tuple of two numbers, else a ValueError naming ``who``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{who}: {name} must be a pair of numbers, got {value!r}")
    for i, v in enumerate(value):
        number_arg(who, f"{name}[{i}]", v)
    return tuple(value)


def betas_arg(who, betas):
    """(beta1, beta2), each in [0, 1), as PyTorch's Adam family checks them."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{who}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        number_arg(who, f"betas[{i}]", b, 0.0, 1.0)
        if b == 1.0:
            raise ValueError(f"{who}: betas[{i}] must be in [0, 1), got {b!r} (betas {tuple(betas)})")
    return tuple(betas)


def implementation_flags(who, foreach=None, fused=None, capturable=False, differentiable=False):
    """PyTorch's switches between implementations of the same update: ``foreach``,
    ``fused`` and ``capturable`` change how it runs, not what it computes, and are
    accepted and ignored; ``differentiable=True`` (autograd through the step) is refused."""
    for name, v in (("foreach", foreach), ("fused", fused)):
        if v is not None and not isinstance(v, bool):
            raise TypeError(f"{who}: {name} must be None or a bool, got {type(v).__name__} {v!r}")
    if not isinstance(capturable, bool):
        raise TypeError(f"{who}: capturable must be a bool, got {type(capturable).__name__} {capturable!r}")
    if differentiable:
        raise ValueError(f"{who}: differentiable=True is not supported: the step runs under no_grad "
                         "(pass differentiable=False)")
