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

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from types import MappingProxyType

from . import attribution, observers
from .tensor import Tensor

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


_internal_files = {}


def _is_internal(filename):
    known = _internal_files.get(filename)
    if known is None:
        known = _internal_files[filename] = os.path.abspath(filename).startswith(_PACKAGE_DIR)
    return known


def user_frame():
    """(file, line number, source line) of the innermost caller outside tinygrad_bn."""
    f = sys._getframe(1)
    while f is not None and _is_internal(f.f_code.co_filename):
        f = f.f_back
    if f is None:
        return None
    import linecache

    return f.f_code.co_filename, f.f_lineno, linecache.getline(f.f_code.co_filename, f.f_lineno).strip()


def _array_stats(be, a, moments=False):
    """Shape, L2 norm, max |a| and NaN / Inf counts of an array (and its mean
    and std with ``moments``), in a few reductions: a finite sum of squares
    proves there is no NaN or Inf, so counting runs only when there are some."""
    import numpy as np

    arr = be.to_numpy(a)
    out = {"shape": list(arr.shape), "norm": 0.0, "max_abs": 0.0, "nan": 0, "inf": 0}
    if moments:
        out.update(mean=0.0, std=0.0)
    if arr.dtype.kind not in "fc" or arr.size == 0:
        return out
    flat = arr.reshape(-1)
    sq = float(np.dot(flat, flat))
    if not math.isfinite(sq):
        out["nan"] = int(np.count_nonzero(np.isnan(flat)))
        out["inf"] = int(np.count_nonzero(np.isinf(flat)))
        flat = flat[np.isfinite(flat)]
        if flat.size == 0:
            return out
        flat = flat.astype(np.float64)
        sq = float(np.dot(flat, flat))
    out["norm"] = math.sqrt(sq)
    out["max_abs"] = float(max(flat.max(), -flat.min()))
    if moments:
        mean = float(flat.mean(dtype=np.float64))
        out["mean"] = mean
        out["std"] = math.sqrt(max(sq / flat.size - mean * mean, 0.0))
    return out


class TapeRecord:
    """What one recorded op did. Read-only; fields:

    seq, op, module, kernel, params, inputs (list of dicts: id, kind, shape,
    dtype, requires_grad), output (id, shape, dtype, device), saved_bytes (what
    the entry keeps alive for backward beyond leaf tensors, which live anyway),
    forward_ms, activation (mean, std, NaN/Inf of the output), origin (file,
    line, code), and after backward: backward_ms, grad (shape, norm, max_abs,
    nan, inf of the gradient that reached the output), input_grads.
    """

    _FIELDS = ("seq", "op", "module", "kernel", "params", "inputs", "output", "saved_bytes",
               "forward_ms", "activation", "origin", "backward_ms", "grad", "input_grads")
    __slots__ = tuple("_" + f for f in _FIELDS) + ("_positions",)

    def __init__(self, positions=None, **values):
        for f in self._FIELDS:
            object.__setattr__(self, "_" + f, values.get(f))
        # which forward arguments were tensors (backward returns one slot per argument)
        object.__setattr__(self, "_positions", positions)

    def __setattr__(self, name, value):
        raise AttributeError(f"TapeRecord is read-only (tried to set {name!r})")

    def _set(self, name, value):
        object.__setattr__(self, "_" + name, value)

    def as_dict(self):
        return {f: _plain(getattr(self, "_" + f)) for f in self._FIELDS}

    def __repr__(self):
        return f"<TapeRecord #{self._seq} {self._op} -> {tuple(self._output['shape'])}>"


for _f in TapeRecord._FIELDS:
    setattr(TapeRecord, _f, property(lambda self, _n="_" + _f: getattr(self, _n)))


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


def _module_label(module):
    if module is None:
        return ""
    name = getattr(module, "_name", "")
    return f"{name} {type(module).__name__}" if name else type(module).__name__


