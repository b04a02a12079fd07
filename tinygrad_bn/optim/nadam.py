"""NAdam with PyTorch's update rule."""
import math
from typing import ClassVar

from ..tensor_base import array_of, backend_of, write_in_place
from ._common import betas_arg, implementation_flags
from .optimizer import Optimizer


class NAdam(Optimizer):
    """g = grad + weight_decay * p, or with decoupled_weight_decay p = p * (1 - lr * weight_decay)
    mu_t = b1 (1 - 0.96^(t * momentum_decay) / 2);  prod = mu_1 ... mu_t
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  denom = sqrt(v / (1 - b2^t)) + eps
    p = p - lr (1 - mu_t) / (1 - prod) * g / denom - lr mu_{t+1} / (1 - prod mu_{t+1}) * m / denom
    """

    _ranges: ClassVar[dict] = {**Optimizer._ranges, "momentum_decay": (0.0, None)}

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        implementation_flags("NAdam", foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    def _check_group(self, group):
        super()._check_group(group)
        group["betas"] = betas_arg(type(self).__name__, group["betas"])

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        if group["maximize"]:
            grad = be.neg(grad)
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = be.zeros_like(array_of(p))
            state["exp_avg_sq"] = be.zeros_like(array_of(p))
        state["step"] += 1
        t = state["step"]
        if wd:
            if group["decoupled_weight_decay"]:
                write_in_place(p, "imul", 1.0 - lr * wd)
            else:
                grad = be.add(grad, be.mul(array_of(p), wd))
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * group["momentum_decay"]))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * group["momentum_decay"]))
        state["mu_product"] *= mu
        prod = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        be.imul(m, b1)
        be.axpy(m, 1.0 - b1, grad)
        be.imul(v, b2)
        be.axpy(v, 1.0 - b2, be.mul(grad, grad))
        denom = be.add(be.div(be.sqrt(v), math.sqrt(1.0 - b2 ** t)), eps)
        write_in_place(p, "axpy", -lr * (1.0 - mu) / (1.0 - prod), be.div(grad, denom))
        write_in_place(p, "axpy", -lr * mu_next / (1.0 - prod * mu_next), be.div(m, denom))
