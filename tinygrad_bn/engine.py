"""The engine: walks the tape back from some outputs.

``backward`` accumulates gradients into the leaves' ``.grad``; ``grad`` returns
them instead (``torch.autograd.grad``). Both run the one walk below, which
differs only in where a leaf's gradient goes. The walk visits the entries
reachable from the outputs newest first (entries are numbered in the order they
ran, so that is a topological order), calls each op's backward, sums gradients
that meet, and frees what each entry saved unless ``retain_graph``. It knows
nothing of inspection: observers (``observers.py``) see each backward.

With ``create_graph=True`` the same walk runs on Tensors instead of arrays:
each backward gets the recording backend (``recording_backend``) and its saved
values as the tensors they were, so every step it takes is recorded and the
gradients it returns can be differentiated again.
"""
from __future__ import annotations

import sys
import threading
import time

from . import observers
from .function import TapeEntry
from .grad_mode import GradMode
from .tensor_base import TensorBase, make_tensor


def accumulate(be, current, g):
    """The running sum of gradients that meet: ``g`` alone, or a new array (an
    array even where NumPy's sum of two 0-d arrays is a scalar)."""
    if current is None:
        return g
    total = be.add(current, g)
    return total if type(total) is be.ndarray else be.asarray(total)


def sole_reference(items, index):
    """Whether ``items[index]`` is an array that nothing references but its one
    slot in ``items`` (not a view, not in another slot, not held anywhere else),
    so whoever takes it out may keep it without a copy: the walk gives such a
    gradient to a leaf as its ``.grad``, as PyTorch does when its engine holds
    the only use of a tensor. CPython reference counts tell; pass the container
    and hold no other reference to the item while asking."""
    slots = 0
    for x in items:
        slots += x is items[index]
    del x
    if slots != 1 or getattr(items[index], "base", None) is not None:
        return False
    return sys.getrefcount(items[index]) <= 1 + _TEMPORARY_REFERENCES


def references(x):
    """How many references hold ``x`` (names, container slots, attributes),
    not counting this call's own. Two counts taken around code that may keep
    ``x`` (a gradient hook) tell whether it did: the second is higher. CPython
    reference counts; pass a name, not an expression (whose value the caller's
    stack holds too), and hold the same references at both counts."""
    return sys.getrefcount(x) - _CALL_REFERENCES


# what sys.getrefcount counts beyond the slots for an item passed as items[index]
# (its argument on the stack: 1 on CPython 3.10-3.13), measured the same way;
# and what it counts for references' own argument, measured on an object one name holds
_probe = [object()]
_TEMPORARY_REFERENCES = sys.getrefcount(_probe[0]) - 1
_CALL_REFERENCES = 0
_probe = object()
_CALL_REFERENCES = references(_probe) - 1
del _probe


def _reachable(roots):
    """All entries reachable from ``roots``, newest first."""
    seen = set()
    order = []
    stack = list(roots)
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        order.append(e)
        for p in e.parents:
            if type(p) is TapeEntry:
                stack.append(p)
    order.sort(key=lambda e: e.seq, reverse=True)
    return order


def _run_hooks(hooks, g, be):
    """Each hook sees the gradient as a tensor and may return a replacement of
    the same shape, dtype and device (on the recording backend the gradient
    already is a tensor, with its graph)."""
    records = be.records
    for hook in hooks:
        res = hook(g if records else make_tensor(g, be, False))
        if res is not None:
            _check_hook_result(hook, res, g, be)
            g = res if records else res._data
    return g


def _check_hook_result(hook, res, g, be):
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(res, TensorBase):
        raise TypeError(f"hook {name!r} returned a {type(res).__name__}; a gradient hook must return a Tensor "
                        "(the new gradient) or None (keep it)")
    if res.shape != tuple(g.shape):
        raise RuntimeError(f"hook {name!r} changed the gradient's shape from {tuple(g.shape)} to {res.shape}; "
                           "a hook must return a gradient of the same shape")
    if res.dtype != g.dtype:
        raise RuntimeError(f"hook {name!r} changed the gradient's dtype from {g.dtype} to {res.dtype}; "
                           "a hook must keep it: cast it back (res.to(grad.dtype))")
    if res._backend is not be.base:
        raise RuntimeError(f"hook {name!r} returned a gradient on {res.device}, expected {be.name} "
                           "(the tensor's device); move it with .to(device)")


