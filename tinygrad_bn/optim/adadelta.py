"""Adadelta with PyTorch's update rule."""
from typing import ClassVar

from ..tensor_base import backend_of, write_in_place
from ._common import decayed_grad, implementation_flags, init_state, moving_average
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """g = grad + weight_decay * p  (negated first with maximize)
    v = rho v + (1 - rho) g^2
    delta = sqrt(u + eps) / sqrt(v + eps) * g
    u = rho u + (1 - rho) delta^2
    p = p - lr * delta
    """

    _ranges: ClassVar[dict] = {**Optimizer._ranges, "rho": (0.0, 1.0)}

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        implementation_flags("Adadelta", foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize})

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        grad = decayed_grad(p, grad, group)
        rho, eps = group["rho"], group["eps"]
        if not state:
            init_state(p, state, "square_avg", "acc_delta")
        state["step"] += 1
        v, u = state["square_avg"], state["acc_delta"]
        moving_average(be, v, rho, be.mul(grad, grad))
        delta = be.mul(be.div(be.sqrt(be.add(u, eps)), be.sqrt(be.add(v, eps))), grad)
        moving_average(be, u, rho, be.mul(delta, delta))
        write_in_place(p, "axpy", -group["lr"], delta)
