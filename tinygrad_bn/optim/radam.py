"""RAdam with PyTorch's update rule."""
import math

from ..tensor_base import array_of, backend_of, write_in_place
from ._common import betas_arg, implementation_flags
from .optimizer import Optimizer


class RAdam(Optimizer):
    """g = grad + weight_decay * p, or with decoupled_weight_decay p = p * (1 - lr * weight_decay)
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  m_hat = m / (1 - b1^t)
    rho_inf = 2 / (1 - b2) - 1;  rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
    rho_t > 5: r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
               p = p - lr * m_hat * r * sqrt(1 - b2^t) / (sqrt(v) + eps)
    otherwise: p = p - lr * m_hat
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        implementation_flags("RAdam", foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize})

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
            state["exp_avg"] = be.zeros_like(array_of(p))
            state["exp_avg_sq"] = be.zeros_like(array_of(p))
        state["step"] += 1
        t = state["step"]
        if wd:
            if group["decoupled_weight_decay"]:
                write_in_place(p, "imul", 1.0 - lr * wd)
            else:
                grad = be.add(grad, be.mul(array_of(p), wd))
        m, v = state["exp_avg"], state["exp_avg_sq"]
        be.imul(m, b1)
        be.axpy(m, 1.0 - b1, grad)
        be.imul(v, b2)
        be.axpy(v, 1.0 - b2, be.mul(grad, grad))
        bias1, bias2 = 1.0 - b1 ** t, 1.0 - b2 ** t
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2 ** t / bias2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            step = be.div(m, be.add(be.sqrt(v), eps))
            write_in_place(p, "axpy", -lr * rect * math.sqrt(bias2) / bias1, step)
        else:
            write_in_place(p, "axpy", -lr / bias1, m)
