"""RMSprop with PyTorch's update rule."""
from ..arguments import number_arg
from ._common import implementation_flags
from .optimizer import Optimizer
from ..tensor_base import array_of, backend_of, write_in_place


class RMSprop(Optimizer):
    """v = alpha v + (1 - alpha) g^2  (g includes weight_decay * p)
    centered: a = alpha a + (1 - alpha) g;  denom = sqrt(v - a^2) + eps, else sqrt(v) + eps
    momentum > 0: buf = momentum buf + g / denom;  p -= lr buf, else p -= lr g / denom
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, capturable=False, foreach=None, maximize=False, differentiable=False):
        # PyTorch's order, so a call that passes them by position means the same
        implementation_flags("RMSprop", foreach=foreach, capturable=capturable, differentiable=differentiable)
        number_arg("RMSprop", "alpha", alpha, 0.0, 1.0)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        if group["maximize"]:
            grad = be.neg(grad)
        alpha, eps, wd, mom = group["alpha"], group["eps"], group["weight_decay"], group["momentum"]
        if wd:
            grad = be.add(grad, be.mul(array_of(p), wd))
        if not state:
            state["step"] = 0
            state["square_avg"] = be.zeros_like(array_of(p))
            if mom > 0:
                state["momentum_buffer"] = be.zeros_like(array_of(p))
            if group["centered"]:
                state["grad_avg"] = be.zeros_like(array_of(p))
        state["step"] += 1
        v = state["square_avg"]
        be.imul(v, alpha)
        be.axpy(v, 1.0 - alpha, be.mul(grad, grad))
        if group["centered"]:
            a = state["grad_avg"]
            be.imul(a, alpha)
            be.axpy(a, 1.0 - alpha, grad)
            denom = be.add(be.sqrt(be.sub(v, be.mul(a, a))), eps)
        else:
            denom = be.add(be.sqrt(v), eps)
        if mom > 0:
            buf = state["momentum_buffer"]
            be.imul(buf, mom)
            be.iadd(buf, be.div(grad, denom))
            write_in_place(p, "axpy", -group["lr"], buf)
        else:
            write_in_place(p, "axpy", -group["lr"], be.div(grad, denom))