class Tape:
    """Capture the tape entries recorded inside a ``with`` block.

    ``activation_stats`` (default True) also records the mean and std of every
    op's output, one extra pass over each output while capturing.
    """

    def __init__(self, activation_stats=True):
        self.activation_stats = activation_stats
        self._records = []
        self._names = {}  # id(tensor) -> name of inputs that came from outside
        self._keep = []  # keeps those tensors alive so their ids stay unique while open
        self._open = False

    def __enter__(self):
        observers.attach(self)
        self._open = True
        return self

    def __exit__(self, *exc):
        observers.detach(self)
        self._open = False
        self._keep = []
        return False

    # ------------------------------------------------------------ recording
    def _input_name(self, t, module):
        if t._entry is not None:  # made by an op: named after its entry, never cached
            return f"t{t._entry.seq}", "op"
        key = id(t)  # a leaf, kept alive below so its id stays its own while the tape is open
        if key in self._names:
            return self._names[key]
        kind = "param" if t.is_parameter else ("leaf" if t.requires_grad else "input")
        name = None
        if module is not None and kind == "param":
            for pname, p in module._parameters.items():
                if p is t:
                    name = f"{module._name}.{pname}" if module._name else pname
        if name is None:
            name = f"{kind}{len(self._names)}"
        self._keep.append(t)
        self._names[key] = (name, kind)
        return name, kind

    def on_forward(self, entry, args, outputs, elapsed):
        record = entry.record
        if entry.module is None:
            entry.module = attribution.current_module()
        if record is None:
            result = outputs[0]
            ctx = entry.ctx
            inputs = []
            for a in args:
                if isinstance(a, Tensor):
                    name, kind = self._input_name(a, entry.module)
                    inputs.append({"id": name, "kind": kind, "shape": list(a.shape), "dtype": str(a.dtype),
                                   "requires_grad": a.requires_grad})
            stats = _array_stats(result._backend, result.data, moments=True) if self.activation_stats else None
            record = TapeRecord(
                positions=tuple(i for i, a in enumerate(args) if isinstance(a, Tensor)),
                seq=entry.seq, op=entry.name, module=_module_label(entry.module), kernel=ctx.kernel,
                params=MappingProxyType(dict(ctx.params or {})), inputs=tuple(inputs),
                output={"id": f"t{entry.seq}", "shape": list(result.shape), "dtype": str(result.dtype),
                        "device": result.device},
                # leaves (parameters, inputs) live anyway: count what the tape alone keeps alive
                saved_bytes=ctx.saved_bytes(exclude=[a.data for a in args
                                                     if isinstance(a, Tensor) and a._entry is None]),
                forward_ms=elapsed * 1e3,
                activation=None if stats is None else
                {k: stats[k] for k in ("mean", "std", "nan", "inf")},
                origin=user_frame(),
            )
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


def _record_backward(entry, grads_out, in_grads, elapsed):
    """Watcher of every entry a Tape captured: backward time and gradient statistics."""
    record, be = entry.record, entry.ctx.backend
    stats = _array_stats(be, grads_out[0]) if grads_out[0] is not None else _array_stats(be, be.zeros((0,), "f8"))
    prev = record.backward_ms or 0.0
    record._set("backward_ms", prev + elapsed * 1e3)
    record._set("grad", {k: stats[k] for k in ("shape", "norm", "max_abs", "nan", "inf")})
    grads = []
    for pos in record._positions or range(len(in_grads)):
        g = in_grads[pos] if pos < len(in_grads) else None
        if g is None:
            grads.append(None)
            continue
        s = _array_stats(be, g)
        grads.append({k: s[k] for k in ("shape", "norm", "max_abs", "nan", "inf")})
    record._set("input_grads", tuple(grads))


# ------------------------------------------------------------------ formatting

def _fmt_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024


def _fmt_shape(s):
    return "(" + ",".join(str(x) for x in s) + ")"


def _fmt_num(v):
    if v is None:
        return "-"
    if v == 0:
        return "0"
    return f"{v:.2e}" if (abs(v) < 1e-2 or abs(v) >= 1e4) else f"{v:.3f}"


