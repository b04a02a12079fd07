"""``autograd.functional``: vector products with Jacobians and Hessians of a
function of tensors, with the signatures and return structure of
``torch.autograd.functional``.

Each takes ``func`` and ``inputs`` (a Tensor or a tuple of them) and returns
values shaped like what it got: a tuple where ``inputs`` (or the outputs) were
a tuple, a Tensor where a Tensor. The results are detached unless
``create_graph=True``; with ``strict=True`` an output that does not depend on
an input raises instead of giving zeros. Everything is reverse mode:

- ``jvp`` uses the double-backward trick (the vjp is linear in its vector u,
  so differentiating ``u -> J^T u`` against u along v gives J v);
- ``hvp`` returns ``vhp``: the Hessian of a twice-differentiable function is
  symmetric, so H v = (v^T H)^T, at the cost of one double backward (PyTorch's
  hvp takes a second trick pass for the same numbers);
- ``jacobian`` and ``hessian`` take one vjp per output element (``vectorize``
  is accepted and changes nothing; there is no forward mode, so
  ``strategy="forward-mode"`` raises).
"""
from __future__ import annotations

from ..engine_grad import grad as _grad
from ..grad_mode import enable_grad
from ..ops.movement import Reshape
from ..tensor_base import TensorBase, make_tensor

__all__ = ["vjp", "jvp", "vhp", "hvp", "jacobian", "hessian"]


def _as_tuple(value, what, who):
    if isinstance(value, TensorBase):
        return False, (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, TensorBase) for v in value):
        return True, tuple(value)
    raise TypeError(f"{who}: the {what} must be a Tensor or a tuple of Tensors, got {type(value).__name__}")


def _prepare(inputs, create_graph):
    """Inputs the function is differentiated against: with create_graph a
    recorded identity of an input that requires grad (the result stays joined
    to the caller's graph), else a detached copy that requires grad."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(Reshape.apply(t, t.shape))
        else:
            out.append(make_tensor(t._data, t._backend, True))
    return tuple(out)


def _finish(values, create_graph, is_tuple):
    values = tuple(v if v is None or create_graph else v.detach() for v in values)
    return values if is_tuple else values[0]


def _vector(v, like, who, what):
    """v checked against the tensors it pairs with (one per tensor, same shape)."""
    is_tuple, vs = _as_tuple(v, what, who)
    if len(vs) != len(like):
        raise RuntimeError(f"{who}: v has {len(vs)} tensors but the {what} has {len(like)}; expected one per tensor")
    for k, (a, b) in enumerate(zip(vs, like)):
        if a.shape != b.shape:
            raise RuntimeError(f"{who}: v[{k}] has shape {a.shape} but the {what} [{k}] has shape {b.shape}; "
                               "they must match")
    return vs


def _grads(outputs, inputs, grad_outputs, create_graph, strict, who, stage):
    """d(outputs)/d(inputs) along grad_outputs; zeros (or, strict, an error)
    where an input does not reach an output."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if pairs:
        res = _grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                    create_graph=create_graph, retain_graph=True, allow_unused=True)
    else:
        res = (None,) * len(inputs)
    out = []
    for k, (r, t) in enumerate(zip(res, inputs)):
        if r is None:
            if strict:
                raise RuntimeError(f"{who}: the output of the function is independent of input {k} ({stage}); "
                                   "this is not allowed in strict mode")
            r = make_tensor(t._backend.zeros(t.shape, t.dtype), t._backend, False)
        out.append(r)
    return tuple(out)


