"""Runs of elementwise calls fused into one generated Numba function.

A run is a stretch of consecutive program calls that are elementwise in
NumPy's sense (arithmetic, comparisons, ``where``, ``relu`` and its backward,
dtype casts, the in-place updates ``iadd``/``imul``/``axpy``/``copyto``/...) on
NumPy arrays; a run may start with a ``check_finite``, which the function makes
before it writes anything (its flag comes back first, and replay raises). The run
becomes one ``@njit`` function: consecutive calls over one shape share one loop
nest, a value used only inside its loop nest stays a local number (never an
array), and only values used after the run are written out. Each call keeps
NumPy's exact arithmetic: its operands are cast to the dtype NumPy computes in
(Python numbers are "weak", NEP 50) and its result to the dtype NumPy returns,
``maximum`` and ``minimum`` pick the operand NumPy picks (NaN, and the second
of two equal zeros), division by zero gives inf and NaN (``error_model="numpy"``).
So a fused run gives the values the calls give, bit for bit. Transcendental
functions (exp, log, tanh, ...) are not fused: Numba's and NumPy's differ in
the last bit.

The generated source is written to a file named by its hash in the compile
cache folder (``TINYGRAD_BN_CACHE`` or ``~/.cache/tinygrad_bn``) and compiled
with ``cache=True``, so another process loads the machine code instead of
compiling it again.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys

import numpy as np

from .program import const_key

_DTYPES = {"float32", "float64", "int64", "int32", "bool"}

_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_COMPARE = {"less": "<", "greater": ">", "less_equal": "<=", "greater_equal": ">=", "equal": "==",
            "not_equal": "!="}
_IN_PLACE = {"iadd": "+", "isub": "-", "imul": "*", "idiv": "/"}
FUSIBLE = frozenset(_BINARY) | frozenset(_COMPARE) | frozenset(_IN_PLACE) | {
    "neg", "abs", "maximum", "minimum", "where", "logical_and", "logical_not", "relu", "relu_backward", "axpy",
    "cast", "copyto", "check_finite"}
MIN_RUN = 2
"""Runs that weigh less than this are left as they are (a call weighs 1, or
MIN_RUN when it is in WORTH_A_RUN_ALONE): one NumPy call that makes a new array
costs what one Numba call does."""
WORTH_A_RUN_ALONE = frozenset({"relu_backward", "axpy"}) | frozenset(_IN_PLACE)
"""Calls that are worth a run of their own. NumPy makes relu_backward and axpy in
two passes with a temporary (a mask, then the product; a scaled copy, then the
sum): ReLU's backward at (256, 128) took 18.6 us in NumPy, 4.1 us as one loop.
An in-place update of a (N, C) array by a row (a bias added after a product
that batch norm then reads) restarts NumPy's broadcast inner loop at every row:
at (16, 64) it took 1.4 us against 0.35 us as one loop, at (4096, 128) 119 us
against 45 us; with operands of one shape the loop is level with NumPy or
faster (0.58 against 0.35 us at (16, 64), 55.6 against 54.6 us at (4096, 128))."""


def cache_dir():
    return os.environ.get("TINYGRAD_BN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinygrad_bn")


# ------------------------------------------------------------------ finding runs
def _array_of(program, ref):
    """The trace's array of an argument ref, or None for a constant or a container."""
    kind, v = ref
    if kind == "v":
        return program.value_arrays[v]
    if kind == "x":
        return program.externals[v]
    if kind == "a":
        return program.arg_arrays[v]
    return None


def _converts_alike(src, dst):
    """Whether Numba's conversion of a ``src`` number to ``dst`` is NumPy's
    ``astype``: to a float, or between integers and bools. A float to an integer
    is left to NumPy (NaN, infinities and overflow are undefined in C and differ)."""
    return dst.kind == "f" or (src.kind in "biu" and dst.kind in "iu")


