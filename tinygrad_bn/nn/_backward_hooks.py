"""Module backward hooks (``register_full_backward_hook``, ``register_full_backward_pre_hook``),
as PyTorch's ``BackwardHook``: the module's tensor inputs and outputs pass through an
identity op each, whose backward sees the gradients with respect to them all at once.

- the outputs' identity receives ``grad_output``: the backward pre hooks run there (and may
  replace it); when no input requires grad, the full hooks run there too, with
  ``grad_input`` all None;
- the inputs' identity receives ``grad_input``: the full hooks run there with the
  ``grad_output`` saved above, and what they return replaces ``grad_input``.

Only a module with such hooks pays for this (Module.__call__ imports this module then).
"""
import warnings

from ..autograd.function import Function
from ..tensor_base import TensorBase


class BackwardHook:
    """The hooks of one call of a module, and the gradients its backward met."""

    def __init__(self, module, full_hooks, pre_hooks):
        self.module = module
        self.full_hooks = full_hooks
        self.pre_hooks = pre_hooks
        self.n_inputs = 0
        self.input_positions = None  # positions of the positional inputs that require grad
        self.grad_outputs = None

    def setup_input(self, args):
        self.n_inputs = len(args)
        positions = [i for i, a in enumerate(args) if isinstance(a, TensorBase) and a.requires_grad]
        if not positions or not self.full_hooks:
            return args
        self.input_positions = positions
        wrapped = _InputIdentity.apply(self, *(args[i] for i in positions))
        args = list(args)
        for i, w in zip(positions, wrapped):
            args[i] = w
        return tuple(args)

    def setup_output(self, out):
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        positions = [i for i, o in enumerate(outs) if isinstance(o, TensorBase) and o.requires_grad]
        if not positions:
            return out  # no output requires grad: the hooks never run, as in PyTorch
        self.n_outputs = len(outs)
        self.output_positions = positions
        wrapped = _OutputIdentity.apply(self, *(outs[i] for i in positions))
        outs = list(outs)
        for i, w in zip(positions, wrapped):
            outs[i] = w
        return outs[0] if single else tuple(outs)

    # -------------------------------------------------------- in backward
    def on_grad_outputs(self, grads):
        grad_output = [None] * self.n_outputs
        for i, g in zip(self.output_positions, grads):
            grad_output[i] = g
        for hook in self.pre_hooks:
            res = hook(self.module, tuple(grad_output))
            if res is not None:
                grad_output = _replacement("backward pre hook", self.module, res, grad_output, "grad_output")
        self.grad_outputs = tuple(grad_output)
        if self.input_positions is None and self.full_hooks:
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients (as in PyTorch: grad_input is all None)", UserWarning,
                          stacklevel=2)
            grad_input = (None,) * self.n_inputs
            for hook in self.full_hooks:
                res = hook(self.module, grad_input, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):  # PyTorch's test
                    raise RuntimeError(
                        f"backward hook of {type(self.module).__name__}: no input of the module requires grad, so "
                        "the hook must return None (or None for every gradient); got gradients")
        return [grad_output[i] for i in self.output_positions]

    def on_grad_inputs(self, grads):
        grad_input = [None] * self.n_inputs
        for i, g in zip(self.input_positions, grads):
            grad_input[i] = g
        grad_output = self.grad_outputs
        if grad_output is None:  # the outputs were not hooked (no output tensor on the way back)
            grad_output = ()
        for hook in self.full_hooks:
            res = hook(self.module, tuple(grad_input), grad_output)
            if res is not None:
                grad_input = _replacement("backward hook", self.module, res, grad_input, "grad_input")
        return [grad_input[i] for i in self.input_positions]


def _replacement(kind, module, res, old, what):
    """A hook's returned gradients, checked: one per entry of ``old``, tensors of the
    same shapes (or None)."""
    name = type(module).__name__
    res = list(res) if isinstance(res, (tuple, list)) else [res]
    if len(res) != len(old):
        raise RuntimeError(f"{kind} of {name} returned {len(res)} gradients in place of {what}, expected "
                           f"{len(old)} (one per entry of {what}, None for non-tensors)")
    for k, (new, was) in enumerate(zip(res, old)):
        if new is None:
            continue
        if not isinstance(new, TensorBase):
            raise TypeError(f"{kind} of {name}: {what}[{k}] must be a Tensor or None, got {type(new).__name__}")
        if was is not None and tuple(new.shape) != tuple(was.shape):
            raise RuntimeError(f"{kind} of {name}: {what}[{k}] has shape {tuple(new.shape)}, expected "
                               f"{tuple(was.shape)} (the shape of the gradient it replaces)")
    return res


class _InputIdentity(Function):
    """The identity on a module's tensor inputs; its backward hands their gradients to the hooks."""

    @classmethod
    def forward(cls, ctx, hooks, *tensors):
        ctx.hooks = hooks
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.hooks.on_grad_inputs(grads))


class _OutputIdentity(_InputIdentity):
    """The identity on a module's tensor outputs; its backward hands their gradients to the hooks."""

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.hooks.on_grad_outputs(grads))
