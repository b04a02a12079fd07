"""Inspecting the autograd tape.

    with tinygrad_bn.Tape() as tape:
        loss = loss_fn(model(x), y)
    loss.backward()
    print(tape)                  # one line per op, with gradients after backward
    tape.to_dot(); tape.to_json(); tape.grad_flow()

A Tape captures the entries recorded while it is open (nested tapes each see
theirs); capturing never changes a result. Each captured entry gets a
read-only ``TapeRecord``. Backward fills in the records' backward time and
gradient statistics whenever it runs, inside the ``with`` block or after it.
With no Tape open, recording costs one list truth test per op. A Tape is an
engine observer (``observers.py``): the engine does not know it exists.
"""
from __future__ import annotations

import collections
import json
import math
import os
import sys
import weakref
from types import MappingProxyType

from . import attribution, observers
from .tape_export import TAPE_JSON_SCHEMA, format_table, plot_grad_flow, render_dot, to_dot  # noqa: F401
from .tensor import Tensor

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


_internal_files = {}


def _is_internal(filename):
    known = _internal_files.get(filename)
    if known is None:
        known = _internal_files[filename] = os.path.abspath(filename).startswith(_PACKAGE_DIR)
    return known


def user_location(skip=1):
    """(file, line number) of the innermost caller outside tinygrad_bn, looking
    from ``skip`` frames up (frames the caller knows to be its own)."""
    # runs for every captured op, through every frame of the model's forward:
    # the lookup is inlined, the helper only runs for a file not seen before
    known = _internal_files
    try:
        f = sys._getframe(skip)
    except ValueError:  # fewer frames than that: look from the caller
        f = sys._getframe(1)
    while f is not None:
        filename = f.f_code.co_filename
        internal = known.get(filename)
        if internal is None:
            internal = _is_internal(filename)
        if not internal:
            return filename, f.f_lineno
        f = f.f_back
    return None


def _with_source(location):
    import linecache

    return location[0], location[1], linecache.getline(location[0], location[1]).strip()


def user_frame():
    """(file, line number, source line) of the innermost caller outside tinygrad_bn."""
    location = user_location()
    return None if location is None else _with_source(location)


def _activation(be, a):
    """(mean, std, NaN count, Inf count) of an op's output, from one kernel
    call on its device (the kernels' ``summarize``: only six numbers come back
    to the host); the moments are over the finite values."""
    finite, s, sq, _, nan, inf = be.kernels.summarize(a)
    if not finite:
        return 0.0, 0.0, nan, inf
    mean = s / finite
    return mean, math.sqrt(max(sq / finite - mean * mean, 0.0)), nan, inf


class TapeRecord:
    """What one recorded op did. Read-only; fields:

    seq, op, module, kernel, params, inputs (list of dicts: id, kind, shape,
    dtype, requires_grad), output (id, shape, dtype, device), saved_bytes (what
    the entry keeps alive for backward beyond leaf tensors, which live anyway),
    forward_ms, activation (mean, std, NaN/Inf of the output), origin (file,
    line, code), made_by (None for an op of the forward; for an op a recorded
    backward ran, in a ``create_graph`` pass, the seq of the entry whose
    backward it was), and after backward: backward_ms, grad (shape, norm,
    max_abs, nan, inf of the gradient that reached the output), input_grads.
    """

    _FIELDS = ("seq", "op", "module", "kernel", "params", "inputs", "output", "saved_bytes",
               "forward_ms", "activation", "origin", "made_by", "backward_ms", "grad", "input_grads")
    # every field in one list (plus which forward arguments were tensors:
    # backward returns one slot per argument), so capture sets one attribute
    __slots__ = ("_v",)

    def __init__(self, positions=None, **fields):
        unknown = set(fields) - set(self._FIELDS)
        if unknown:
            raise TypeError(f"TapeRecord: unknown fields {sorted(unknown)}; expected some of {self._FIELDS}")
        object.__setattr__(self, "_v", [fields.get(f) for f in self._FIELDS] + [positions])

    def __setattr__(self, name, value):
        raise AttributeError(f"TapeRecord is read-only (tried to set {name!r})")

    def _set(self, name, value):
        self._v[_INDEX[name]] = value

    def as_dict(self):
        return {f: _plain(getattr(self, f)) for f in self._FIELDS}

    def __repr__(self):
        return f"<TapeRecord #{self.seq} {self.op} -> {tuple(self.output['shape'])}>"


# A record is made for every captured op but read rarely, so capture stores
# tuples of plain values (which the garbage collector soon stops tracking) and
# reading builds the documented dicts, new ones each time (so changing them
# changes nothing). Records read back from JSON hold the dicts themselves.


def _stats_dict(v):
    if type(v) is not tuple:
        return v
    shape, norm, max_abs, nan, inf = v
    return {"shape": list(shape), "norm": norm, "max_abs": max_abs, "nan": nan, "inf": inf}


def _input_dict(v):
    if type(v) is not tuple:
        return v
    name, kind, shape, dtype, requires_grad = v
    if kind == "op":  # named after the entry that made it: its seq
        name = f"t{name}"
    return {"id": name, "kind": kind, "shape": list(shape), "dtype": _dtype_name(dtype),
            "requires_grad": requires_grad}


