"""``autograd.Function``: a custom op written on Tensors, as in PyTorch.

PyTorch's custom Function receives Tensors and returns Tensors; its forward
runs with grad mode off and its backward, written in tensor ops, is itself
differentiable under ``create_graph=True``. This is that class. It sits on the
same tape as our array-level ops (``tinygrad_bn.Function``, whose forward and
backward take the device's arrays, the form every op in ``ops/`` is written
in): ``apply`` records one tape entry whose backward calls yours with Tensors,

- in a first-order pass, with grad mode off (the gradients are plain tensors);
- in a ``create_graph`` pass, with grad mode on and the gradients and saved
  tensors joined to the graph, so what your backward computes is recorded and
  can be differentiated again; unless it is marked ``@once_differentiable``,
  in which case differentiating its result raises.
"""
from __future__ import annotations

import functools

from .. import observers
from ..backends import get_backend
from ..function import Context, _mixed_devices, _record, _start_clock
from ..function import Function as ArrayFunction
from ..grad_mode import GradMode, enable_grad, no_grad
from ..tensor_base import TensorBase, make_tensor


class FunctionCtx(Context):
    """What a Tensor-level Function's forward passes to its backward:
    ``save_for_backward(*tensors)`` / ``saved_tensors`` (checked for in-place
    changes since), ``mark_non_differentiable(*tensors)``, ``needs_input_grad``,
    and any attribute. An output that received no gradient gets zeros (PyTorch's
    default), or None after ``set_materialize_grads(False)``."""

    _tensors = ()
    _tensor_versions = ()

    def save_for_backward(self, *tensors):
        for k, t in enumerate(tensors):
            if t is not None and not isinstance(t, TensorBase):
                raise TypeError(f"save_for_backward: argument {k} is a {type(t).__name__}; only tensors (or None) "
                                "can be saved; keep other values as attributes of ctx (ctx.value = ...)")
        self._tensors = tensors
        self._tensor_versions = tuple(None if t is None else (t._version_cell, t._version_cell[0]) for t in tensors)

    @property
    def saved_tensors(self):
        if self._freed:
            Context.saved_tensors.fget(self)  # raises the message of a second backward
        for k, (t, v) in enumerate(zip(self._tensors, self._tensor_versions)):
            if v is not None and v[0][0] != v[1]:
                raise RuntimeError(
                    f"{self._op[0]} (tape entry #{self._op[1]}): saved tensor {k} (shape {tuple(t.shape)}) was "
                    f"modified by an in-place operation: it is at version {v[0][0]}, expected version {v[1]}. "
                    "Clone it before changing it, or change it after backward.")
        return self._tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """Whether backward gets zeros (True, the default) or None for outputs that received no gradient."""
        if not isinstance(value, bool):
            raise TypeError(f"set_materialize_grads: expected a bool, got {type(value).__name__} {value!r}")
        self.materialize_grads = value

    def saved_bytes(self, exclude=()):
        skip = [id(a) for a in exclude]
        return sum(t._data.nbytes for t in self._tensors if t is not None and id(t._data) not in skip)

    def _free(self):
        super()._free()
        self._tensors = None


