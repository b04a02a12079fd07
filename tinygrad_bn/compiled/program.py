"""A traced step as a program: the recorded calls over symbolic values, the
comparison that says whether two traces are one program, and the copies it
can drop (``replay.py`` turns it into the function that replays it).

Every array a call takes is one of:
- ``("a", k)``: the array of the step's k-th tensor argument;
- ``("v", i)``: value i, made by an earlier call of the program;
- ``("x", i)``: external i, an array that was there before the step (a
  parameter, a buffer, an optimizer's state), kept by reference: the program
  reads and writes that very array, as the eager step does;
and anything else is a constant (``("c", value)``). A call whose result is not
an array (a Python bool, a host read's values) steered the Python code that
ran around it, so replay checks that it comes out the same.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from .tracing import Bump, Call, ClearGrads, HostStep

_SAME_WHEN_SAME_DTYPE = frozenset({"cast", "asarray", "ascontiguous"})
"""Names that return their argument itself when it already is what they would
make: where the trace saw that, replay skips the call (the argument's dtype and
layout are part of the program)."""

HOST_READS = frozenset({"to_numpy"})


def is_array(x):
    return isinstance(x, np.ndarray) or (hasattr(x, "__cuda_array_interface__") and hasattr(x, "dtype"))


class Instr:
    """One step of the program."""

    __slots__ = ("args", "expect", "fn", "kind", "kwargs", "line", "meta", "name", "outs", "payload", "region")

    def __init__(self, kind, name, fn=None, args=(), kwargs=None, outs=(), expect=None, line=None, region=None,
                 meta=(), payload=None):
        self.kind, self.name, self.fn, self.args, self.kwargs = kind, name, fn, args, kwargs or {}
        self.outs, self.expect, self.line, self.region = outs, expect, line, region
        self.meta, self.payload = meta, payload


class ArgCell(threading.local):
    """The argument tensors of the call being replayed, per thread."""

    tensors = None


class ArgLeaf:
    """The step's k-th argument tensor as a leaf whose ``.grad`` the step sets: the
    tensor differs from call to call, so replay sets the grad of the call's own
    argument (``cell.tensors`` holds the call's argument tensors while it replays).
    ``traced``: the argument's tensor in the trace."""

    __slots__ = ("cell", "k", "traced")

    def __init__(self, k, cell, traced):
        self.k, self.cell, self.traced = k, cell, traced

    @property
    def tensor(self):
        return self.cell.tensors[self.k]


class Program:
    """The symbolic form of one trace (see the module docstring). ``arg_tensors``:
    the step's tensor arguments; ``made``: ids of the tensors the step made (a leaf
    among them is a new tensor at every call, its ``.grad`` not kept: nothing
    outside the step holds it), but for ``returned``, the ids of the tensors it returns."""

    def __init__(self, events, arg_arrays, arg_tensors=(), made=(), returned=()):
        self.arg_cell = ArgCell()
        arg_leaves = {id(t): ArgLeaf(k, self.arg_cell, t) for k, t in enumerate(arg_tensors)}
        per_call = set(made) - set(returned) - set(arg_leaves)
        self.instrs = []
        self.externals = []  # the arrays of ("x", i)
        self.n_values = 0
        self.value_meta = []  # (shape, dtype) of each value
        self._refs = {id(a): ("a", k) for k, a in reversed(list(enumerate(arg_arrays)))}
        self.arg_arrays = list(arg_arrays)  # the trace's arrays, until release(): what fusion inspects
        self.value_arrays = []
        self.runs = []  # fused runs (fusion.Run) once generated
        self.folded = set()  # indices of the calls and guards replay.fold_views made once, at generation
        for ev in events:
            if type(ev) is Call:
                self._add_call(ev)
            elif type(ev) is HostStep:
                self.instrs.append(Instr("host", f"{type(ev.optimizer).__name__}.step", payload=ev.optimizer,
                                         line=ev.line))
            elif type(ev) is Bump:
                # a tensor that holds state from before the step (its array is kept by reference) gets
                # its version raised in replay too; one made in the step is new at every call, and
                # nothing outside it can hold an old version of it
                # an argument's tensor (or a view of it, which shares its counter) differs from call to call:
                # replay raises the version of the call's own argument
                ref = self.ref(ev.tensor._data)
                k = next((k for k, t in enumerate(arg_tensors) if t._version_cell is ev.tensor._version_cell), None)
                if k is not None:
                    self.instrs.append(Instr("bump", "version", args=(("a", k),),
                                             payload=ArgLeaf(k, self.arg_cell, arg_tensors[k]), region=ev.region))
                elif ref[0] == "x" or (ref[0] == "v" and self._views_state(ref[1])):
                    # a view made in the step of a state tensor shares that tensor's counter
                    # (ev.tensor's cell is the state tensor's, which outlives the call)
                    self.instrs.append(Instr("bump", "version", args=(ref,), payload=ev.tensor, region=ev.region))
            elif type(ev) is ClearGrads:
                self.instrs.append(Instr("clear", "zero_grad", payload=ev.tensors, line=ev.line))
            else:
                self.instrs.append(Instr("grads", "grads", payload=[
                    (arg_leaves.get(id(t), t), None if a is None else self.ref(a))
                    for t, a in ev.states.values() if id(t) not in per_call]))

    # ------------------------------------------------------------------ building
    def ref(self, x):
        """The symbolic form of an argument (arrays by where they come from)."""
        if is_array(x):
            r = self._refs.get(id(x))
            if r is None:
                r = ("x", len(self.externals))
                self.externals.append(x)
                self._refs[id(x)] = r
            return r
        if isinstance(x, np.generic):
            r = self._refs.get(id(x))
            return r if r is not None else ("c", x)
        if type(x) in (tuple, list):
            return ("t" if type(x) is tuple else "l", tuple(self.ref(e) for e in x))
        if type(x) is dict:
            return ("d", tuple((k, self.ref(v)) for k, v in x.items()))
        return ("c", x)

    def _views_state(self, v):
        """Whether value v's array is a view into a state array (an external)."""
        a = self.value_arrays[v]
        return isinstance(a, np.ndarray) and a.base is not None and any(
            isinstance(x, np.ndarray) and np.shares_memory(a, x) for x in self.externals)

    def _new_value(self, x):
        i = self.n_values
        self.n_values += 1
        self._refs[id(x)] = ("v", i)
        self.value_arrays.append(x)
        self.value_meta.append((tuple(getattr(x, "shape", ())), str(getattr(x, "dtype", type(x).__name__))))
        return i

    def _add_call(self, c):
        args = tuple(self.ref(a) for a in c.args)
        kwargs = {k: self.ref(v) for k, v in c.kwargs.items()}
        r = c.result
        base = {"name": c.name, "fn": c.fn, "args": args, "kwargs": kwargs, "line": c.line, "region": c.region}
        if c.name in HOST_READS:
            # the values went to Python: replay checks they are what the trace saw
            self.instrs.append(Instr("guard", expect=np.array(r, copy=True), **base))
            return
        if r is None:
            self.instrs.append(Instr("call", **base))
        elif (is_array(r) or isinstance(r, np.generic)) and id(r) in self._refs and c.name in _SAME_WHEN_SAME_DTYPE \
                and any(a is r for a in c.args):
            # cast to the dtype it has: the very same array; no call in replay
            self.instrs.append(Instr("alias", outs=(self._refs[id(r)],), **base))
        elif is_array(r) or isinstance(r, np.generic):
            self.instrs.append(Instr("call", outs=(self._new_value(r),), meta=("box",) if c.boxed else (), **base))
        elif type(r) is tuple and r and all(is_array(e) for e in r):
            self.instrs.append(Instr("call", outs=tuple(self._new_value(e) for e in r), meta=("tuple",), **base))
        else:
            self.instrs.append(Instr("guard", expect=r, **base))

    def elide_copies(self, results):
        """Drop ``copy(v)`` where nothing reads v after it and v's memory is its
        own: the copy's reader may take v itself; and a reshape of v to its own
        shape (``_same_view``). Tracing keeps every array it
        sees alive, so the engine, which gives a leaf the gradient array it
        alone holds, copied each gradient while traced; the eager step does not,
        and neither does the replay."""
        reads = {}  # value -> index of each instruction that reads it
        for i, ins in enumerate(self.instrs):
            for v in values_read(ins):
                reads.setdefault(v, []).append(i)
        for r in results:
            if r[0] == "v":
                reads.setdefault(r[1], []).append(len(self.instrs))
        renamed = {}
        for i, ins in enumerate(self.instrs):
            if not (self._same_view(ins) or self._needless_copy(ins, i, reads)):
                continue
            v = ins.args[0][1]
            renamed[ins.outs[0]] = renamed.get(v, v)
            self.instrs[i] = Instr("alias", ins.name, args=ins.args, outs=(("v", renamed[ins.outs[0]]),),
                                   line=ins.line, region=ins.region)
        if renamed:
            for ins in self.instrs:
                ins.args = tuple(_rename(a, renamed) for a in ins.args)
                ins.kwargs = {k: _rename(a, renamed) for k, a in ins.kwargs.items()}
                if ins.kind == "grads":
                    ins.payload = [(t, None if r is None else _rename(r, renamed)) for t, r in ins.payload]
        return [_rename(r, renamed) for r in results]

    def _needless_copy(self, ins, at, reads):
        """Whether ``ins`` copies a value that nothing reads after it and whose memory is its own."""
        if ins.kind != "call" or ins.name != "copy" or len(ins.args) != 1 or ins.args[0][0] != "v":
            return False
        v = ins.args[0][1]
        return max(reads.get(v, [at])) <= at and self._owns_memory(v, at, reads)

    def _same_view(self, ins):
        """Whether ``ins`` is a reshape of a value to the shape it has (a linear
        layer's backward flattens its (N, C) gradient to (-1, C)): NumPy gives a
        view of the same memory, shape, strides and dtype at every call, so the
        value itself serves (its readers cannot tell a view from it)."""
        if ins.kind != "call" or ins.name != "reshape" or len(ins.outs) != 1 or ins.meta or ins.kwargs \
                or not ins.args or ins.args[0][0] != "v":
            return False
        a, out = self.value_arrays[ins.args[0][1]], self.value_arrays[ins.outs[0]]
        return type(a) is np.ndarray and type(out) is np.ndarray and out.shape == a.shape and \
            out.strides == a.strides and out.dtype == a.dtype and np.may_share_memory(out, a)

    def _owns_memory(self, v, at, reads):
        """Whether value v's array is not a view and no array read after ``at`` shares its memory."""
        a = self.value_arrays[v]
        if not isinstance(a, np.ndarray) or a.base is not None:
            return False
        later = [self.value_arrays[w] for w, idx in reads.items() if w != v and max(idx) > at]
        return not any(np.may_share_memory(a, b) for b in later + self.externals + self.arg_arrays
                       if isinstance(b, np.ndarray))

    def release(self):
        """Drop the trace's arrays (all of a step's values): the program keeps
        only its state arrays, which it reads and writes by reference."""
        self.signature()
        self.arg_arrays, self.value_arrays, self._refs = [], [], {}

    # ------------------------------------------------------------- comparing
    def signature(self):
        """What two traces must share to be one program, op by op."""
        if getattr(self, "_signature", None) is None:
            self._signature = [_instr_key(ins, self.externals) for ins in self.instrs]
        return self._signature

    def first_difference(self, other):
        """Index of the first op where this trace and ``other`` differ, or None."""
        a, b = self.signature(), other.signature()
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return i
        return None if len(a) == len(b) else min(len(a), len(b))

    # -------------------------------------------------------------- printing
    def describe(self):
        """The program as text: one line per op, with its values' shapes."""
        lines = []
        fused = {i: k for k, run in enumerate(self.runs) for i in run.indices}
        for i, ins in enumerate(self.instrs):
            if i in fused and (i == 0 or fused.get(i - 1) != fused[i]):
                run = self.runs[fused[i]]
                lines.append(f"      fused run {fused[i]}: {sum(self.instrs[j].kind == 'call' for j in run.indices)} "
                             f"calls in one Numba function ({run.name}), {len(run.outputs)} arrays out"
                             + (" (it checks first, and writes nothing when the check fails)" if run.check else ""))
            outs = ", ".join(f"v{o}{_meta(self.value_meta[o])}" for o in ins.outs if isinstance(o, int))
            if ins.kind in ("call", "guard", "alias"):
                args = ", ".join(_show(a) for a in ins.args)
                kw = "".join(f", {k}={_show(v)}" for k, v in ins.kwargs.items())
                head = f"{outs} = " if outs else ""
                tail = "   (checked: the trace's value)" if ins.kind == "guard" else (
                    "   (its argument itself: skipped)" if ins.kind == "alias" else "")
                if i in self.folded:
                    tail = "   (of state arrays only: made once, when the step was compiled)"
                lines.append(f"{i:4d}  {head}{ins.name}({args}{kw}){tail}")
            elif ins.kind == "host":
                lines.append(f"{i:4d}  {ins.name}()   (run in Python: its update is not traced)")
            elif ins.kind == "clear":
                lines.append(f"{i:4d}  zero_grad: .grad = None for {len(ins.payload)} tensors")
            elif ins.kind == "bump":
                t = ins.payload.traced if isinstance(ins.payload, ArgLeaf) else ins.payload
                lines.append(f"{i:4d}  version of a tensor of shape {tuple(t.shape)} + 1 (an in-place write)")
            else:
                lines.append(f"{i:4d}  .grad of {len(ins.payload)} leaves set from " +
                             ", ".join(_show(r) if r is not None else "None" for _, r in ins.payload))
        return "\n".join(lines)


def _meta(m):
    shape, dtype = m
    return f":{dtype}{list(shape)}"


def _show(r):
    kind, v = r
    if kind in ("a", "x"):
        return f"{'arg' if kind == 'a' else 'ext'}{v}"
    if kind == "v":
        return f"v{v}"
    if kind in ("t", "l"):
        inner = ", ".join(_show(e) for e in v)
        return f"({inner})" if kind == "t" else f"[{inner}]"
    if kind == "d":
        return "{" + ", ".join(f"{k}: {_show(e)}" for k, e in v) + "}"
    if callable(v):
        return getattr(v, "__name__", "fn")
    return repr(v)


def const_key(v):
    """A constant as something == compares as the eager step would see it: NaN
    equal to NaN, a function by its code (a closure made anew each call is the
    same function), a NumPy scalar with its type, a float zero with its sign (the
    signed zeros it makes differ)."""
    if isinstance(v, float) and math.isnan(v):
        return ("nan",)
    if isinstance(v, float) and v == 0:
        return ("c", type(v), v, math.copysign(1.0, v))
    if isinstance(v, np.generic):
        return ("np", type(v), v.tobytes())
    if hasattr(v, "__code__"):
        return ("fn", v.__code__)
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    return ("c", type(v), v)


def _ref_key(r, externals):
    kind, v = r
    if kind == "x":
        return ("x", id(externals[v]))
    if kind in ("t", "l"):
        return (kind, tuple(_ref_key(e, externals) for e in v))
    if kind == "d":
        return ("d", tuple((k, _ref_key(e, externals)) for k, e in v))
    if kind == "c":
        return const_key(v)
    return r


def _instr_key(ins, externals):
    if ins.kind == "host":
        return ("host", id(ins.payload))
    if ins.kind == "clear":
        return ("clear", tuple(id(t) for t in ins.payload))
    if ins.kind == "bump":
        return ("bump", _ref_key(ins.args[0], externals), id(ins.region) if ins.region is not None else None)
    if ins.kind == "grads":
        return ("grads", tuple((("arg", t.k) if isinstance(t, ArgLeaf) else id(t),
                                None if r is None else _ref_key(r, externals)) for t, r in ins.payload))
    expect = ins.expect
    if ins.kind == "guard":
        expect = (expect.shape, str(expect.dtype), expect.tobytes()) if isinstance(expect, np.ndarray) else \
            const_key(expect)
    return (ins.kind, ins.name, tuple(_ref_key(a, externals) for a in ins.args),
            tuple((k, _ref_key(v, externals)) for k, v in ins.kwargs.items()), ins.outs, expect,
            id(ins.region) if ins.region is not None else None)


def _rename(r, renamed):
    kind, v = r
    if kind == "v":
        return ("v", renamed.get(v, v))
    if kind in ("t", "l"):
        return (kind, tuple(_rename(e, renamed) for e in v))
    if kind == "d":
        return ("d", tuple((k, _rename(e, renamed)) for k, e in v))
    return r


def values_read(ins):
    refs = list(ins.args) + list(ins.kwargs.values())
    if ins.kind == "grads":
        refs = [r for _, r in ins.payload if r is not None]
    out = []

    def visit(r):
        kind, v = r
        if kind == "v":
            out.append(v)
        elif kind in ("t", "l"):
            for e in v:
                visit(e)
        elif kind == "d":
            for _, e in v:
                visit(e)
    for r in refs:
        visit(r)
    return out
