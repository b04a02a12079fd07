"""NAdam with PyTorch's update rule."""
import math
from typing import ClassVar

from ..tensor_base import backend_of, write_in_place
from ._common import (
    WithBetas,
    decayed_grad,
    implementation_flags,
    init_state,
    moving_average,
)


class NAdam(WithBetas):
    """g = grad + weight_decay * p, or with decoupled_weight_decay p = p * (1 - lr * weight_decay)
    mu_t = b1 (1 - 0.96^(t * momentum_decay) / 2);  prod = mu_1 ... mu_t
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  denom = sqrt(v / (1 - b2^t)) + eps
    p = p - lr (1 - mu_t) / (1 - prod) * g / denom - lr mu_{t+1} / (1 - prod mu_{t+1}) * m / denom
    """

    _ranges: ClassVar[dict] = {**WithBetas._ranges, "momentum_decay": (0.0, None)}

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        implementation_flags("NAdam", foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize})

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        grad = decayed_grad(p, grad, group, decoupled=group["decoupled_weight_decay"])
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            init_state(p, state, "exp_avg", "exp_avg_sq", mu_product=1.0)
        state["step"] += 1
        t = state["step"]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * group["momentum_decay"]))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * group["momentum_decay"]))
        state["mu_product"] *= mu
        prod = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        moving_average(be, m, b1, grad)
        moving_average(be, v, b2, be.mul(grad, grad))
        denom = be.add(be.div(be.sqrt(v), math.sqrt(1.0 - b2 ** t)), eps)
        write_in_place(p, "axpy", -lr * (1.0 - mu) / (1.0 - prod), be.div(grad, denom))
        write_in_place(p, "axpy", -lr * mu_next / (1.0 - prod * mu_next), be.div(m, denom))
