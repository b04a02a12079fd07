"""Averaged SGD with PyTorch's update rule."""
from typing import ClassVar

from ..arguments import number_arg
from ..tensor_base import array_of, backend_of, write_in_place
from ._common import decayed_grad, implementation_flags, init_state
from .optimizer import Optimizer


class ASGD(Optimizer):
    """g = grad + weight_decay * p  (negated first with maximize); eta starts at lr, mu at 1
    p = p * (1 - lambd * eta) - eta * g
    ax = p if mu == 1 else ax + mu * (p - ax)   (the average PyTorch keeps in state["ax"])
    eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)
    """

    _ranges: ClassVar[dict] = {**Optimizer._ranges, "lambd": (0.0, None), "alpha": (0.0, None)}

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        implementation_flags("ASGD", foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                                  "maximize": maximize})

    def _check_group(self, group):
        super()._check_group(group)
        number_arg(type(self).__name__, "t0", group["t0"], finite=False)

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        grad = decayed_grad(p, grad, group)
        lr, lambd = group["lr"], group["lambd"]
        if not state:
            init_state(p, state, "ax", eta=lr, mu=1.0)
        state["step"] += 1
        t = state["step"]
        eta = state["eta"]
        write_in_place(p, "imul", 1.0 - lambd * eta)
        write_in_place(p, "axpy", -eta, grad)
        ax = state["ax"]
        if state["mu"] != 1:
            be.axpy(ax, state["mu"], be.sub(array_of(p), ax))
        else:
            be.copyto(ax, array_of(p))
        state["eta"] = lr / (1 + lambd * lr * t) ** group["alpha"]
        state["mu"] = 1.0 / max(1.0, t - group["t0"])
