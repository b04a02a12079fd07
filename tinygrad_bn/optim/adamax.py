"""Adamax with PyTorch's update rule."""
from ..tensor_base import array_of, backend_of, write_in_place
from ._common import betas_arg, implementation_flags
from .optimizer import Optimizer


class Adamax(Optimizer):
    """g = grad + weight_decay * p  (negated first with maximize)
    m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps)
    p = p - lr / (1 - b1^t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        implementation_flags("Adamax", foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize})

    def _check_group(self, group):
        super()._check_group(group)
        group["betas"] = betas_arg(type(self).__name__, group["betas"])

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        if group["maximize"]:
            grad = be.neg(grad)
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd:
            grad = be.add(grad, be.mul(array_of(p), wd))
        if not state:
            state["step"] = 0
            state["exp_avg"] = be.zeros_like(array_of(p))
            state["exp_inf"] = be.zeros_like(array_of(p))
        state["step"] += 1
        m, u = state["exp_avg"], state["exp_inf"]
        be.imul(m, b1)
        be.axpy(m, 1.0 - b1, grad)
        be.copyto(u, be.maximum(be.mul(u, b2), be.add(be.abs(grad), eps)))
        write_in_place(p, "axpy", -lr / (1.0 - b1 ** state["step"]), be.div(m, u))