def _ones_for_scalars(outputs, who):
    for k, o in enumerate(outputs):
        if o.numel() != 1:
            raise RuntimeError(f"{who}: output {k} has shape {o.shape}; v can be omitted only when every output "
                               "has one element; pass v")
    return tuple(make_tensor(o._backend.ones_like(o._data), o._backend, False) for o in outputs)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product."""
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the function", "vjp")
        vs = _ones_for_scalars(outs, "vjp") if v is None else _vector(v, outs, "vjp", "outputs")
        result = _grads(outs, ins, vs, create_graph, strict, "vjp", "back")
    return _finish(outs, create_graph, out_tuple), _finish(result, create_graph, in_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick."""
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
        ins = _prepare(ins, create_graph)
        vs = _ones_for_scalars(ins, "jvp") if v is None else _vector(v, ins, "jvp", "inputs")
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the function", "jvp")
        # u stands for the vector of a vjp; J^T u is linear in u
        us = tuple(make_tensor(o._backend.zeros(o.shape, o.dtype), o._backend, True) for o in outs)
        back = _grads(outs, ins, us, True, strict, "jvp", "back")
        result = _grads(back, us, vs, create_graph, strict, "jvp", "back trick")
    return _finish(outs, create_graph, out_tuple), _finish(result, create_graph, out_tuple)


def _scalar_output(func, ins, who):
    out = func(*ins)
    if not isinstance(out, TensorBase):
        raise RuntimeError(f"{who}: the function must return a single Tensor, got {type(out).__name__}")
    if out.numel() != 1:
        raise RuntimeError(f"{who}: the function must return a Tensor with one element, got shape {out.shape}")
    return out


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of a scalar function."""
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "vhp")
        ins = _prepare(ins, create_graph)
        vs = _ones_for_scalars(ins, "vhp") if v is None else _vector(v, ins, "vhp", "inputs")
        out = _scalar_output(func, ins, "vhp")
        first = _grads((out,), ins, (make_tensor(out._backend.ones_like(out._data), out._backend),),
                       True, strict, "vhp", "back")
        result = _grads(first, ins, vs, create_graph, strict, "vhp", "double back")
    return _finish((out,), create_graph, False), _finish(result, create_graph, in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): equal to vhp, the Hessian being symmetric."""
    return vhp(func, inputs, v, create_graph, strict)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian: for one input and one output a Tensor of shape
    ``output.shape + input.shape``; a tuple over the inputs or the outputs where
    either was a tuple, and a tuple of tuples ``[i][j] = d out_i / d in_j`` where both were."""
    if strategy != "reverse-mode":
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' (tinygrad_bn has no forward-mode AD), "
                         f"got {strategy!r}")
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the function", "jacobian")
        rows = [[None] * len(ins) for _ in outs]
        for i, o in enumerate(outs):
            be = o._backend
            per_input = [[] for _ in ins]
            for flat in range(o.numel()):
                e = be.zeros((o.numel(),), o.dtype)
                be.setitem(e, flat, 1)
                gos = tuple(make_tensor(be.reshape(e, o.shape) if k == i else be.zeros(p.shape, p.dtype), be)
                            for k, p in enumerate(outs))
                for j, g in enumerate(_grads(outs, ins, gos, create_graph, strict, "jacobian", "back")):
                    per_input[j].append(g)
            for j, t in enumerate(ins):
                rows[i][j] = _stacked(per_input[j], o.shape, t)
    rows = [_finish(r, create_graph, True) for r in rows]
    if not out_tuple:
        return rows[0] if in_tuple else rows[0][0]
    return tuple(r if in_tuple else r[0] for r in rows)


def _stacked(rows, out_shape, t):
    from ..ops.movement import stack
    if not rows:  # an output with no elements
        return make_tensor(t._backend.zeros(tuple(out_shape) + t.shape, t.dtype), t._backend)
    return stack(rows, 0).reshape(tuple(out_shape) + t.shape)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: a Tensor of shape ``input.shape * 2``
    for one input, a tuple of tuples ``[i][j] = d2 f / d in_i d in_j`` for several."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = _scalar_output(func, xs, "hessian")
        return _grads((out,), xs, (make_tensor(out._backend.ones_like(out._data), out._backend),),
                      True, strict, "hessian", "back")

    result = jacobian(gradient, ins, create_graph, strict, vectorize, outer_jacobian_strategy)
    if not in_tuple:
        return result[0][0]
    return result
