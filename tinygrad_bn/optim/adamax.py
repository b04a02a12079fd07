"""Adamax with PyTorch's update rule."""
from ..tensor_base import backend_of, write_in_place
from ._common import (
    WithBetas,
    decayed_grad,
    implementation_flags,
    init_state,
    moving_average,
)


class Adamax(WithBetas):
    """g = grad + weight_decay * p  (negated first with maximize)
    m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps)
    p = p - lr / (1 - b1^t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        implementation_flags("Adamax", foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize})

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        grad = decayed_grad(p, grad, group)
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            init_state(p, state, "exp_avg", "exp_inf")
        state["step"] += 1
        m, u = state["exp_avg"], state["exp_inf"]
        moving_average(be, m, b1, grad)
        be.copyto(u, be.maximum(be.mul(u, b2), be.add(be.abs(grad), eps)))
        write_in_place(p, "axpy", -lr / (1.0 - b1 ** state["step"]), be.div(m, u))
