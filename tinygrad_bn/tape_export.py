"""How a Tape is shown: the terminal table, Graphviz DOT (and rendering it with
``dot``), the gradient-flow bar chart, and the JSON schema of ``Tape.to_json``."""
import os
import shutil
import subprocess
import tempfile


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


def format_table(records, summary, width):
    has_grad = any(r.grad is not None for r in records)
    seq_width = max([3] + [len(str(r.seq)) for r in records])  # sequence numbers grow all session
    # wider numbers take their room from the shapes column (down to 16), then the
    # module column (down to 12), so the gradient columns still fit
    extra = seq_width - 3
    io_width = max(16, 22 - extra)
    module_width = max(12, 20 - (extra - (22 - io_width)))
    cols = [("#", seq_width, ">"), ("op", 12, "<"), ("module", module_width, "<"), ("device.kernel", 14, "<"),
            ("in -> out", io_width, "<"),
            ("saved", 8, ">"), ("fwd ms", 7, ">")]
    if has_grad:
        cols += [("bwd ms", 7, ">"), ("|grad|", 9, ">"), ("nan/inf", 7, ">")]
    rows = []
    for r in records:
        ins = " ".join(_fmt_shape(i["shape"]) for i in r.inputs if i["kind"] != "param")
        io = f"{ins}->{_fmt_shape(r.output['shape'])}"
        # where the op ran: "cuda" for plain array math, "cuda.batchnorm" for a kernel of kernels/cuda
        kernel = ".".join(r.kernel.split(".")[-2:]) if r.kernel else r.output.get("device", "cpu")
        # an op a create_graph pass recorded says whose backward it belongs to
        module = r.module or ("" if r.made_by is None else f"bwd of #{r.made_by}")
        cells = [str(r.seq), r.op, module, kernel, io, _fmt_bytes(r.saved_bytes), f"{r.forward_ms:.3f}"]
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
                "made_by": {"type": ["integer", "null"]},  # optional: absent in older documents
                "backward_ms": {"type": ["number", "null"]},
                "grad": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/gradstats"}]},
                "input_grads": {"type": ["array", "null"],
                                "items": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/gradstats"}]}},
            },
        },
    },
}
