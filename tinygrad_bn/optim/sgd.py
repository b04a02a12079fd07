"""Stochastic gradient descent with PyTorch's update rule."""
from .optimizer import Optimizer
from ..tensor_base import array_of, backend_of, write_in_place


class SGD(Optimizer):
    """g = grad + weight_decay * p
    buf = g (first step), then buf = momentum * buf + (1 - dampening) * g
    g = g + momentum * buf if nesterov else buf
    p = p - lr * g
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov momentum needs a momentum > 0 and zero dampening, got "
                             f"momentum={momentum!r} and dampening={dampening!r}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        if group["maximize"]:
            grad = be.neg(grad)
        wd, momentum = group["weight_decay"], group["momentum"]
        if wd:
            grad = be.add(grad, be.mul(array_of(p), wd))
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = be.copy(grad)
            else:
                be.imul(buf, momentum)
                be.axpy(buf, 1.0 - group["dampening"], grad)
            grad = be.add(grad, be.mul(buf, momentum)) if group["nesterov"] else buf
        write_in_place(p, "axpy", -group["lr"], grad)