def format_table(records, summary, width=120):
    has_grad = any(r.grad is not None for r in records)
    seq_width = max([3] + [len(str(r.seq)) for r in records])  # sequence numbers grow all session
    cols = [("#", seq_width, ">"), ("op", 12, "<"), ("module", 20, "<"), ("kernel", 9, "<"), ("in -> out", 24, "<"),
            ("saved", 8, ">"), ("fwd ms", 7, ">")]
    if has_grad:
        cols += [("bwd ms", 7, ">"), ("|grad|", 9, ">"), ("nan/inf", 7, ">")]
    rows = []
    for r in records:
        ins = " ".join(_fmt_shape(i["shape"]) for i in r.inputs if i["kind"] != "param")
        io = f"{ins}->{_fmt_shape(r.output['shape'])}"
        kernel = r.kernel.split(".")[-1] if r.kernel else "-"
        cells = [str(r.seq), r.op, r.module or "", kernel, io, _fmt_bytes(r.saved_bytes), f"{r.forward_ms:.3f}"]
        if has_grad:
            g = r.grad
            cells += ["-" if r.backward_ms is None else f"{r.backward_ms:.3f}",
                      "-" if g is None else _fmt_num(g["norm"]),
                      "-" if g is None else (f"{g['nan']}/{g['inf']}")]
        rows.append(cells)
    def fit(text, w, align):
        text = text if len(text) <= w else text[: w - 1] + "~"
        return f"{text:{align}{w}}"
    lines = [" ".join(fit(c[0], c[1], c[2]) for c in cols)]
    lines.append("-" * len(lines[0]))
    for cells in rows:
        lines.append(" ".join(fit(cell, c[1], c[2]) for cell, c in zip(cells, cols)))
    s = summary
    tail = f"{s['ops']} ops, {_fmt_bytes(s['saved_bytes'])} saved for backward, forward {s['forward_ms']:.3f} ms"
    if s["backward_ms"] is not None:
        tail += f", backward {s['backward_ms']:.3f} ms"
    lines.append("-" * len(lines[0]))
    lines.append(tail)
    return "\n".join(line[:width] for line in lines)


# ------------------------------------------------------------------ graphviz

def _dot_escape(s):
    return str(s).replace("\\", "\\\\").replace('"', '\\"')