def _add_into_grad(t, g, be):
    """t.grad += g: in place on arrays; on the recording backend a new recorded
    sum, as PyTorch accumulates when create_graph is set."""
    if be.records:
        t.grad = g if t.grad is None else be.add(t.grad, g)
    elif t.grad is None:
        t.grad = make_tensor(be.copy(g), be, False)
    else:
        be.iadd(t.grad._data, g)


def _check_grad(entry, i, g, be):
    parent = entry.parents[i]
    if type(parent) is TapeEntry:
        slots = entry.parent_outputs
        shape, dtype = parent.out_meta[slots[i] if slots else 0]
    else:
        shape, dtype = parent._data.shape, parent._data.dtype
    if g.shape != shape:
        raise RuntimeError(
            f"{entry.name}.backward returned a gradient of shape {tuple(g.shape)} for "
            f"input {i}, expected {tuple(shape)} (the input's shape); sum it over the "
            "broadcast axes."
        )
    if type(g) is not be.ndarray:  # a NumPy scalar, what arithmetic on 0-d arrays returns
        g = be.asarray(g)
    return be.cast(g, dtype)


class _IntoLeafGrads:
    """Where ``backward`` sends a leaf's gradient: through its hooks into ``.grad``."""

    def __call__(self, leaf, g, be, owned):
        if be.records:
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g, be)
            _add_into_grad(leaf, g, be)
            return
        if leaf._hooks:
            before = references(g)
            replaced = _run_hooks(leaf._hooks, g, be)
            if replaced is g:
                del replaced
                # a hook that kept the gradient (a tensor of it, a view, its array)
                # holds one more reference to it now: then .grad must be a copy
                owned = owned and references(g) <= before
            else:
                owned, g = False, replaced
        if leaf.grad is None:
            owned = owned and type(g) is be.ndarray  # a hook may return a NumPy scalar
            leaf.grad = make_tensor(g if owned else be.copy(g), be, False)
        else:
            be.iadd(leaf.grad._data, g)


class _IntoGivenGrads(_IntoLeafGrads):
    """Where ``backward(inputs=...)`` sends gradients: into the ``.grad`` of the
    given tensors only, leaves and non-leaves alike (as PyTorch)."""

    def __init__(self, inputs):
        self.leaves = {id(t) for t in inputs if t._entry is None}
        self.outputs = {(id(t._entry), t._out_index): t for t in inputs if t._entry is not None}

    def __call__(self, leaf, g, be, owned):
        if id(leaf) in self.leaves:
            super().__call__(leaf, g, be, owned)

    def capture(self, entry, grads):
        for i, g in enumerate(grads):
            t = self.outputs.get((id(entry), i))
            if t is not None and g is not None:
                be = _recording(t._backend) if isinstance(g, TensorBase) else t._backend
                _add_into_grad(t, g, be)


class _IntoResults:
    """Where ``grad`` sends gradients: into a list, by the inputs' positions."""

    def __init__(self, inputs):
        self.results = [None] * len(inputs)
        self.leaves = {id(t): k for k, t in enumerate(inputs) if t._entry is None}
        self.outputs = {(id(t._entry), t._out_index): k for k, t in enumerate(inputs) if t._entry is not None}

    def __call__(self, leaf, g, be, owned):
        k = self.leaves.get(id(leaf))
        if k is not None:
            if leaf._hooks:  # an input's hooks run in grad() too, as in PyTorch
                g = _run_hooks(leaf._hooks, g, be)
            self.results[k] = g

    def capture(self, entry, grads):
        if self.outputs:
            for i, g in enumerate(grads):
                k = self.outputs.get((id(entry), i))
                if k is not None:
                    self.results[k] = g


def run_backward(outputs, grad_outputs, retain_graph, deliver, create_graph=False):
    """The walk. Every entry reachable from the outputs, newest first, turns the
    gradients of its outputs into those of its inputs: an input made by another
    entry gets it summed into that entry's pending gradient, a leaf gets it
    through ``deliver(leaf, grad, backend, owned)`` (``owned``: the walk alone
    holds the array). With ``create_graph`` the gradients are Tensors and every
    backward is recorded (grad mode on while it runs)."""
    pending = {}  # id(entry) -> the gradient of its output, or a list of them, one per output
    leaves = {}  # id(leaf) -> (leaf, its gradient summed so far, backend, owned): delivered once, at the end
    lift = _recording if create_graph else _same
    previous_mode, GradMode.enabled = GradMode.enabled, bool(create_graph)
    try:
        for entry in _reachable(_start(outputs, grad_outputs, pending, leaves, lift)):
            g = pending.pop(id(entry), None)
            if g is None:
                continue  # nothing flowed into it: its outputs reached the roots only through others' inputs
            grads = _output_grads(entry, g, deliver, lift)
            del g
            in_grads = _call_backward(entry, grads, lift)
            del grads  # a gradient passed straight through is then held by in_grads alone (see sole_reference)
            _send(entry, in_grads, pending, leaves, lift)
            if not retain_graph:
                entry.ctx._free()
        # a leaf's hooks run once, with the sum of its gradients (PyTorch's AccumulateGrad)
        for leaf, g, be, owned in leaves.values():
            deliver(leaf, g, be, owned)
    finally:
        GradMode.enabled = previous_mode


