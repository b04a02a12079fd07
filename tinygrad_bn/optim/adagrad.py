"""Adagrad with PyTorch's update rule."""
from typing import ClassVar

from ..tensor_base import array_of, backend_of, write_in_place
from ._common import decayed_grad, implementation_flags
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """g = grad + weight_decay * p  (negated first with maximize)
    clr = lr / (1 + (t - 1) * lr_decay)
    sum = sum + g^2  (sum starts at initial_accumulator_value)
    p = p - clr * g / (sqrt(sum) + eps)
    As in PyTorch, every parameter's state (step 0, the accumulator) exists from construction.
    """

    _ranges: ClassVar[dict] = {**Optimizer._ranges, "lr_decay": (0.0, None), "initial_accumulator_value": (0.0, None)}

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        implementation_flags("Adagrad", foreach=foreach, fused=fused, differentiable=differentiable)
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value, "maximize": maximize})
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state.setdefault(p, {}), group)

    @staticmethod
    def _init_state(p, state, group):
        data = array_of(p)
        state["step"] = 0
        state["sum"] = backend_of(p).full(data.shape, group["initial_accumulator_value"], data.dtype)

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        if not state:
            self._init_state(p, state, group)
        grad = decayed_grad(p, grad, group)
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        acc = state["sum"]
        be.iadd(acc, be.mul(grad, grad))
        write_in_place(p, "axpy", -clr, be.div(grad, be.add(be.sqrt(acc), group["eps"])))