def to_dot(records):
    """Graphviz DOT of the captured ops: leaves are green ellipses, parameters
    blue boxes, inputs without grad grey ellipses, ops rounded boxes, the loss (last scalar) a red
    double octagon; edges carry the shape flowing along them."""
    lines = ["digraph tape {", '  rankdir=TB;', '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    produced = {r.output["id"]: r for r in records}
    declared = set()
    last = records[-1] if records else None
    for r in records:
        label = f"#{r.seq} {r.op}" + (f"\\n{_dot_escape(r.module)}" if r.module else "")
        if r.kernel:
            label += f"\\n[{_dot_escape(r.kernel.split('.')[-1])}]"
        is_loss = r is last and (r.output["shape"] == [] or r.output["shape"] == [1])
        style = ('shape=doubleoctagon, style=filled, fillcolor="#f4a6a6"' if is_loss
                 else 'shape=box, style="rounded,filled", fillcolor="#fff2cc"')
        lines.append(f'  "{r.output["id"]}" [label="{label}", {style}];')
        for inp in r.inputs:
            src = inp["id"]
            if src not in produced and src not in declared:
                declared.add(src)
                shape = {"param": 'shape=box, style=filled, fillcolor="#cfe2f3"',
                         "leaf": 'shape=ellipse, style=filled, fillcolor="#d9ead3"',
                         "input": 'shape=ellipse, style=filled, fillcolor="#eeeeee"',
                         "op": 'shape=ellipse, style=dashed'}[inp["kind"]]
                lines.append(f'  "{src}" [label="{_dot_escape(src)}\\n{_fmt_shape(inp["shape"])}", {shape}];')
            lines.append(f'  "{src}" -> "{r.output["id"]}" [label="{_fmt_shape(inp["shape"])}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_dot(dot_text, path):
    """Run Graphviz ``dot`` to write ``path`` (.svg or .png)."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in ("svg", "png", "pdf"):
        raise ValueError(f"render: unsupported file type {ext!r}; use a .svg, .png or .pdf path")
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            "render: the Graphviz 'dot' program is not installed. Install Graphviz "
            "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
            "conda: conda install graphviz), or write tape.to_dot() to a file and render it elsewhere."
        )
    with tempfile.NamedTemporaryFile("w", suffix=".dot", delete=False) as f:
        f.write(dot_text)
        src = f.name
    try:
        res = subprocess.run([exe, f"-T{ext}", src, "-o", path], capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(src)
    if res.returncode != 0:
        raise RuntimeError(f"render: dot failed: {res.stderr.strip()}")
    return path


# --------------------------------------------------------------- grad flow plot

def plot_grad_flow(flow, path=None, ax=None):
    """Bar chart of gradient norms per parameter (``tape.grad_flow()``), log scale.
    Needs matplotlib (the ``plot`` extra). Saves to ``path`` when given."""
    try:
        import matplotlib

        if path is not None and ax is None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("plot_grad_flow: matplotlib is not installed; pip install tinygrad-bn[plot]") from None
    if hasattr(flow, "grad_flow"):
        flow = flow.grad_flow()
    if not flow:
        raise ValueError("plot_grad_flow: no parameter gradients recorded; run backward() on the captured graph first")
    names = [f["param"] for f in flow]
    norms = [max(f["norm"], 1e-30) for f in flow]
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(names)), 4))
    ax.bar(range(len(names)), norms, color="#4a86e8")
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("gradient L2 norm")
    ax.set_title("gradient flow")
    if own:
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
            plt.close(fig)
    return ax


TAPE_JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "tinygrad_bn tape",
    "type": "object",
    "required": ["format", "version", "summary", "entries"],
    "properties": {
        "format": {"const": "tinygrad_bn.tape"},
        "version": {"const": 1},
        "summary": {
            "type": "object",
            "required": ["ops", "saved_bytes", "forward_ms", "backward_ms"],
            "properties": {
                "ops": {"type": "integer", "minimum": 0},
                "saved_bytes": {"type": "integer", "minimum": 0},
                "forward_ms": {"type": "number", "minimum": 0},
                "backward_ms": {"type": ["number", "null"]},
            },
        },
        "entries": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
    },
    "$defs": {
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "gradstats": {
            "type": "object",
            "required": ["shape", "norm", "max_abs", "nan", "inf"],
            "properties": {
                "shape": {"$ref": "#/$defs/shape"},
                "norm": {"type": "number"}, "max_abs": {"type": "number"},
                "nan": {"type": "integer", "minimum": 0}, "inf": {"type": "integer", "minimum": 0},
            },
        },
        "entry": {
            "type": "object",
            "required": ["seq", "op", "module", "kernel", "params", "inputs", "output", "saved_bytes",
                         "forward_ms", "activation", "origin", "backward_ms", "grad", "input_grads"],
            "properties": {
                "seq": {"type": "integer", "minimum": 0},
                "op": {"type": "string"},
                "module": {"type": "string"},
                "kernel": {"type": ["string", "null"]},
                "params": {"type": "object"},
                "inputs": {"type": "array", "items": {
                    "type": "object", "required": ["id", "kind", "shape", "dtype", "requires_grad"],
                    "properties": {"id": {"type": "string"},
                                   "kind": {"enum": ["op", "param", "leaf", "input"]},
                                   "shape": {"$ref": "#/$defs/shape"}, "dtype": {"type": "string"},
                                   "requires_grad": {"type": "boolean"}}}},
                "output": {"type": "object", "required": ["id", "shape", "dtype", "device"],
                           "properties": {"id": {"type": "string"}, "shape": {"$ref": "#/$defs/shape"},
                                          "dtype": {"type": "string"}, "device": {"type": "string"}}},
                "saved_bytes": {"type": "integer", "minimum": 0},
                "forward_ms": {"type": "number", "minimum": 0},
                "activation": {"type": ["object", "null"]},
                "origin": {"type": ["array", "null"], "prefixItems": [{"type": "string"}, {"type": "integer"},
                                                                      {"type": "string"}]},
                "backward_ms": {"type": ["number", "null"]},
                "grad": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/gradstats"}]},
                "input_grads": {"type": ["array", "null"],
                                "items": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/gradstats"}]}},
            },
        },
    },
}
