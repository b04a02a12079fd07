"""RAdam with PyTorch's update rule."""
import math

from ..tensor_base import backend_of, write_in_place
from ._common import (
    WithBetas,
    decayed_grad,
    implementation_flags,
    init_state,
    moving_average,
)


class RAdam(WithBetas):
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

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        grad = decayed_grad(p, grad, group, decoupled=group["decoupled_weight_decay"])
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            init_state(p, state, "exp_avg", "exp_avg_sq")
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        moving_average(be, m, b1, grad)
        moving_average(be, v, b2, be.mul(grad, grad))
        bias1, bias2 = 1.0 - b1 ** t, 1.0 - b2 ** t
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2 ** t / bias2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            step = be.div(m, be.add(be.sqrt(v), eps))
            write_in_place(p, "axpy", -lr * rect * math.sqrt(bias2) / bias1, step)
        else:
            write_in_place(p, "axpy", -lr / bias1, m)
