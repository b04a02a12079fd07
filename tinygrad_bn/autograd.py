"""The tape and its engine.

Every op is a ``Function``. ``Function.apply`` runs the op's forward on raw arrays
and, when grad mode is on and an input needs a gradient, creates one ``TapeEntry``
that the output tensor points to. An entry holds the op, its context (what it saved
for backward), and its parents: for every input, the entry that made it, the leaf
tensor itself, or None. Entries are numbered in the order they ran, so the reverse
of that order is a topological order and backward needs no separate sort.

Memory follows the tensors: an entry is referenced only by the tensors it made and by
the entries downstream of it, so a forward pass whose output is dropped frees its
whole graph (no global list of entries exists).
"""
from __future__ import annotations

import functools
import itertools
import time

from .backends import get_backend

_sequence = itertools.count()


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    return _GradMode.enabled


class _GradModeSetter:
    """Base of ``no_grad`` and ``enable_grad``: a context manager and a decorator."""

    mode = True

    def __enter__(self):
        self._prev = _GradMode.enabled
        _GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeSetter):
    """Ops inside record nothing on the tape (use for evaluation and updates)."""

    mode = False


class enable_grad(_GradModeSetter):
    """Turn recording back on inside a ``no_grad`` region."""

    mode = True


class set_grad_enabled(_GradModeSetter):
    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class Context:
    """What a Function's forward passes to its backward.

    ``save_for_backward(*arrays)`` keeps arrays for backward; ``saved_tensors``
    gives them back, after checking that no input or output they came from was
    changed in place since. Other attributes may be set freely (``ctx.axis = 1``).
    ``params`` (a dict) and ``kernel`` (a name) describe the op on the tape.
    """

    # the framework's fields live in slots; an op's own attributes go to __dict__,
    # which backward's cleanup empties in one call
    __slots__ = ("backend", "needs_input_grad", "params", "kernel", "_saved", "_saved_versions",
                 "_freed", "_op_name", "_seq", "__dict__")

    def __init__(self, backend, needs_input_grad):
        self.backend = backend
        self.needs_input_grad = needs_input_grad
        self.params = None
        self.kernel = None
        self._saved = ()
        self._saved_versions = None  # [(index in saved, version cell, version)]
        self._freed = False
        self._op_name = None
        self._seq = None

    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                f"{self._op_name}: trying to backward through the graph a second time "
                "(or to read saved values after they were freed). The values saved "
                "for backward are freed after the first backward; call "
                "backward(retain_graph=True) the first time if you need to go back twice."
            )
        if self._saved_versions:
            for i, cell, version in self._saved_versions:
                if cell[0] != version:
                    raise RuntimeError(
                        f"{self._op_name} (tape entry #{self._seq}): one of the values it "
                        f"saved for backward (saved value {i}, shape "
                        f"{tuple(self._saved[i].shape)}) was modified by an in-place "
                        f"operation: it is at version {cell[0]}, expected version "
                        f"{version}. Use an out-of-place op (x = x + y instead of "
                        "x.add_(y)) or clone the tensor before changing it."
                    )
        return self._saved

    def saved_bytes(self, exclude=()) -> int:
        """Bytes held for backward: saved arrays plus arrays stored as attributes,
        leaving out the arrays in ``exclude`` (e.g. parameters, alive anyway)."""
        total = 0
        seen = {id(a) for a in exclude}
        for v in list(self._saved or ()) + list(self.__dict__.values()):
            nbytes = getattr(v, "nbytes", None)
            if nbytes is not None and id(v) not in seen:
                seen.add(id(v))
                total += int(nbytes)
        return total

    def _free(self):
        self.__dict__.clear()
        self._saved = None
        self._freed = True


class TapeEntry:
    """One recorded op. ``parents[i]`` is the entry that produced input i, the leaf
    tensor itself, or None when input i needs no gradient."""

    __slots__ = ("seq", "fn", "ctx", "parents", "in_meta", "out_shape", "out_dtype",
                 "device", "retained", "hooks", "module", "record", "origin", "__weakref__")

    def __init__(self, seq, fn, ctx, parents, in_meta, out):
        self.seq = seq
        self.fn = fn
        self.ctx = ctx
        self.parents = parents
        self.in_meta = in_meta  # (shape, dtype) per input, None for non-tensors
        self.out_shape = out.shape
        self.out_dtype = out.dtype
        self.device = None
        self.retained = None  # weakref to the output tensor when retain_grad() was called
        self.hooks = None  # gradient hooks registered on the output tensor
        self.module = None  # the module whose forward ran this op
        self.record = None  # inspection record when a Tape captured this entry
        self.origin = None  # (file, line, code) that created it, in anomaly mode

    @property
    def name(self) -> str:
        return self.fn.__name__

    def __repr__(self):
        return f"<TapeEntry #{self.seq} {self.name} -> {tuple(self.out_shape)}>"


