"""``Function``, its ``Context``, and the ``TapeEntry`` it records.

``Function.apply`` runs an op's forward on raw arrays through the inputs'
backend and, when grad mode is on and an input needs a gradient, creates one
``TapeEntry`` that the outputs point to. An entry holds the op, its context
(what it saved for backward) and its parents: for every input, the entry that
made it, the leaf tensor itself, or None. Entries are numbered in the order
they ran, so the reverse of that order is a topological order (see ``engine``).

Memory follows the tensors: an entry is referenced only by the tensors it made
and by the entries downstream of it, so a forward pass whose output is dropped
frees its whole graph (no global list of entries exists).
"""
from __future__ import annotations

import itertools
import re
import time

from . import observers
from .arguments import devices_differ
from .backends import get_backend
from .grad_mode import GradMode
from .tensor_base import TensorBase, make_tensor

_sequence = itertools.count()

# A NumPy error raised inside an op gets the op's name in front, unless the
# message already starts with one (ours do: "group_norm: ...").
_NAMES_AN_OP = re.compile(r"^[A-Za-z_][\w.]*(\(\))?: ")

class Context:
    """What a Function's forward passes to its backward.

    ``save_for_backward(*arrays)`` keeps arrays for backward; ``saved_tensors``
    gives them back, after checking that no input or output they came from was
    changed in place since. ``mark_non_differentiable(*arrays)`` marks outputs
    that carry no gradient (statistics, indices). Other attributes may be set
    freely (``ctx.axis = 1``); ``params`` (a dict) and ``kernel`` (a name)
    describe the op on the tape.
    """

    # backend and needs_input_grad live in slots; everything else in __dict__,
    # with the class attributes below as defaults, so creating a context sets two
    # fields and freeing what it saved is one dict clear
    __slots__ = ("backend", "needs_input_grad", "__dict__")
    params = None
    kernel = None
    output_backend = None  # set by an op whose outputs live on another device (ToDevice)
    _saved = ()
    _saved_versions = None  # [(index in saved, version cell, version, position in outputs + inputs, leaf or None)]
    _freed = False
    _non_differentiable = ()
    _op = (None, None)  # (op name, tape entry number) for error messages, set by the engine
    _graph_of = None  # the entry whose recorded backward this copy serves (see recorded)

    def __init__(self, backend, needs_input_grad):
        self.backend = backend
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays):
        self._saved = arrays

    def mark_non_differentiable(self, *arrays):
        self._non_differentiable = arrays

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                f"{self._op[0]}: trying to backward through the graph a second time "
                "(or to read saved values after they were freed). The values saved "
                "for backward are freed after the first backward; call "
                "backward(retain_graph=True) the first time if you need to go back twice."
            )
        saved = self._saved
        if self._saved_versions:
            for i, cell, version, _position, leaf in self._saved_versions:
                if leaf is not None and leaf._data is not saved[i]:  # reassigned through .data
                    saved = saved[:i] + (leaf._data,) + saved[i + 1:]
                    cell = leaf._version_cell
                if cell[0] != version:
                    raise RuntimeError(
                        f"{self._op[0]} (tape entry #{self._op[1]}): one of the values it "
                        f"saved for backward (saved value {i}, shape "
                        f"{tuple(self._saved[i].shape)}) was modified by an in-place "
                        f"operation: it is at version {cell[0]}, expected version "
                        f"{version}. Use an out-of-place op (x = x + y instead of "
                        "x.add_(y)) or clone the tensor before changing it."
                    )
        if self._graph_of is not None:
            return self._saved_as_graph()
        return saved

    def recorded(self, entry, backend, output_backend=None):
        """A copy of this context for running ``entry``'s backward as recorded
        ops (a ``create_graph`` pass): its backend records, and ``saved_tensors``
        gives each saved input or output as a tensor joined to the graph, so the
        gradient it helps compute depends on it. Saved values that are neither
        (statistics, masks) stay arrays: constants of the backward."""
        copy = _new(type(self))
        copy.backend = backend
        copy.needs_input_grad = self.needs_input_grad
        copy.__dict__.update(self.__dict__)
        if output_backend is not None:
            copy.output_backend = output_backend
        copy._graph_of = entry
        return copy

    def graph_input(self, k, values):
        """In a recorded backward: a tensor holding ``values`` whose gradient
        flows to forward input ``k`` as if it were that input (for an op that
        recomputes from its input what it did not save; ``values`` may differ
        from the input wherever the recomputation ignores the difference).
        An array (a constant) when input k needs no gradient."""
        entry = self._graph_of
        parent = entry.parents[k]
        base = self.backend.base
        if parent is None:
            return values
        if type(parent) is TapeEntry:
            t = make_tensor(values, base, True)
            t._entry = parent
            t._out_index = entry.parent_outputs[k] if entry.parent_outputs else 0
            return t
        return self.backend.add(parent, base.sub(values, parent._data))  # the leaf, shifted to the values

    def _saved_as_graph(self):
        entry = self._graph_of
        base = self.backend.base
        saved = list(self._saved)
        n_out = entry.n_outputs
        for i, cell, _version, position, _leaf in self._saved_versions or ():
            if position < n_out:  # output `position` of this entry
                if not entry.differentiable[position if len(entry.differentiable) > 1 else 0]:
                    continue
                t = make_tensor(saved[i], (self.output_backend or self.backend).base, True)
                t._entry, t._out_index, t._version_cell = entry, position, cell
            else:  # input `k` of this entry: the leaf itself, or a tensor standing for its entry's output
                k = position - n_out
                parent = entry.parents[k]
                if parent is None:
                    continue  # needs no gradient: a constant here
                if type(parent) is TapeEntry:
                    t = make_tensor(saved[i], base, True)
                    t._entry, t._version_cell = parent, cell
                    t._out_index = entry.parent_outputs[k] if entry.parent_outputs else 0
                else:
                    t = parent
            saved[i] = t
        return tuple(saved)

    def saved_bytes(self, exclude=()) -> int:
        """Bytes held for backward: saved arrays plus arrays stored as attributes,
        leaving out the arrays in ``exclude`` (e.g. parameters, alive anyway)."""
        # runs for every op a Tape captures: the arrays are recognised by their
        # device's array type (a failed attribute lookup on every other value
        # costs more), and a list of a handful of ids scans faster than a set builds
        array_types = (self.backend.ndarray, (self.output_backend or self.backend).ndarray)
        total = 0
        seen = [id(a) for a in exclude]
        for values in (self._saved or (), self.__dict__.values()):
            for v in values:
                if type(v) in array_types and id(v) not in seen:
                    seen.append(id(v))
                    total += v.nbytes
        return total

    def _free(self):
        self.__dict__.clear()
        self._saved = None
        self._freed = True


