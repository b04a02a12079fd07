"""The engine: walks the tape back from some outputs.

``backward`` accumulates gradients into the leaves' ``.grad``; ``grad`` returns
them instead (``torch.autograd.grad``). Both run the one walk below, which
differs only in where a leaf's gradient goes. The walk visits the entries
reachable from the outputs newest first (entries are numbered in the order they
ran, so that is a topological order), calls each op's backward, sums gradients
that meet, and frees what each entry saved unless ``retain_graph``. It knows
nothing of inspection: observers (``observers.py``) see each backward.
Its parts live beside it: where gradients go (``engine_delivery``), gradient
hooks (``engine_hooks``), the reference counts that spare a copy
(``engine_refcounts``), the recorded pass (``engine_recorded``), the arguments
(``engine_arguments``) and ``grad`` (``engine_grad``).

With ``create_graph=True`` the same walk runs on Tensors instead of arrays:
each backward gets the recording backend (``recording_backend``) and its saved
values as the tensors they were, so every step it takes is recorded and the
gradients it returns can be differentiated again.
"""
from __future__ import annotations

import threading
import time

from . import observers
from .engine_arguments import default_grad_outputs, tensor_list
from .engine_delivery import IntoGivenGrads, IntoLeafGrads, add_into_grad
from .engine_hooks import run_hooks
from .engine_recorded import recorded_backward, recording, same
from .engine_refcounts import sole_reference
from .function import TapeEntry
from .grad_mode import GradMode
from .tensor_base import TensorBase


def accumulate(be, current, g):
    """The running sum of gradients that meet: ``g`` alone, or a new array (an
    array even where NumPy's sum of two 0-d arrays is a scalar)."""
    if current is None:
        return g
    total = be.add(current, g)
    return total if type(total) is be.ndarray else be.asarray(total)


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


def _check_grad(entry, i, g, be):
    parent = entry.parents[i]
    if type(parent) is TapeEntry:
        slots = entry.parent_outputs
        shape, dtype = parent.out_meta[slots[i] if slots else 0]
    else:
        shape, dtype = parent._data.shape, parent._data.dtype
    if not hasattr(g, "shape"):  # a Python number or a list: not an array of the backend's
        raise TypeError(
            f"{entry.name}.backward returned a {type(g).__name__} as the gradient of input {i}; expected an "
            f"array of shape {tuple(shape)} (the input's shape), or None when the input gets no gradient."
        )
    if g.shape != shape:
        raise RuntimeError(
            f"{entry.name}.backward returned a gradient of shape {tuple(g.shape)} for "
            f"input {i}, expected {tuple(shape)} (the input's shape); sum it over the "
            "broadcast axes."
        )
    if type(g) is not be.ndarray:  # a NumPy scalar, what arithmetic on 0-d arrays returns
        g = be.asarray(g)
    return be.cast(g, dtype)


def run_backward(outputs, grad_outputs, retain_graph, deliver, create_graph):
    """The walk. Every entry reachable from the outputs, newest first, turns the
    gradients of its outputs into those of its inputs: an input made by another
    entry gets it summed into that entry's pending gradient, a leaf gets it
    through ``deliver(leaf, grad, backend, owned)`` (``owned``: the walk alone
    holds the array). With ``create_graph`` the gradients are Tensors and every
    backward is recorded (grad mode on while it runs)."""
    pending = {}  # id(entry) -> the gradient of its output, or a list of them, one per output
    leaves = {}  # id(leaf) -> (leaf, its gradient summed so far, backend, owned): delivered once, at the end
    lift = recording if create_graph else same
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
    if lift is not same:
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
    if lift is not same:
        ctx = ctx.recorded(entry, lift(ctx.backend), ctx.output_backend and lift(ctx.output_backend))
    watchers = entry.watchers or ()
    if observers.active:
        watchers = tuple(watchers) + tuple(o.on_backward for o in observers.active)
    if watchers:
        in_grads = _timed_backward(entry, ctx, grads, watchers)
    elif lift is same:
        in_grads = entry.fn.backward(ctx, *grads)
    else:
        in_grads = recorded_backward(entry, ctx, grads)
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


def _timed_backward(entry, ctx, grads, watchers):
    """The backward of an observed entry: timed (waiting for the devices before
    and after), then shown to each watcher (arrays, also in a recorded pass)."""
    ctx.backend.synchronize()
    t0 = time.perf_counter()
    records = ctx.backend.records
    in_grads = recorded_backward(entry, ctx, grads) if records else entry.fn.backward(ctx, *grads)
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
    be = entry.ctx.backend if lift is same else lift(entry.ctx.backend)  # the inputs' device
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
            owned = lift is same and sole_reference(in_grads, i)
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
            g = grads[i] = run_hooks(hooks, g, be)
        ref = entry.retained.get(i) if entry.retained else None
        t = ref() if ref is not None else None
        if t is not None:
            add_into_grad(t, g, be)
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
        inputs = tensor_list(inputs, "inputs", "backward")
        if not inputs:
            raise RuntimeError("backward: inputs is empty; pass the tensors to accumulate into, or None for all leaves")
    sink = IntoLeafGrads() if inputs is None else IntoGivenGrads(inputs)
    outer, _callbacks.queue = getattr(_callbacks, "queue", None), []
    try:
        run_backward(outputs, gos, bool(retain), sink, create_graph)
        queued = _callbacks.queue
    finally:
        _callbacks.queue = outer
    for fn in queued:
        fn()
