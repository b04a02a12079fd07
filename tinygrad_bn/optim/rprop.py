"""Rprop with PyTorch's update rule."""
from ..arguments import number_arg
from ..tensor_base import backend_of, write_in_place
from ._common import implementation_flags, init_state, pair_arg
from .optimizer import Optimizer


class Rprop(Optimizer):
    """s = sign(g * prev)  (g negated first with maximize)
    step_size = clip(step_size * (etaplus if s > 0, etaminus if s < 0, else 1), *step_sizes)
    g = 0 where s < 0;  p = p - sign(g) * step_size;  prev = g
    step_size starts at lr (the group's lr when the parameter's state is made), prev at 0.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        implementation_flags("Rprop", foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, {"lr": lr, "etas": etas, "step_sizes": step_sizes, "maximize": maximize})

    def _check_group(self, group):
        super()._check_group(group)
        who = type(self).__name__
        etaminus, etaplus = group["etas"] = pair_arg(who, "etas", group["etas"])
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"{who}: etas must be (etaminus, etaplus) with 0 < etaminus < 1 < etaplus, "
                             f"got {group['etas']}")
        lo, hi = group["step_sizes"] = pair_arg(who, "step_sizes", group["step_sizes"])
        number_arg(who, "step_sizes[0] (the smallest step)", lo, 0.0)
        if hi < lo:
            raise ValueError(f"{who}: step_sizes must be (min, max) with min <= max, got {group['step_sizes']}")

    def _update(self, p, grad, state, group):
        be = backend_of(p)
        if group["maximize"]:
            grad = be.neg(grad)
        (etaminus, etaplus), (lo, hi) = group["etas"], group["step_sizes"]
        if not state:
            init_state(p, state, "prev")
            state["step_size"] = be.full(grad.shape, group["lr"], grad.dtype)
        state["step"] += 1
        prev, step_size = state["prev"], state["step_size"]
        s = be.sign(be.mul(grad, prev))
        negative = be.less(s, 0)
        factor = be.where(be.greater(s, 0), etaplus, be.where(negative, etaminus, 1.0))
        be.copyto(step_size, be.clip(be.mul(step_size, be.cast(factor, grad.dtype)), lo, hi))
        grad = be.where(negative, 0, grad)
        write_in_place(p, "axpy", -1.0, be.mul(be.sign(grad), step_size))
        be.copyto(prev, grad)