def _add_leaf_grad(leaves, leaf, g, be, owned):
    held = leaves.get(id(leaf))
    if held is None:
        leaves[id(leaf)] = (leaf, g, be, owned)
    else:  # another use of the leaf: the sum is a new array
        leaves[id(leaf)] = (leaf, accumulate(be, held[1], g), be, True)


def _same(be):
    return be


def _recording(be):
    """The recording backend over ``be`` (imported on first use: it imports the ops)."""
    global _recording
    from .recording_backend import recording
    _recording = recording
    return recording(be)


def _start(outputs, grad_outputs, pending, leaves, lift):
    """The entries the walk starts from, with their outputs' gradients pending
    (an output that is a leaf gets its gradient with the other leaves)."""
    roots = []
    for out, g in zip(outputs, grad_outputs):
        if out._entry is None:
            if not out.requires_grad:
                raise RuntimeError(
                    "backward: the tensor does not require grad and has no tape entry; "
                    "nothing to differentiate. Create its inputs with requires_grad=True "
                    "and compute it outside no_grad()."
                )
            _add_leaf_grad(leaves, out, g, lift(out._backend), False)
            continue
        _add_pending(pending, out._entry, out._out_index, g, out._backend, lift)
        roots.append(out._entry)
    return roots


def _output_grads(entry, g, deliver, lift):
    """The gradients of an entry's outputs as its backward takes them: zeros for
    a differentiable output that received none, None for one that carries none,
    after the outputs' hooks; retained and captured (``grad``'s inputs) here."""
    be = entry.ctx.output_backend or entry.ctx.backend  # gradients of an output live on its device
    if lift is not _same:
        be = lift(be)
    if entry.n_outputs == 1:
        grads = (g,)
    else:
        materialize = getattr(entry.ctx, "materialize_grads", True)  # a Function's set_materialize_grads
        grads = tuple(gi if gi is not None or not d or not materialize else be.zeros(*meta)
                      for gi, d, meta in zip(g, entry.differentiable, entry.out_meta))
    if entry.hooks or entry.retained:
        grads = _hooks_and_retained(entry, grads, be)
    capture = getattr(deliver, "capture", None)
    if capture is not None:
        capture(entry, grads)
    return grads


def _call_backward(entry, grads, lift):
    """``entry``'s backward on ``grads``, after checking that it can run, and
    its result checked: one gradient (or None) per forward argument. Recorded
    (``lift`` gives the recording backend), it runs on a copy of the context
    whose backend records and whose saved values are the tensors they were."""
    ctx = entry.ctx
    if ctx._freed:
        raise RuntimeError(
            f"{entry.name} (tape entry #{entry.seq}): trying to backward through the "
            "graph a second time. The values saved for backward were freed by the first "
            "backward; pass retain_graph=True to that first call to keep them."
        )
    ctx._op = (entry.name, entry.seq)  # for saved_tensors' messages
    if lift is not _same:
        ctx = ctx.recorded(entry, lift(ctx.backend), ctx.output_backend and lift(ctx.output_backend))
    watchers = entry.watchers or ()
    if observers.active:
        watchers = tuple(watchers) + tuple(o.on_backward for o in observers.active)
    if watchers:
        in_grads = _timed_backward(entry, ctx, grads, watchers)
    elif lift is _same:
        in_grads = entry.fn.backward(ctx, *grads)
    else:
        in_grads = _recorded_backward(entry, ctx, grads)
    if not isinstance(in_grads, tuple):
        in_grads = (in_grads,)
    n = len(entry.parents)
    if len(in_grads) != n and not (len(in_grads) > n and all(g is None for g in in_grads[n:])):
        raise RuntimeError(
            f"{entry.name}.backward returned {len(in_grads)} gradients, expected "
            f"{n} (one per forward argument; use None for "
            "arguments that need none)."
        )
    return in_grads