def _output_dict(v):
    if type(v) is not tuple:
        return v
    seq, shape, dtype, device = v
    return {"id": f"t{seq}", "shape": list(shape), "dtype": _dtype_name(dtype), "device": device}


def _activation_dict(v):
    if type(v) is not tuple:
        return v
    mean, std, nan, inf = v
    return {"mean": mean, "std": std, "nan": nan, "inf": inf}


_READERS = {
    "params": lambda v: MappingProxyType({}) if v is None else (
        v if isinstance(v, MappingProxyType) else MappingProxyType(dict(v))),
    "inputs": lambda v: None if v is None else tuple(_input_dict(i) for i in v),
    "output": _output_dict,
    "activation": _activation_dict,
    "origin": lambda v: _with_source(v) if v is not None and len(v) == 2 else v,
    "grad": _stats_dict,
    "input_grads": lambda v: None if v is None else tuple(None if g is None else _stats_dict(g) for g in v),
}

_new_record = object.__new__
_INDEX = {f: i for i, f in enumerate(TapeRecord._FIELDS)}
_POSITIONS = len(TapeRecord._FIELDS)

for _f, _i in _INDEX.items():
    if _f in _READERS:
        setattr(TapeRecord, _f, property(lambda self, _i=_i, _r=_READERS[_f]: _r(self._v[_i])))
    else:
        setattr(TapeRecord, _f, property(lambda self, _i=_i: self._v[_i]))