def _fusible(program, ins):
    """Whether this call can join a run (see the module docstring)."""
    if ins.kind != "call" or ins.name not in FUSIBLE or ins.kwargs:
        return False
    if ins.name == "check_finite":  # check_finite(message, *arrays): a run's first call only (see find_runs)
        message, *refs = ins.args
        arrays = [_array_of(program, r) for r in refs]
        return (message[0] == "c" and isinstance(message[1], str) and not ins.outs and bool(arrays)
                and all(type(a) is np.ndarray and a.dtype.kind == "f" and str(a.dtype) in _DTYPES and a.ndim
                        for a in arrays))
    if ins.name == "cast":  # cast(x, dtype): the dtype is a constant, not an operand
        src = _array_of(program, ins.args[0])
        out = program.value_arrays[ins.outs[0]] if len(ins.outs) == 1 else None
        return (type(src) is np.ndarray and type(out) is np.ndarray and out.shape == src.shape
                and str(src.dtype) in _DTYPES and str(out.dtype) in _DTYPES and _converts_alike(src.dtype, out.dtype))
    if ins.name == "copyto":  # copyto(dst, src), casting="unsafe"
        dst = _array_of(program, ins.args[0])
        src = _array_of(program, ins.args[1])
        if type(dst) is not np.ndarray or type(src) is not np.ndarray or str(src.dtype) not in _DTYPES or \
                not _converts_alike(src.dtype, dst.dtype):
            return False
    shapes = []
    for ref in ins.args:
        kind, v = ref
        if kind in ("v", "x", "a"):
            a = _array_of(program, ref)
            if type(a) is not np.ndarray or str(a.dtype) not in _DTYPES:
                return False
            shapes.append(a.shape)
        elif kind != "c" or not isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)):
            return False
    if ins.name in _IN_PLACE or ins.name in ("axpy", "copyto"):
        target = _array_of(program, ins.args[0])
        return target is not None and ins.args[0][0] != "c" and \
            np.broadcast_shapes(*shapes) == target.shape and not ins.outs and _updates_alike(program, ins, target)
    if len(ins.outs) != 1:
        return False
    out = program.value_arrays[ins.outs[0]]
    return type(out) is np.ndarray and str(out.dtype) in _DTYPES and np.broadcast_shapes(*shapes) == out.shape


def _updates_alike(program, ins, target):
    """Whether an in-place update's result converts to its target as NumPy's
    ``casting="unsafe"`` does: ``_converts_alike`` from the kind NumPy computes
    in (a float for true division, axpy's scale or any float operand, the
    target included; an integer or bool otherwise) to the target's dtype."""
    if ins.name == "copyto":  # its source was checked above
        return True
    arrays = [_array_of(program, ref) for ref in ins.args]
    kinds = {(a.dtype if a is not None else np.asarray(ref[1]).dtype).kind for a, ref in zip(arrays, ins.args)}
    floats = ins.name in ("idiv", "axpy") or "f" in kinds
    computed = np.dtype(np.float64 if floats else np.int64 if kinds - {"b"} else np.bool_)
    return _converts_alike(computed, target.dtype)


def _writes_alias(program, run, ins):
    """Whether an in-place call in ``run + [ins]`` writes memory that another
    array of the run reads through another array object (a view): then the
    loop's element order could differ from the calls' order."""
    calls = run + [ins]
    arrays = []
    for c in calls:
        for ref in c.args:
            a = _array_of(program, ref)
            if a is not None:
                arrays.append(a)
    for c in calls:
        if c.name in _IN_PLACE or c.name in ("axpy", "copyto"):
            target = _array_of(program, c.args[0])
            if any(a is not target and np.shares_memory(a, target) for a in arrays):
                return True
    return False