class TapeEntry:
    """One recorded op. ``parents[i]`` is the entry that produced input i, the leaf
    tensor itself, or None when input i needs no gradient; ``parent_outputs[i]``
    says which output of that entry it was (None when every parent's is 0). The
    shape and dtype each gradient must have are the parent's: its ``out_meta``,
    or the leaf's own."""

    # fields that most entries leave as they are: class defaults, so recording an
    # op sets five fields, not fourteen
    parent_outputs = None
    differentiable = (True,)  # per output: does it carry a gradient
    retained = None  # {output index: weakref to the tensor} after retain_grad()
    hooks = None  # {output index: [hooks]} registered on the outputs
    module = None  # the module whose forward ran this op (set by observers)
    record = None  # inspection record when a Tape captured this entry
    origin = None  # (file, line, code) that created it, in anomaly mode
    watchers = None  # callables run after this entry's backward (observers)
    plain_args = 0  # bit i set: forward argument i was not a tensor (it can get no gradient)

    seq: int  # the order it ran in
    fn: type  # the Function
    ctx: Context
    parents: tuple
    out_meta: tuple  # (shape, dtype) per output

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def out_shape(self):
        return self.out_meta[0][0]

    @property
    def out_dtype(self):
        return self.out_meta[0][1]

    @property
    def n_outputs(self) -> int:
        return len(self.out_meta)

    def __repr__(self):
        return f"<TapeEntry #{self.seq} {self.name} -> {tuple(self.out_shape)}>"