# Hooks that the inspection layer (tinygrad_bn.tape) installs. Kept as a list that
# is empty in the common case so recording costs one truth test when no Tape is open.
_capture_stack: list = []
_anomaly = {"on": False}
_module_stack: list = []


class Function:
    """Base class of every op, ours and a user's.

    Subclasses define ``forward(ctx, *args)`` on raw arrays (tensors arrive as their
    arrays, other arguments as they are) returning one array, and
    ``backward(ctx, grad)`` returning one gradient per forward argument (None for
    arguments that are not tensors or need no gradient). Call ``MyOp.apply(...)``.
    """

    # Set to True by ops whose output may share memory with their first input
    # (reshape, transpose, slicing), so in-place changes through either are seen.
    is_view = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        from .tensor import Tensor

        backend = None
        device = None
        arrays = []
        needs = []
        any_needs = False
        for a in args:
            if isinstance(a, Tensor):
                if device is None:
                    device = a.device
                    backend = a._backend
                elif a.device != device:
                    raise RuntimeError(
                        f"{cls.__name__}: expected all tensors on the same device, got "
                        f"{device} and {a.device}; move them with .to(device)."
                    )
                arrays.append(a.data)
                r = a.requires_grad
                needs.append(r)
                any_needs = any_needs or r
            else:
                arrays.append(a)
                needs.append(False)
        if backend is None:
            backend = get_backend("cpu")
            device = "cpu"
        record = any_needs and _GradMode.enabled
        ctx = Context(backend, tuple(needs))
        capturing = record and _capture_stack
        if capturing:
            t0 = time.perf_counter()
        out = cls.forward(ctx, *arrays)
        if not isinstance(out, backend.ndarray):
            out = backend.asarray(out)
        result = Tensor._wrap(out, device, record)
        if cls.is_view and isinstance(args[0], Tensor) and backend.shares_memory(out, args[0].data):
            result._version_cell = args[0]._version_cell
        if not record:
            return result
        seq = next(_sequence)
        ctx._op_name = cls.__name__
        ctx._seq = seq
        parents = []
        in_meta = []
        for a, n in zip(args, needs):
            if isinstance(a, Tensor):
                in_meta.append((a.data.shape, a.data.dtype))
                parents.append((a._entry if a._entry is not None else a) if n else None)
            else:
                in_meta.append(None)
                parents.append(None)
        entry = TapeEntry(seq, cls, ctx, tuple(parents), tuple(in_meta), out)
        entry.device = device
        if _module_stack:
            entry.module = _module_stack[-1]
        result._entry = entry
        if ctx._saved:
            _remember_versions(ctx, args, result)
        if capturing:
            elapsed = time.perf_counter() - t0
            for tape in _capture_stack:
                tape._on_forward(entry, args, result, elapsed)
        if _anomaly["on"]:
            from .anomaly import check_forward

            check_forward(entry, out)
        return result


def _remember_versions(ctx, args, result):
    """For each saved array that is an input's or the output's array, note which
    version of that tensor it was, so backward can detect in-place changes."""
    from .tensor import Tensor

    versions = []
    for i, s in enumerate(ctx._saved):
        if s is result.data:
            versions.append((i, result._version_cell, result._version_cell[0]))
            continue
        for a in args:
            if isinstance(a, Tensor) and s is a.data:
                versions.append((i, a._version_cell, a._version_cell[0]))
                break
    ctx._saved_versions = versions


# --------------------------------------------------------------------------- engine

def _collect(roots):
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
            if p is not None and type(p) is TapeEntry:
                stack.append(p)
    order.sort(key=lambda e: e.seq, reverse=True)
    return order


def _check_grad(entry, i, g):
    shape, dtype = entry.in_meta[i]
    if g.shape != shape:
        raise RuntimeError(
            f"{entry.name}.backward returned a gradient of shape {tuple(g.shape)} for "
            f"input {i}, expected {tuple(shape)} (the input's shape); sum it over the "
            "broadcast axes."
        )
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _run_hooks(hooks, grad_array, device):
    from .tensor import Tensor

    for hook in hooks:
        res = hook(Tensor._wrap(grad_array, device, False))
        if res is not None:
            grad_array = res.data if isinstance(res, Tensor) else res
    return grad_array


