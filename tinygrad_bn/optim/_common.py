"""What the optimizers share: the checks of betas, pairs of numbers and PyTorch's
implementation switches (foreach, fused, capturable, differentiable); ``WithBetas``,
the base that checks betas in every group; and the pieces of the updates written
the same way in each: the gradient an update uses, a fresh state, and the moving
averages."""
from ..arguments import number_arg
from ..tensor_base import array_of, backend_of, write_in_place
from .optimizer import Optimizer


def pair_arg(who, name, value):
    """``value`` as a tuple of two numbers, else a ValueError naming ``who``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{who}: {name} must be a pair of numbers, got {value!r}")
    for i, v in enumerate(value):
        number_arg(who, f"{name}[{i}]", v)
    return tuple(value)


def betas_arg(who, betas, at_one="betas[{i}] must be in [0, 1), got {b!r} (betas {betas})"):
    """(beta1, beta2), each in [0, 1), as PyTorch's Adam family checks them. ``at_one``:
    the message (after ``who``) for a beta of exactly 1, formatted with the index ``i``,
    the beta ``b`` and the pair ``betas``."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{who}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        number_arg(who, f"betas[{i}]", b, 0.0, 1.0)
        if b == 1.0:
            raise ValueError(f"{who}: " + at_one.format(i=i, b=b, betas=tuple(betas)))
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


class WithBetas(Optimizer):
    """An optimizer whose groups hold ``betas`` (beta1, beta2), checked in every group as
    the other hyperparameters are: on construction, ``add_param_group`` and ``load_state_dict``."""

    def _check_group(self, group):
        super()._check_group(group)
        group["betas"] = betas_arg(type(self).__name__, group["betas"])


def decayed_grad(p, grad, group, decoupled=False):
    """The gradient an update uses: negated under ``maximize``, then with weight decay:
    ``weight_decay * p`` added, or, ``decoupled`` (AdamW's), p itself scaled in place by
    1 - lr * weight_decay and the gradient left as it is."""
    be = backend_of(p)
    if group["maximize"]:
        grad = be.neg(grad)
    wd = group["weight_decay"]
    if wd:
        if decoupled:
            write_in_place(p, "imul", 1.0 - group["lr"] * wd)
        else:
            grad = be.add(grad, be.mul(array_of(p), wd))
    return grad


def init_state(p, state, *arrays, **numbers):
    """Fill a parameter's empty ``state`` as PyTorch's first step does: ``step`` 0, the
    ``numbers`` given, then a zero array like ``p`` for each name in ``arrays`` (in that
    order: the state dict's)."""
    state["step"] = 0
    state.update(numbers)
    for name in arrays:
        state[name] = backend_of(p).zeros_like(array_of(p))


def moving_average(be, avg, beta, x):
    """avg = beta avg + (1 - beta) x, in place (``be``: the arrays' backend)."""
    be.imul(avg, beta)
    be.axpy(avg, 1.0 - beta, x)
