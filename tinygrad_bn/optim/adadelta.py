"""Adadelta with PyTorch's update rule."""
from typing import ClassVar

from ..tensor_base import array_of, backend_of, write_in_place
from ._common import implementation_flags
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
        if group["maximize"]:
            grad = be.neg(grad)
        rho, eps, wd = group["rho"], group["eps"], group["weight_decay"]
        if wd:
            grad = be.add(grad, be.mul(array_of(p), wd))
        if not state:
            state["step"] = 0
            state["square_avg"] = be.zeros_like(array_of(p))
            state["acc_delta"] = be.zeros_like(array_of(p))
        state["step"] += 1
        v, u = state["square_avg"], state["acc_delta"]
        be.imul(v, rho)
        be.axpy(v, 1.0 - rho, be.mul(grad, grad))
        delta = be.mul(be.div(be.sqrt(be.add(u, eps)), be.sqrt(be.add(v, eps))), grad)
        be.imul(u, rho)
        be.axpy(u, 1.0 - rho, be.mul(delta, delta))
        write_in_place(p, "axpy", -group["lr"], delta)
