"""Adam and AdamW with PyTorch's update rules."""
import math

from ..tensor_base import backend_of, write_in_place
from ._common import betas_arg, decayed_grad, init_state, moving_average
from .optimizer import Optimizer


class Adam(Optimizer):
    """m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2  (g includes weight_decay * p)
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    With amsgrad, the running maximum of v is used in the denominator.
    """

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        # checked once, here (not in add_param_group or load_state_dict), and worded as Adam always has
        betas = betas_arg(type(self).__name__, betas, at_one="betas must be in [0, 1), got {betas}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "amsgrad": amsgrad, "maximize": maximize})

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        grad = decayed_grad(p, grad, group, decoupled=self.decoupled)
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            amsgrad = ("max_exp_avg_sq",) if group["amsgrad"] else ()
            init_state(p, state, "exp_avg", "exp_avg_sq", *amsgrad)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        moving_average(be, m, b1, grad)
        moving_average(be, v, b2, be.mul(grad, grad))
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