def _plain(v):
    if isinstance(v, MappingProxyType):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            return v.item()
        except (ValueError, AttributeError):
            return str(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


_DTYPE_NAMES = {}


def _dtype_name(dtype):
    """str(dtype), remembered: NumPy builds the string anew each time (~3 us)."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


def _module_label(module):
    if module is None:
        return ""
    name = getattr(module, "_name", "")
    return f"{name} {type(module).__name__}" if name else type(module).__name__


# user_location, Tape.on_forward, _notify, _record, Function.apply: the frames
# between an op's caller and the capture
_CAPTURE_FRAMES = 5


class Tape:
    """Capture the tape entries recorded inside a ``with`` block.

    ``activation_stats`` (default True) also records the mean and std of every
    op's output, one extra pass over each output while capturing.
    ``max_records`` keeps only the newest that many records (about 2 KB each),
    so a Tape open over a whole training run holds bounded memory; by default
    it keeps all.
    """

    def __init__(self, activation_stats=True, max_records=None):
        if max_records is not None and (isinstance(max_records, bool) or not isinstance(max_records, int)
                                        or max_records < 1):
            raise ValueError(f"Tape: max_records must be a positive int or None (keep all), got {max_records!r}")
        self.activation_stats = activation_stats
        self.max_records = max_records
        self._records = [] if max_records is None else collections.deque(maxlen=max_records)
        # id(tensor) -> (name, kind, weak reference) of inputs that came from outside;
        # an entry leaves when its tensor dies (its id may then be reused), so an
        # open Tape keeps no batch alive
        self._names = {}
        self._named = 0
        self._open = False

    def __enter__(self):
        observers.attach(self)
        self._open = True
        return self

    def __exit__(self, *exc):
        observers.detach(self)
        self._open = False
        self._names = {}
        return False

    # ------------------------------------------------------------ recording
    def _input_name(self, t, module):
        """(name, kind) of a leaf input: a parameter of the running module by its
        qualified name, anything else by what it is and a number, once per Tape."""
        if t.is_parameter and module is not None:
            # named by the module, not by this Tape: nothing to remember
            for pname, p in module._parameters.items():
                if p is t:
                    return (f"{module._name}.{pname}" if module._name else pname), "param"
        key = id(t)
        known = self._names.get(key)
        if known is not None:
            return known[0], known[1]
        kind = "param" if t.is_parameter else ("leaf" if t.requires_grad else "input")
        name = f"{kind}{self._named}"
        self._named += 1
        names = self._names
        self._names[key] = (name, kind, weakref.ref(t, lambda _, key=key: names.pop(key, None)))
        return name, kind

    def on_forward(self, entry, args, outputs, elapsed):
        # runs for every captured op: only what cannot wait is done here (names,
        # statistics, what backward will free); dicts and strings are made when read
        record = entry.record
        if record is not None:  # captured by an enclosing Tape too: share its record
            self._records.append(record)
            return
        module = entry.module
        if module is None:
            module = entry.module = attribution.current_module()
        result = outputs[0]
        ctx = entry.ctx
        inputs = []
        positions = []
        leaves = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                if a._entry is not None:
                    inputs.append((a._entry.seq, "op", a._data.shape, a._data.dtype, a.requires_grad))
                else:
                    name, kind = self._input_name(a, module)
                    inputs.append((name, kind, a._data.shape, a._data.dtype, a.requires_grad))
                    leaves.append(a._data)
                positions.append(i)
        data = result._data
        record = _new_record(TapeRecord)
        object.__setattr__(record, "_v", [
            entry.seq, entry.name, _module_label(module), ctx.kernel, ctx.params or None, tuple(inputs),
            (entry.seq, data.shape, data.dtype, result._backend.name),
            # leaves (parameters, inputs) live anyway: count what the tape alone keeps alive
            ctx.saved_bytes(exclude=leaves),
            elapsed * 1e3,
            _activation(result._backend, data) if self.activation_stats else None,
            user_location(_CAPTURE_FRAMES),
            None if observers.making.backward_of is None else observers.making.backward_of.seq,
            None, None, None,  # backward_ms, grad, input_grads
            tuple(positions),
        ])
        entry.record = record
        # the record keeps collecting gradients after the block closes
        entry.watchers = (entry.watchers or ()) + (_record_backward,)
        self._records.append(record)

    def on_backward(self, entry, grads_out, grads_in, seconds):
        pass  # captured entries carry their own watcher (see on_forward)

    # -------------------------------------------------------------- reading
    @property
    def entries(self):
        """The captured records, in the order the ops ran."""
        return tuple(self._records)

    def __len__(self):
        return len(self._records)

    def __iter__(self):
        return iter(self._records)

    def summary(self):
        recs = self._records
        bwd = [r.backward_ms for r in recs if r.backward_ms is not None]
        return {
            "ops": len(recs),
            "saved_bytes": sum(r.saved_bytes for r in recs),
            "forward_ms": sum(r.forward_ms for r in recs),
            "backward_ms": sum(bwd) if bwd else None,
        }

    def table(self, width=120):
        """An aligned table: one row per op, gradient columns after backward."""
        return format_table(self._records, self.summary(), width)

    def __str__(self):
        return self.table()

    def __repr__(self):
        return f"<Tape: {len(self._records)} entries>"

    def activations(self):
        """Mean and std of each op's output: [{seq, op, module, mean, std}]."""
        return [{"seq": r.seq, "op": r.op, "module": r.module, **(r.activation or {})} for r in self._records]

    def grad_flow(self):
        """Gradient norms per parameter, in the order the layers ran:
        [{layer, param, shape, norm, max_abs, nan, inf}] (after backward)."""
        flow = []
        seen = set()
        for r in self._records:
            for inp, g in zip(r.inputs, r.input_grads or ()):
                if inp["kind"] != "param" or g is None or inp["id"] in seen:
                    continue
                seen.add(inp["id"])
                flow.append({"layer": r.module, "param": inp["id"], "shape": g["shape"], "norm": g["norm"],
                             "max_abs": g["max_abs"], "nan": g["nan"], "inf": g["inf"]})
        return flow

    # ------------------------------------------------------------- exports
    def to_dot(self):
        return to_dot(self._records)

    def render(self, path):
        """Write the graph as SVG or PNG (by the file's extension) with Graphviz."""
        return render_dot(self.to_dot(), path)

    def to_json(self, indent=None):
        """The records as JSON following ``TAPE_JSON_SCHEMA``."""
        doc = {"format": "tinygrad_bn.tape", "version": 1, "summary": _plain(self.summary()),
               "entries": [r.as_dict() for r in self._records]}
        return json.dumps(doc, indent=indent)

    @classmethod
    def from_json(cls, text):
        """A closed Tape holding the records of ``to_json`` output."""
        doc = json.loads(text)
        if doc.get("format") != "tinygrad_bn.tape":
            raise ValueError(f"Tape.from_json: not a tinygrad_bn tape document (format {doc.get('format')!r})")
        tape = cls()
        for e in doc["entries"]:
            values = dict(e)
            values["params"] = MappingProxyType(values.get("params") or {})
            values["inputs"] = tuple(values.get("inputs") or ())
            if values.get("origin") is not None:
                values["origin"] = tuple(values["origin"])
            tape._records.append(TapeRecord(**values))
        return tape


def _grad_stats(be, g):
    """(shape, norm, max |g|, NaN count, Inf count) of a gradient. An op's
    output gradient is often the very array its consumer sent as an input
    gradient, and is then summarized twice: remembering summaries by weak
    reference measured slower than the second summary (one compiled call)."""
    _, _, sq, max_abs, nan, inf = be.kernels.summarize(g)
    return g.shape, math.sqrt(sq), max_abs, nan, inf


_BACKWARD_MS, _GRAD, _INPUT_GRADS = _INDEX["backward_ms"], _INDEX["grad"], _INDEX["input_grads"]


def _record_backward(entry, grads_out, in_grads, elapsed):
    """Watcher of every entry a Tape captured: backward time and gradient statistics."""
    values = entry.record._v
    ctx = entry.ctx
    be = ctx.backend  # the inputs' device; outputs may be on another
    values[_BACKWARD_MS] = (values[_BACKWARD_MS] or 0.0) + elapsed * 1e3
    if grads_out[0] is not None:  # None only for a first output marked non-differentiable
        values[_GRAD] = _grad_stats(ctx.output_backend or be, grads_out[0])
    n = len(in_grads)
    stats = []
    for pos in values[_POSITIONS] or range(n):
        g = in_grads[pos] if pos < n else None
        stats.append(None if g is None else _grad_stats(be, g))
    values[_INPUT_GRADS] = tuple(stats)