def _recorded_backward(entry, ctx, grads):
    """A backward run on the recording backend; the entries it records know
    which backward made them (the Tape shows it)."""
    outer = observers.making.backward_of
    observers.making.backward_of = entry
    try:
        return entry.fn.backward(ctx, *grads)
    finally:
        observers.making.backward_of = outer


def _timed_backward(entry, ctx, grads, watchers):
    """The backward of an observed entry: timed (waiting for the devices before
    and after), then shown to each watcher (arrays, also in a recorded pass)."""
    ctx.backend.synchronize()
    t0 = time.perf_counter()
    records = ctx.backend.records
    in_grads = _recorded_backward(entry, ctx, grads) if records else entry.fn.backward(ctx, *grads)
    ctx.backend.synchronize()
    if ctx.output_backend is not None and ctx.output_backend is not ctx.backend:
        ctx.output_backend.synchronize()  # a move: the gradient came from the other device
    seconds = time.perf_counter() - t0
    # a tuple of their own (one a watcher keeps then holds the arrays, and the walk
    # sees it does), with device arrays where the backward returned NumPy scalars
    be = ctx.backend.base if records else ctx.backend
    shown = tuple(g if g is None or type(g) is be.ndarray else be.asarray(_array(g))
                  for g in (in_grads if isinstance(in_grads, tuple) else (in_grads,)))
    if records:
        grads = tuple(_array(g) for g in grads)
    for w in watchers:
        w(entry, grads, shown, seconds)
    return in_grads


def _array(g):
    return g._data if isinstance(g, TensorBase) else g


def _send(entry, in_grads, pending, leaves, lift):
    """Each input's gradient, checked against the input's shape and cast to its
    dtype, to the entry that made the input or to the leaf."""
    be = entry.ctx.backend if lift is _same else lift(entry.ctx.backend)  # the inputs' device
    slots = entry.parent_outputs
    for i, parent in enumerate(entry.parents):
        if parent is None or in_grads[i] is None:
            if in_grads[i] is not None and entry.plain_args >> i & 1:
                raise RuntimeError(f"{entry.name}.backward returned a gradient for argument {i}, which was not a "
                                   "tensor in forward; expected None there (return None for it)")
            continue
        if type(parent) is TapeEntry:
            _add_pending(pending, parent, slots[i] if slots else 0, _check_grad(entry, i, in_grads[i], be), be, lift)
        else:
            owned = lift is _same and sole_reference(in_grads, i)
            g = _check_grad(entry, i, in_grads[i], be)
            _add_leaf_grad(leaves, parent, g, be, owned or g is not in_grads[i])  # a cast is a new array


def _add_pending(pending, entry, index, g, be, lift):
    key = id(entry)
    if entry.ctx.output_backend is not None:
        be = lift(entry.ctx.output_backend)  # gradients of an output live on its device
    if entry.n_outputs == 1:
        pending[key] = accumulate(be, pending.get(key), g)
        return
    per_output = pending.get(key)
    if per_output is None:
        per_output = pending[key] = [None] * entry.n_outputs
    per_output[index] = accumulate(be, per_output[index], g)


def _hooks_and_retained(entry, grads, be):
    grads = list(grads)
    for i, g in enumerate(grads):
        if g is None:
            continue
        hooks = entry.hooks.get(i) if entry.hooks else None
        if hooks:
            g = grads[i] = _run_hooks(hooks, g, be)
        ref = entry.retained.get(i) if entry.retained else None
        t = ref() if ref is not None else None
        if t is not None:
            _add_into_grad(t, g, be)
    return tuple(grads)


# ------------------------------------------------------------------ public entry points

_callbacks = threading.local()  # .queue: what runs when this thread's backward call ends


def queue_callback(fn):
    """Run ``fn()`` once the backward call now running has delivered every
    gradient (PyTorch's ``Variable._execution_engine.queue_callback``): gradient
    hooks use it to act on all the gradients of a pass together, as
    DistributedDataParallel does to average them in buckets."""
    queue = getattr(_callbacks, "queue", None)
    if queue is None:
        raise RuntimeError("queue_callback: no backward is running; call it from a gradient hook")
    queue.append(fn)


def current_backward():
    """A token for the backward call running in this thread (the same object for
    all of one call), or None: hooks use it to tell one call from the next."""
    return getattr(_callbacks, "queue", None)