def find_runs(program):
    """Lists of instruction indices, each a run to fuse (alias instructions,
    which emit nothing, and version bumps, which replay emits after the run,
    may sit inside a run)."""
    runs, current = [], []

    def close():
        weight = sum((MIN_RUN if program.instrs[i].name in WORTH_A_RUN_ALONE else 1) for i in current
                     if program.instrs[i].kind == "call")
        if weight >= MIN_RUN:
            runs.append(list(current))
        current.clear()

    for i, ins in enumerate(program.instrs):
        if ins.kind == "call" and ins.name == "check_finite":
            # a check raises before the calls after it run, as the eager step does, only as a run's
            # first call: the run checks its arrays before it writes anything
            close()
            if _fusible(program, ins):
                current.append(i)
            continue
        # an alias emits nothing and a version bump changes no array: neither ends a run
        if (ins.kind in ("alias", "bump") and current) or (
                _fusible(program, ins) and not _writes_alias(program, [program.instrs[j] for j in current], ins)):
            current.append(i)
        else:
            close()
    close()
    return runs


# ------------------------------------------------------------------ generating
def _dtype_name(dt):
    return "np.bool_" if str(dt) == "bool" else f"np.{dt}"


def _literal(v):
    """A bool or integer constant as source text (its dtype comes from the cast
    around it; float constants are parameters of the run instead)."""
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    return repr(v.item() if isinstance(v, np.generic) else v)


def _weak(program, ref):
    """The operand as NumPy's result_type sees it: an array's dtype; a Python
    number as itself (weak: it takes the array's dtype); a NumPy scalar as its dtype."""
    return ref[1] if ref[0] == "c" else _array_of(program, ref).dtype


class Run:
    """One fused run: the instructions it replaces, the refs it reads (its
    parameters, in order), the values it returns, its source and name."""

    def __init__(self, indices, inputs, outputs, source, name, check=None):
        self.indices, self.inputs, self.outputs, self.source, self.name = indices, inputs, outputs, source, name
        self.check = check  # a leading check_finite's message: the function then returns its flag first


def _nests(program, calls):
    """Consecutive calls grouped by loop shape (an output's, or an in-place target's)."""
    nests = []
    for c in calls:
        shape = program.value_arrays[c.outs[0]].shape if c.outs else _array_of(program, c.args[0]).shape
        if nests and nests[-1][0] == shape:
            nests[-1][1].append(c)
        else:
            nests.append((shape, [c]))
    return nests