class Function:
    """Base class of every op, ours and a user's.

    Subclasses define ``forward(ctx, *args)`` on raw arrays (tensors arrive as
    their arrays, other arguments as they are) returning one array or a tuple of
    arrays, and ``backward(ctx, *grads)`` taking one gradient per output (None
    for outputs marked non-differentiable) and returning one gradient per forward
    argument (None for arguments that are not tensors or need no gradient).
    Call ``MyOp.apply(...)``; it returns a Tensor, or a tuple of them.
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
        """Run ``forward`` on the arguments' arrays, through their device's
        backend; when grad mode is on and an input requires grad, record a tape
        entry that the outputs point to. Returns a Tensor, or a tuple of them."""
        # the hot path of every op, written for speed: one pass over the
        # arguments, the result made inline, helpers only for what is rarer
        backend = None
        arrays = []
        needs = []
        any_needs = False
        for a in args:
            if isinstance(a, TensorBase):
                if a._backend is not backend:
                    if backend is not None:
                        raise _mixed_devices(cls, backend, a._backend)
                    backend = a._backend
                arrays.append(a._data)
                needs.append(a.requires_grad)
                any_needs = any_needs or a.requires_grad
            else:
                arrays.append(a)
                needs.append(False)
        if backend is None:
            backend = get_backend("cpu")
        ctx = _new(Context)
        ctx.backend = backend
        ctx.needs_input_grad = tuple(needs)
        record = any_needs and GradMode.enabled
        if record and len(arrays) > 1 and (len(arrays) > 2 or arrays[0] is arrays[1]):
            _alias_apart(args, arrays, backend)
        t0 = _start_clock(backend) if record and observers.active else None
        try:
            out = cls.forward(ctx, *arrays)
        except ValueError as exc:  # NumPy's own messages (broadcasting, shapes) name no op
            if _NAMES_AN_OP.match(str(exc)):  # ours, already naming the op ("group_norm: ...")
                raise
            raise _naming_the_op(cls, exc) from exc
        if type(out) is tuple:
            return _several_outputs(cls, ctx, args, out, record, t0, arrays)
        be = ctx.output_backend or backend
        if record and ctx._non_differentiable:
            record = not any(out is a for a in ctx._non_differentiable)
        if type(out) is not be.ndarray:
            out = _as_device_array(ctx, be, out, cls)
        result = _new(TensorBase._made_by_ops)  # make_tensor, inlined
        result._data = out
        result.requires_grad = record
        result.grad = result._entry = result._hooks = None
        result._out_index = 0
        result._backend = be
        # an input returned as it is, in any position, shares its version (PyTorch's rule)
        if cls.is_view or out is arrays[0] or (len(arrays) > 1 and any(out is a for a in arrays[1:])):
            result._version_cell = _shared_cell(cls, args, arrays, out, result, be)
        else:
            result._version_cell = [0]
        if record:
            _record(cls, ctx, args, result, t0, arrays)
        return result


# ------------------------------------------------------------------ apply's rarer steps

_new = object.__new__


def _alias_apart(args, arrays, backend):
    """Two different tensors on one array (x and x.detach()) reach forward as two array
    objects, a view for the later one, so an array the op saves is known to be the one
    it was given as: a recorded backward gives back that tensor (x, or the constant
    x.detach()), and its version is checked as that tensor's."""
    for j in range(1, len(arrays)):
        a = arrays[j]
        if isinstance(args[j], TensorBase):
            for i in range(j):
                if arrays[i] is a and args[i] is not args[j]:
                    arrays[j] = backend.reshape(a, a.shape)
                    break


def _mixed_devices(cls, backend, other):
    return devices_differ(cls.__name__, backend.name, other.name)


def _naming_the_op(cls, exc):
    hint = ("; shapes must be equal or 1 in each dim, counted from the last (NumPy broadcasting)"
            if "broadcast" in str(exc) else "")
    return ValueError(f"{cls.__name__}: {str(exc).strip()}{hint}")


def _start_clock(backend):
    """Observed ops are timed: wait for queued device work first."""
    backend.synchronize()
    return time.perf_counter()


def _note_view(cls, args, result):
    """Remember where a view's memory comes from: the tensor that owns it and the
    view ops leading there (in-place writes through the view rebase that tensor)."""
    source = args[0]
    origin = getattr(source, "_view", None)
    step = ((cls, args[1:]),)
    result._view = (source, step) if origin is None else (origin[0], origin[1] + step)


def _shared_cell(cls, args, arrays, out, result, be):
    """The version counter of an output that may share memory with an input: a
    view's shares its input's, so in-place changes through either are seen (and
    the view is noted); so does an input returned as it is (PyTorch's rule)."""
    if cls.is_view:
        if isinstance(args[0], TensorBase) and be.shares_memory(out, arrays[0]):
            _note_view(cls, args, result)
            return args[0]._version_cell
        return [0]
    return _cell_of_input(args, arrays, out)