def backward(outputs, grad_outputs=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(outputs)/d(leaf) into every leaf's ``.grad`` (only into the
    ``inputs`` given, when given: leaves or not), then run the callbacks hooks
    queued during the walk. With ``create_graph`` the gradients are recorded
    (``.grad`` can be differentiated again); ``retain_graph`` defaults to
    ``create_graph``, as in PyTorch."""
    outputs = list(outputs)
    gos = default_grad_outputs(outputs, grad_outputs, "backward", as_tensors=create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    if inputs is not None:
        inputs = _tensor_list(inputs, "inputs", "backward")
        if not inputs:
            raise RuntimeError("backward: inputs is empty; pass the tensors to accumulate into, or None for all leaves")
    sink = _IntoLeafGrads() if inputs is None else _IntoGivenGrads(inputs)
    outer, _callbacks.queue = getattr(_callbacks, "queue", None), []
    try:
        run_backward(outputs, gos, bool(retain), sink, create_graph)
        queued = _callbacks.queue
    finally:
        _callbacks.queue = outer
    for fn in queued:
        fn()


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple of
    tensors, without touching any ``.grad`` (``torch.autograd.grad``). With
    ``create_graph`` they are recorded tensors that can be differentiated again;
    ``retain_graph`` defaults to ``create_graph``. ``only_inputs`` is accepted
    and ignored, as in PyTorch (where it is deprecated)."""
    outputs = _tensor_list(outputs, "outputs")
    inputs = _tensor_list(inputs, "inputs")
    for k, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: input {k} does not require grad; only tensors created with "
                "requires_grad=True (or computed from one) can be differentiated against."
            )
    if grad_outputs is not None and not isinstance(grad_outputs, TensorBase):
        grad_outputs = list(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise RuntimeError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; "
                               "expected one per output (None for a scalar output's 1)")
    elif isinstance(grad_outputs, TensorBase) and len(outputs) != 1:
        raise RuntimeError(f"grad: got one grad_output tensor for {len(outputs)} outputs; "
                           "pass a sequence with one per output")
    gos = default_grad_outputs(outputs, grad_outputs, "grad", as_tensors=create_graph)
    sink = _IntoResults(inputs)
    retain = create_graph if retain_graph is None else retain_graph
    run_backward(outputs, gos, bool(retain), sink, create_graph)
    out = []
    for k, (t, g) in enumerate(zip(inputs, sink.results)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {k} was not used to compute the outputs; pass "
                    "allow_unused=True to get None for it."
                )
            out.append(None)
        else:
            out.append(g if isinstance(g, TensorBase) else make_tensor(g, t._backend, False))
    return tuple(out)


def _tensor_list(value, name, who="grad"):
    """``outputs`` or ``inputs``: one tensor or a sequence of tensors."""
    if isinstance(value, TensorBase):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{who}: {name} must be a Tensor or a sequence of Tensors, got {type(value).__name__}")
    for k, t in enumerate(value):
        if not isinstance(t, TensorBase):
            raise TypeError(f"{who}: {name}[{k}] must be a Tensor, got {type(t).__name__}")
    return list(value)


def default_grad_outputs(outputs, grad_outputs, who, as_tensors=False):
    """The gradient each output starts with: given, or 1 for a scalar. Arrays,
    or (``as_tensors``, for a recorded pass) tensors: a given tensor as it is,
    graph and all."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, TensorBase):
        grad_outputs = [grad_outputs]
    gos = []
    for out, g in zip(outputs, grad_outputs):
        be = out._backend
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"{who}: grad can be created implicitly only for scalar outputs, got "
                    f"shape {tuple(out.shape)}; pass a gradient of that shape, e.g. "
                    "out.backward(ones_like(out))."
                )
            gos.append(be.ones_like(out._data))
        else:
            given = g
            if isinstance(g, TensorBase):
                if g._backend is not be:
                    raise RuntimeError(
                        f"{who}: the gradient is on {g.device} but the output is on {out.device}; "
                        "move it with .to(device)."
                    )
                g = g._data
            else:
                g = be.asarray(g, dtype=out.dtype)
            if g.shape != out._data.shape:
                raise RuntimeError(
                    f"{who}: gradient has shape {tuple(g.shape)} but the output has shape "
                    f"{tuple(out.shape)}; they must match."
                )
            if as_tensors and isinstance(given, TensorBase) and given.requires_grad:
                gos.append(_recording(be).cast(given, out.dtype))
                continue
            gos.append(be.cast(g, out.dtype))
    if as_tensors:
        return [g if isinstance(g, TensorBase) else make_tensor(g, out._backend, False)
                for g, out in zip(gos, outputs)]
    return gos