def run_backward(outputs, grad_outputs, retain_graph=False, inputs=None):
    """Walk the tape back from ``outputs``.

    With ``inputs`` None, gradients accumulate into ``.grad`` of the leaves.
    Otherwise returns the gradients of ``inputs`` (a list, None where no gradient
    flows) and leaves every ``.grad`` alone, like ``torch.autograd.grad``.
    """
    from .tensor import Tensor

    grads = {}  # id(entry) -> accumulated gradient of the entry's output
    roots = []
    leaf_grads = {}  # id(leaf) -> (leaf, grad) when capturing for grad()
    capture_entries = {}
    if inputs is not None:
        for k, t in enumerate(inputs):
            if t._entry is not None:
                capture_entries[id(t._entry)] = k
    results = [None] * (len(inputs) if inputs is not None else 0)
    input_leaf_index = {id(t): k for k, t in enumerate(inputs or ()) if t._entry is None}

    def add_leaf(leaf, g):
        if inputs is not None:
            k = input_leaf_index.get(id(leaf))
            if k is not None:
                results[k] = g if results[k] is None else results[k] + g
            return
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g, leaf.device)
        if leaf.grad is None:
            leaf.grad = Tensor._wrap(leaf._backend.copy(g), leaf.device, False)
        else:
            leaf._backend.iadd(leaf.grad.data, g)

    for out, g in zip(outputs, grad_outputs):
        if out._entry is None:
            if not out.requires_grad:
                raise RuntimeError(
                    "backward: the tensor does not require grad and has no tape entry; "
                    "nothing to differentiate. Create its inputs with requires_grad=True "
                    "and compute it outside no_grad()."
                )
            add_leaf(out, g)
            continue
        e = out._entry
        grads[id(e)] = g if id(e) not in grads else grads[id(e)] + g
        roots.append(e)

    for entry in _collect(roots):
        g = grads.pop(id(entry), None)
        if g is None:
            continue
        if entry.hooks:
            g = _run_hooks(entry.hooks, g, entry.device)
        if entry.retained is not None:
            t = entry.retained()
            if t is not None:
                if t.grad is None:
                    t.grad = Tensor._wrap(t._backend.copy(g), t.device, False)
                else:
                    t._backend.iadd(t.grad.data, g)
        if inputs is not None and id(entry) in capture_entries:
            results[capture_entries[id(entry)]] = g
        ctx = entry.ctx
        if ctx._freed:
            raise RuntimeError(
                f"{entry.name} (tape entry #{entry.seq}): trying to backward through the "
                "graph a second time. The values saved for backward were freed by the first "
                "backward; pass retain_graph=True to that first call to keep them."
            )
        t0 = time.perf_counter() if entry.record is not None else 0.0
        in_grads = entry.fn.backward(ctx, g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if len(in_grads) < len(entry.parents):
            raise RuntimeError(
                f"{entry.name}.backward returned {len(in_grads)} gradients, expected "
                f"{len(entry.parents)} (one per forward argument; use None for "
                "arguments that need none)."
            )
        if entry.record is not None:
            from .tape import _record_backward

            _record_backward(entry.record, ctx.backend, g, in_grads, time.perf_counter() - t0)
        if _anomaly["on"]:
            from .anomaly import check_backward

            check_backward(entry, in_grads)
        for i, parent in enumerate(entry.parents):
            if parent is None:
                continue
            gi = in_grads[i]
            if gi is None:
                continue
            gi = _check_grad(entry, i, gi)
            if type(parent) is TapeEntry:
                pid = id(parent)
                prev = grads.get(pid)
                grads[pid] = gi if prev is None else prev + gi
            else:
                add_leaf(parent, gi)
        if not retain_graph:
            ctx._free()
    return results


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple of
    tensors, without touching any ``.grad`` (like ``torch.autograd.grad``)."""
    from .tensor import Tensor

    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(
                f"grad: input {k} does not require grad; only tensors created with "
                "requires_grad=True (or computed from one) can be differentiated against."
            )
    gos = _default_grad_outputs(outputs, grad_outputs, "grad")
    res = run_backward(outputs, gos, retain_graph=bool(retain_graph), inputs=inputs)
    out = []
    for k, (t, g) in enumerate(zip(inputs, res)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {k} was not used to compute the outputs; pass "
                    "allow_unused=True to get None for it."
                )
            out.append(None)
        else:
            out.append(Tensor._wrap(g, t.device, False))
    return tuple(out)


def _default_grad_outputs(outputs, grad_outputs, who):
    from .tensor import Tensor

    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    gos = []
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{who}: grad can be created implicitly only for scalar outputs, got "
                    f"shape {tuple(out.shape)}; pass a gradient of that shape, e.g. "
                    "out.backward(ones_like(out))."
                )
            gos.append(out._backend.ones_like(out.data))
        else:
            g = g.data if isinstance(g, Tensor) else out._backend.asarray(g, dtype=out.dtype)
            if g.shape != out.data.shape:
                raise RuntimeError(
                    f"{who}: gradient has shape {tuple(g.shape)} but the output has shape "
                    f"{tuple(out.shape)}; they must match."
                )
            gos.append(out._backend.cast(g, out.dtype))
    return gos