def _cell_of_input(args, arrays, out):
    for a, arr in zip(args, arrays):
        if arr is out and isinstance(a, TensorBase):
            return a._version_cell
    return [0]


def _as_device_array(ctx, be, value, cls=None):
    """An output that is not yet one of the device's arrays (a NumPy scalar: what
    arithmetic on 0-d arrays returns) as one, also where the op saved it, so the
    saved value is still known to be that output."""
    if isinstance(value, (list, dict)) or value is None:
        who = f"{cls.__name__}.forward" if cls is not None else "forward"
        raise TypeError(f"{who} returned a {type(value).__name__}; expected one array, or a tuple of arrays "
                        "for several outputs")
    array = be.asarray(value)
    if ctx._saved and any(s is value for s in ctx._saved):
        ctx._saved = tuple(array if s is value else s for s in ctx._saved)
    return array


def _several_outputs(cls, ctx, args, out, record, t0, arrays):
    """The tensors of a forward that returned a tuple of arrays; those marked
    non-differentiable never require grad."""
    be = ctx.output_backend or ctx.backend
    nondiff = [id(a) for a in ctx._non_differentiable]
    results = tuple(make_tensor(o if type(o) is be.ndarray else _as_device_array(ctx, be, o), be,
                                record and id(o) not in nondiff)
                    for o in out)
    for a, arr in zip(args, arrays):
        if isinstance(a, TensorBase):
            for r, o in zip(results, out):
                if o is arr:  # an input returned as it is: its version counter too
                    r._version_cell = a._version_cell
    if record:
        _record(cls, ctx, args, results, t0, arrays)
    return results


def _record(cls, ctx, args, results, t0, arrays):
    """The tape entry of an op that just ran (TapeEntry's fields, set inline),
    pointed to by its differentiable outputs (``results``: one tensor, or a tuple);
    ``arrays``: what forward was given for ``args``."""
    entry = _new(TapeEntry)
    entry.seq = next(_sequence)
    entry.fn = cls
    entry.ctx = ctx
    needs = ctx.needs_input_grad
    parents = []
    plain = 0
    for i, a in enumerate(args):
        if not needs[i]:
            parents.append(None)
            if not isinstance(a, TensorBase):
                plain |= 1 << i  # a gradient returned for it is an error (see engine._send)
        else:
            e = a._entry
            if e is None:
                parents.append(a)
            else:
                parents.append(e)
                if a._out_index:
                    if entry.parent_outputs is None:
                        entry.parent_outputs = [0] * len(args)
                    entry.parent_outputs[i] = a._out_index
    entry.parents = tuple(parents)
    if plain:
        entry.plain_args = plain
    if type(results) is not tuple:
        entry.out_meta = ((results._data.shape, results._data.dtype),)
        results._entry = entry
        results = (results,)
    else:
        entry.out_meta = tuple((r._data.shape, r._data.dtype) for r in results)
        entry.differentiable = tuple(r.requires_grad for r in results)
        for i, r in enumerate(results):
            if r.requires_grad:
                r._entry, r._out_index = entry, i
    if ctx._saved:
        _remember_versions(ctx, args, results, arrays)
    if t0 is not None:
        (ctx.output_backend or ctx.backend).synchronize()
        _notify(entry, args, results, time.perf_counter() - t0)


def _notify(entry, args, outputs, seconds):
    for obs in list(observers.active):
        obs.on_forward(entry, args, outputs, seconds)


def _remember_versions(ctx, args, results, arrays):
    """For each saved array that is an input's or an output's array, note which
    version of that tensor it was, so backward can detect in-place changes, and
    which one it was (its position in outputs + inputs: a recorded backward
    gives it back as that tensor)."""
    versions = []
    candidates = results + args
    given = [r._data for r in results] + list(arrays)  # each candidate's array as forward saw it
    for i, s in enumerate(ctx._saved):
        if s is not None:
            for position, t in enumerate(candidates):
                if isinstance(t, TensorBase) and s is given[position]:
                    cell = t._version_cell
                    # a leaf is saved as itself: backward reads its array then (PyTorch's
                    # rule, so `w.data = ...` before backward is seen)
                    leaf = t if t._entry is None and t.requires_grad else None
                    versions.append((i, cell, cell[0], position, leaf))
                    break
    ctx._saved_versions = versions