def build_run(program, indices, needed_after):
    """The generated source of one run. ``needed_after``: values read after the run."""
    calls = [program.instrs[i] for i in indices if program.instrs[i].kind == "call"]
    check = calls.pop(0) if calls[0].name == "check_finite" else None
    nests = _nests(program, calls)
    made_in = {o: n for n, (_, cs) in enumerate(nests) for c in cs for o in c.outs}
    read_by = {}  # value made in the run -> the nests that read it
    for n, (_, cs) in enumerate(nests):
        for c in cs:
            for ref in c.args:
                if ref[0] == "v" and ref[1] in made_in:
                    read_by.setdefault(ref[1], set()).add(n)
    # a value is an array only if it outlives its loop nest; otherwise a local number
    stored = {v for v, n in made_in.items() if v in needed_after or read_by.get(v, {n}) - {n}}
    outputs = sorted(v for v in stored if v in needed_after)
    inputs, names = [], {}
    # the run's values are numbered in the order the source first names them, not by their
    # place in the program: runs that compute alike (one optimizer update per parameter, the
    # same layer in two models) get one source, so one compiled function serves them all
    numbers = {}

    def number(v):
        return numbers.setdefault(v, len(numbers))

    def array_name(ref):
        if ref[0] == "v" and ref[1] in made_in:
            return f"v{number(ref[1])}"
        # a constant by const_key: 0.0 == -0.0 in a plain key, and one parameter for both
        # would give x * -0.0 the sign of x * 0.0
        key = ("c", const_key(ref[1])) if ref[0] == "c" else ref
        if key not in names:
            names[key] = f"in{len(inputs)}"
            inputs.append(ref)
        return names[key]

    lines = []
    allocations = [] if check is not None else lines  # with a check, every output is made before it
    for n, (shape, cs) in enumerate(nests):
        nd = len(shape)
        idx = [f"i{d}" for d in range(nd)]
        extents = [_extent(program, cs, d, shape, made_in, n, array_name) for d in range(nd)]
        for c in cs:
            for o in c.outs:
                if o in stored:
                    dt = _dtype_name(program.value_arrays[o].dtype)
                    allocations.append(f"    {array_name(('v', o))} = np.empty(({''.join(e + ', ' for e in extents)}), {dt})")
        pad = "    "
        for d in range(nd):
            lines.append(f"{pad}for i{d} in range({extents[d]}):")
            pad += "    "
        local = {}

        written = {}  # in-place target -> the local that holds its element until the nest's end

        def read(ref, local=local, written=written, shape=shape, nd=nd, idx=idx):
            kind, v = ref
            if kind == "c":
                if isinstance(v, (float, np.floating)):
                    # a parameter, not a literal: one compiled function serves every learning rate
                    return array_name(ref)
                return _literal(v)
            if kind == "v" and v in local:
                return local[v]
            if ref in written:
                return written[ref]
            a = _array_of(program, ref)
            sub = ["0" if a.shape[k] == 1 and shape[k + nd - a.ndim] != 1 else idx[k + nd - a.ndim]
                   for k in range(a.ndim)]
            return f"{array_name(ref)}[{', '.join(sub) if sub else '()'}]"

        here = ", ".join(idx) if nd else "()"
        for c in cs:
            expr, target = _expression(program, c, read)
            if target is None:
                o = c.outs[0]
                local[o] = f"t{number(o)}"
                lines.append(f"{pad}{local[o]} = {expr}")
                if o in stored:
                    lines.append(f"{pad}{array_name(('v', o))}[{here}] = {local[o]}")
            elif target[0] == "v" and target[1] in local:  # in place on a value of this nest
                lines.append(f"{pad}{local[target[1]]} = {expr}")
                if target[1] in stored:
                    lines.append(f"{pad}{array_name(target)}[{here}] = {local[target[1]]}")
            else:
                # the element lives in a local until the nest's end: one load and one store per element
                # however many calls update it (every access is at this same index: the target has the
                # loop's shape, and no other array of the run shares its memory)
                name = written.get(target) or f"w{len(written)}"
                lines.append(f"{pad}{name} = {expr}")
                written[target] = name
        lines.extend(f"{pad}{array_name(t)}[{here}] = {name}" for t, name in written.items())
    ret = "".join(f"{array_name(('v', o))}, " for o in outputs)
    if check is not None:
        finite = " and ".join(f"np.isfinite({array_name(r)}).all()" for r in check.args[1:])
        lines = [*allocations, f"    if not ({finite}):", f"        return (True, {ret})", *lines]
        ret = f"False, {ret}"
    params = ", ".join(f"in{k}" for k in range(len(inputs)))
    body = "\n".join(lines)
    name = "fused_" + hashlib.sha256(f"{params}\n{body}\n{ret}".encode()).hexdigest()[:20]
    source = f"@njit(cache=True, error_model='numpy')\ndef {name}({params}):\n{body}\n    return ({ret})\n"
    return Run(indices, inputs, outputs, source, name, None if check is None else check.args[0][1])


def _extent(program, calls, d, shape, made_in, nest, array_name):
    """Loop extent d of a nest, read from an operand that has it at run time (so
    one source serves every batch size), or the traced size where only a
    broadcast makes it."""
    nd = len(shape)
    for c in calls:
        for ref in c.args:
            if ref[0] == "c" or (ref[0] == "v" and made_in.get(ref[1]) == nest):
                continue
            a = _array_of(program, ref)
            k = d - (nd - a.ndim)
            if k >= 0 and a.shape[k] == shape[d]:
                return f"{array_name(ref)}.shape[{k}]"
    return str(shape[d])


