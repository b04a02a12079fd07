"""Adam and AdamW with PyTorch's update rules."""
import math

from ..arguments import number_arg
from .optimizer import Optimizer
from ..tensor_base import array_of, backend_of, write_in_place


class Adam(Optimizer):
    """m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2  (g includes weight_decay * p)
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    With amsgrad, the running maximum of v is used in the denominator.
    """

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        who = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{who}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            number_arg(who, f"betas[{i}]", b, 0.0, 1.0)
            if b == 1.0:
                raise ValueError(f"{who}: betas must be in [0, 1), got {tuple(betas)}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        if group["maximize"]:
            grad = be.neg(grad)
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd:
            if self.decoupled:
                write_in_place(p, "imul", 1.0 - lr * wd)
            else:
                grad = be.add(grad, be.mul(array_of(p), wd))
        if not state:
            state["step"] = 0
            state["exp_avg"] = be.zeros_like(array_of(p))
            state["exp_avg_sq"] = be.zeros_like(array_of(p))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = be.zeros_like(array_of(p))
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        be.imul(m, b1)
        be.axpy(m, 1.0 - b1, grad)
        be.imul(v, b2)
        be.axpy(v, 1.0 - b2, be.mul(grad, grad))
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            be.copyto(vmax, be.maximum(vmax, v))
            v = vmax
        bias1 = 1.0 - b1 ** t
        bias2 = 1.0 - b2 ** t
        denom = be.add(be.div(be.sqrt(v), math.sqrt(bias2)), eps)
        write_in_place(p, "axpy", -lr / bias1, be.div(m, denom))


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p * (1 - lr * weight_decay) before the Adam step."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