class Function:
    """Subclass with ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` as
    static methods taking and returning Tensors (PyTorch's signature), or with
    ``forward(*args)`` and ``setup_context(ctx, inputs, output)`` (PyTorch 2's),
    and call ``MyFunction.apply(*args)``. backward returns one gradient per
    forward argument (None for non-tensors and inputs needing none)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # the array-level op that stands for this Function on the tape
        cls._node = type(cls.__name__, (_Node,), {"user": cls, "__module__": cls.__module__})

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("autograd.Function: define forward(ctx, *args) as a staticmethod")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("autograd.Function: define backward(ctx, *grads) as a staticmethod")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's form: define ``forward(*args)`` (no ctx) and this, which
        saves what backward needs from the inputs and the output."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs:
            raise TypeError(f"{cls.__name__}.apply: takes positional arguments only (as in PyTorch), "
                            f"got keywords {sorted(kwargs)}")
        backend = None
        for a in args:
            if isinstance(a, TensorBase):
                if backend is not None and a._backend is not backend:
                    raise _mixed_devices(cls, backend, a._backend)
                backend = a._backend
        needs = tuple(isinstance(a, TensorBase) and a.requires_grad for a in args)
        ctx = FunctionCtx(backend or get_backend("cpu"), needs)
        ctx.tensor_args = tuple(isinstance(a, TensorBase) for a in args)
        record = GradMode.enabled and any(needs)
        t0 = _start_clock(ctx.backend) if record and observers.active else None
        with no_grad():
            if cls.setup_context is not Function.setup_context:  # PyTorch 2's form: forward without ctx
                out = cls.forward(*args)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        slots = [k for k, o in enumerate(outs) if isinstance(o, TensorBase)]
        nondiff = [id(t) for t in ctx._non_differentiable]
        results = list(outs)
        for k in slots:
            o = outs[k]
            if any(o is a for a in args):
                # an input returned as it is: a new tensor on the same values, as PyTorch's view of it
                alias = make_tensor(o._data, o._backend, False)
                alias._version_cell = o._version_cell
                alias._view = (o, f"returned by {cls.__name__}.forward as its input")  # not writable in place
                o = alias
            elif o._entry is not None or o.requires_grad:
                o = o.detach()
            o.requires_grad = record and id(outs[k]) not in nondiff
            results[k] = o
        if record and slots:
            ctx.output_slots, ctx.n_outputs = slots, len(outs)
            tensors = tuple(results[k] for k in slots)
            arrays = [a._data if isinstance(a, TensorBase) else a for a in args]
            _record(cls._node, ctx, args, tensors if len(tensors) > 1 else tensors[0], t0, arrays)
            # a tensor the forward saved that is now an output stands for it on the graph
            ctx._tensors = tuple(_output_for(t, outs, results) for t in ctx._tensors)
        return results[0] if single else tuple(results)


def _output_for(saved, outs, results):
    for o, r in zip(outs, results):
        if saved is o and isinstance(r, TensorBase):
            return r
    return saved


class _Node(ArrayFunction):
    """The tape entry's op: calls the user's backward with Tensors."""

    user = None

    @classmethod
    def backward(cls, ctx, *grads):
        be = ctx.backend
        records = be.records
        base = be.base if records else be
        full = [None] * getattr(ctx, "n_outputs", len(grads))
        for k, g in zip(getattr(ctx, "output_slots", range(len(grads))), grads):
            full[k] = g if records or g is None else make_tensor(g, base, False)
        with (enable_grad() if records else no_grad()):
            result = cls.user.backward(ctx, *full)
        result = result if isinstance(result, tuple) else (result,)
        return _checked(cls.user.__name__, ctx, result, records, base)


def _checked(name, ctx, result, records, base):
    """The user's gradients, checked as PyTorch checks them: one per forward
    argument, a tensor (or None) of the argument's shape, None for non-tensors."""
    needs = ctx.needs_input_grad
    if len(result) != len(needs):
        # PyTorch accepts extra trailing Nones only
        if len(result) > len(needs) and all(r is None for r in result[len(needs):]):
            result = result[:len(needs)]
        else:
            raise RuntimeError(f"{name}.backward returned {len(result)} gradients, expected {len(needs)} "
                               "(one per forward argument, None for arguments that need none)")
    out = []
    for k, (r, need, is_tensor) in enumerate(zip(result, needs, ctx.tensor_args)):
        if r is not None and not is_tensor:
            raise RuntimeError(f"{name}.backward returned a gradient for argument {k}, a non-tensor argument of "
                               "forward; expected None there (return None for it)")
        if r is None or not need:  # a gradient for a tensor that needs none is dropped, as in PyTorch
            out.append(None)
            continue
        if not isinstance(r, TensorBase):
            raise TypeError(f"{name}.backward: the gradient for argument {k} must be a Tensor or None, "
                            f"got {type(r).__name__}")
        if r._backend is not base:
            raise RuntimeError(f"{name}.backward: the gradient for argument {k} is on {r.device}, "
                               f"expected {base.name} (the argument's device)")
        out.append(r if records else r._data)
    return tuple(out)


def once_differentiable(backward):
    """Mark a Tensor-level Function's backward as not differentiable itself:
    it runs on plain tensors (grad mode off) in every pass, and a gradient it
    computed in a ``create_graph`` pass raises when differentiated again."""

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        if not ctx.backend.records or not GradMode.enabled:
            return backward(ctx, *grads)
        plain = [g.detach() if isinstance(g, TensorBase) else g for g in grads]
        with no_grad():
            result = backward(ctx, *plain)
        single = not isinstance(result, tuple)
        result = (result,) if single else result
        graph = [g for g in grads if isinstance(g, TensorBase) and g.requires_grad]
        name = getattr(ctx, "_op", (None,))[0] or backward.__qualname__.split(".")[0]
        wrapped = tuple(r if not isinstance(r, TensorBase) or not graph else _DelayedError.apply(r, name, *graph)
                        for r in result)
        return wrapped[0] if single else wrapped

    return wrapper


class _DelayedError(ArrayFunction):
    """The value of a once-differentiable backward, joined to the graph only so
    that differentiating it raises, naming the Function."""

    @staticmethod
    def forward(ctx, value, name, *graph):
        ctx.name = name
        return ctx.backend.copy(value)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"{ctx.name}: trying to differentiate twice a function that was marked with "
                           "@once_differentiable; write its backward in differentiable tensor ops to take "
                           "a second derivative")