def _expression(program, c, read):
    """(scalar expression, in-place target ref or None) of one call, in NumPy's dtypes."""
    name, args = c.name, c.args
    weak = [_weak(program, r) for r in args]
    out = np.dtype(program.value_arrays[c.outs[0]].dtype) if c.outs else None
    T = _dtype_name(out) if out is not None else None

    def cast(ref, dt):
        return f"{_dtype_name(dt)}({read(ref)})"

    if name in _BINARY:  # computed in NumPy's result dtype (true division: the float result's)
        dt = out if name == "div" else np.result_type(*weak)
        return f"{T}({cast(args[0], dt)} {_BINARY[name]} {cast(args[1], dt)})", None
    if name in _COMPARE:
        dt = np.result_type(*weak)
        return f"({cast(args[0], dt)} {_COMPARE[name]} {cast(args[1], dt)})", None
    if name == "neg":
        return f"{T}(-{cast(args[0], out)})", None
    if name == "abs":
        return f"{T}(abs({cast(args[0], out)}))", None
    if name in ("maximum", "minimum"):
        return f"_pick{name[:3]}({cast(args[0], out)}, {cast(args[1], out)})", None
    if name == "relu":  # maximum(x, 0 of x's dtype)
        return f"_pickmax({cast(args[0], out)}, {T}(0))", None
    if name == "relu_backward":  # multiply(grad, out > 0, dtype=grad's)
        out_ref, grad_ref = args
        zero = _dtype_name(_array_of(program, out_ref).dtype)
        return f"{T}({cast(grad_ref, out)} * {T}({read(out_ref)} > {zero}(0)))", None
    if name == "where":
        cond, a, b = args
        return f"({cast(a, out)} if {read(cond)} else {cast(b, out)})", None
    if name == "logical_and":
        return f"(({read(args[0])} != 0) and ({read(args[1])} != 0))", None
    if name == "logical_not":
        return f"({read(args[0])} == 0)", None
    if name == "cast":
        return f"{T}({read(args[0])})", None
    target = args[0]
    into = np.dtype(_array_of(program, target).dtype)
    if name == "copyto":
        return f"{_dtype_name(into)}({read(args[1])})", target
    if name in _IN_PLACE:  # ufunc(x, y, out=x, casting="unsafe"): in the result dtype, then cast to x's
        dt = np.result_type(*weak)
        return f"{_dtype_name(into)}({cast(target, dt)} {_IN_PLACE[name]} {cast(args[1], dt)})", target
    # axpy(y, a, x): y += a * x, the product in its own result dtype first
    _, a, x = args
    t1 = np.result_type(weak[1], weak[2])
    t2 = np.result_type(into, t1)
    prod = f"{_dtype_name(t1)}({cast(a, t1)} * {cast(x, t1)})"
    return f"{_dtype_name(into)}({cast(target, t2)} + {_dtype_name(t2)}({prod}))", target


_PRELUDE = '''"""Generated by tinygrad_bn.compiled.fusion: one fused run of a compiled step."""
import numpy as np
from numba import njit


@njit(inline="always")
def _pickmax(a, b):
    # NumPy's maximum: a if a > b or a is NaN, else b (so a NaN b, and b of two equal zeros)
    return a if (a > b or a != a) else b


@njit(inline="always")
def _pickmin(a, b):
    return a if (a < b or a != a) else b


'''

def _holds(path, text):
    try:
        with open(path) as f:
            return f.read() == text
    except OSError:
        return False


_loaded = {}  # source -> compiled function (one process compiles a run once)


def load(run):
    """The run's Numba function: from this process's table, or from its file in
    the cache folder (written on first use), compiled or loaded from Numba's cache."""
    fn = _loaded.get(run.source)
    if fn is not None:
        return fn
    folder = os.path.join(cache_dir(), "fused")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{run.name}.py")
    text = _PRELUDE + run.source
    if not _holds(path, text):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)  # atomic: another process never sees half a file
    # registered as a module before it runs: Numba's disk cache finds the function's module by name
    module_name = f"tinygrad_bn_{run.name}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    fn = _loaded[run.source] = getattr(module, run.name)
    return fn


def compile_for(run, program):
    """Compile (or load from Numba's cache) the run's function for the types of
    the trace's arrays, which replays pass again (same dtypes, dimensions and layouts)."""
    from numba import typeof
    run.fn.compile(tuple(typeof(ref[1] if ref[0] == "c" else _array_of(program, ref)) for ref in run.inputs))
