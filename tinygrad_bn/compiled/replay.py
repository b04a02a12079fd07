"""A program's replay: the Python function that runs its calls as straight-line
code, a fused run's Numba function in place of its calls, and the Python
effects (gradients set, zero_grad, version bumps, host steps) where the trace
had them."""
from __future__ import annotations

import numpy as np

from ..tensor_base import make_tensor
from .program import ArgLeaf, const_key, values_read


class ReplayMismatch(RuntimeError):
    """A call came out otherwise than when the step was traced."""


def generate(program, n_args, results, *, fuse):
    """A Python function ``replay(*arg_arrays)`` that runs the program's calls as
    straight-line code (runs of elementwise calls as one fused Numba function
    each, when ``fuse``) and returns the arrays of ``results`` (refs), with the
    source it was made from."""
    folded = fold_views(program, results)
    steps = _steps(program, results, fuse)
    ns = {"_mismatch": _mismatch, "_same": _same, "_box": np.asarray}
    lines = [f"def replay({', '.join(f'a{k}' for k in range(n_args))}):"]
    last_use = _last_uses(steps, results)
    synced = {}  # id(leaf) -> the ref its .grad was last set to
    prologue = []  # the forms' before_replay functions, called once as each replay begins

    def name(r):
        kind, v = r
        if kind == "a":
            return f"a{v}"
        if kind == "v" and v in folded:
            ns[f"k{v}"] = folded[v]
            return f"k{v}"
        if kind == "v":
            return f"v{v}"
        if kind == "x":
            ns[f"x{v}"] = program.externals[v]
            return f"x{v}"
        if kind in ("t", "l"):
            inner = "".join(f"{name(e)}, " for e in v)
            return f"({inner})" if kind == "t" else f"[{inner}]"
        if kind == "d":
            return "{" + "".join(f"{k!r}: {name(e)}, " for k, e in v) + "}"
        key = f"c{len(ns)}"
        ns[key] = v
        return key

    for s, (i, ins, run) in enumerate(steps):
        if run is not None:
            ns[f"g{i}"] = run.fn
            outs = ("bad, " if run.check is not None else "") + "".join(f"v{o}, " for o in run.outputs)
            call = f"g{i}({', '.join(name(r) for r in run.inputs)})"
            lines.append(f"    {outs} = {call}" if outs else f"    {call}")
            if run.check is not None:  # the run's leading check_finite: its error, before the run wrote anything
                lines.append(f"    if bad: raise ValueError({name(('c', run.check))})")
        elif ins.kind in ("call", "guard"):
            ns[f"f{i}"] = form = _replay_form(program, ins)
            hook = getattr(form, "before_replay", None)
            if hook is not None and hook not in prologue:
                prologue.append(hook)
            args = [name(a) for a in ins.args] + [f"{k}={name(v)}" for k, v in ins.kwargs.items()]
            if ins.name == "check":  # its message was built from the trace's arrays: say what failed instead
                args[2] = name(("c", _replay_check_message(ins.line)))
            call = f"f{i}({', '.join(args)})"
            if ins.kind == "guard":
                ns[f"e{i}"] = ins.expect
                lines.append(f"    r = {call}")
                lines.append(f"    if not _same(r, e{i}): _mismatch({i}, r)")
            elif len(ins.outs) == 1 and not ins.meta:
                lines.append(f"    v{ins.outs[0]} = {call}")
            elif ins.meta == ("box",):  # a NumPy bool scalar, as a 0-d array (the tracer's rule)
                lines.append(f"    v{ins.outs[0]} = _box({call})")
            elif ins.outs:
                lines.append(f"    {', '.join(f'v{o}' for o in ins.outs)}, = {call}")
            else:
                lines.append(f"    {call}")
        elif ins.kind == "host":
            ns[f"h{i}"] = ins.payload.step
            lines.append(f"    h{i}()")
        elif ins.kind == "clear":
            ns[f"h{i}"] = _clear_grads(ins.payload)
            lines.append(f"    h{i}()")
        elif ins.kind == "bump" and type(ins.payload) is ArgLeaf:  # the call's own argument
            ns[f"n{i}"] = ins.payload
            lines.append(f"    n{i}.tensor._version_cell[0] += 1")
        elif ins.kind == "bump":
            ns[f"n{i}"] = ins.payload._version_cell
            lines.append(f"    n{i}[0] += 1")
        elif ins.kind == "grads":
            # only the leaves whose gradient changed since the last sync get a new .grad tensor
            leaves = [(t, r) for t, r in ins.payload if synced.get(id(t)) != r]
            synced.update((id(t), r) for t, r in leaves)
            if leaves:
                ns[f"h{i}"] = _grad_setter([t for t, _ in leaves], [r is None or r[0] == "x" for _, r in leaves])
                grads = ", ".join("None" if r is None or r[0] == "x" else name(r) for _, r in leaves)
                lines.append(f"    h{i}(({grads},))")
        dead = [v for v, at in last_use.items() if at == s and v not in folded]
        if dead:
            lines.append(f"    del {', '.join(f'v{v}' for v in sorted(dead))}")
    lines.append(f"    return ({''.join(name(r) + ', ' for r in results)})")
    for k, hook in enumerate(prologue):
        ns[f"p{k}"] = hook
    lines[1:1] = [f"    p{k}()" for k in range(len(prologue))]
    source = "\n".join(lines)
    exec(compile(source, "<tinygrad_bn compiled step>", "exec"), ns)  # noqa: S102  (our own generated source)
    return ns["replay"], source


_VIEWS = frozenset({"swapaxes", "reshape", "transpose"})
"""Calls whose result, when it is a view, follows from its array's layout alone."""
_LAYOUT_GUARDS = frozenset({"shares_memory"})


def fold_views(program, results):
    """value -> array, for the views of state arrays that replay need not make
    again: a state array is the very same array at every replay (the step's
    guards retrace when one is replaced), so a transposed weight or a reshaped
    batch the step closes over is the same view every time. They are made once
    here, and the guards that only compare such views' memory are checked once
    here (one that fails is left to fail in replay). A value the step returns or
    sets as a gradient is never folded: those must be new arrays each call.
    Marks the folded instructions in ``program.folded``."""
    keep = {r[1] for r in results if r[0] == "v"}
    for ins in program.instrs:  # (the engine copies a gradient that is a view before a leaf takes it, so
        if ins.kind == "grads":  # none is one today: this keeps the rule if that changes)
            keep.update(values_read(ins))
    folded = {}

    def resolve(r):  # the argument as replay would pass it, or _NOT when it is made per call
        kind, v = r
        if kind == "x":
            return program.externals[v]
        if kind == "v":
            return folded.get(v, _NOT)
        if kind == "c":
            return v
        if kind == "t":
            inner = tuple(resolve(e) for e in v)
            return _NOT if any(e is _NOT for e in inner) else inner
        return _NOT

    for i, ins in enumerate(program.instrs):
        if ins.kind not in ("call", "guard") or ins.kwargs:
            continue
        args = [resolve(r) for r in ins.args]
        if not args or any(a is _NOT for a in args) or type(args[0]) is not np.ndarray:
            continue
        if ins.kind == "guard" and ins.name in _LAYOUT_GUARDS:
            if _same(ins.fn(*args), ins.expect):
                program.folded.add(i)
        elif ins.kind == "call" and ins.name in _VIEWS and len(ins.outs) == 1 and not ins.meta \
                and ins.outs[0] not in keep:
            traced = program.value_arrays[ins.outs[0]]
            out = ins.fn(*args)
            if type(out) is np.ndarray and np.may_share_memory(out, args[0]) and out.shape == traced.shape \
                    and out.strides == traced.strides and out.dtype == traced.dtype:
                folded[ins.outs[0]] = out
                program.folded.add(i)
    return folded


_NOT = object()


def _swapaxes(a, axis1, axis2):
    return a.swapaxes(axis1, axis2)


def _transpose(a, axes):
    return a.transpose(axes)


def _reshape(a, shape):
    return a.reshape(shape)


_METHOD_FORMS = {np.swapaxes: (_swapaxes, 3), np.transpose: (_transpose, 2), np.reshape: (_reshape, 2)}
"""NumPy functions that call their array's method of the name, through NumPy's
dispatch (about 0.4 us of a 0.6 us swapaxes): replay calls the method of an
ndarray directly (for a call with these many positional arguments)."""


def _replay_form(program, ins):
    """The function replay calls for ``ins``: its own, or the form it offers for
    arguments like the trace's (``fn.replay_form(*traced_args)``: a kernel
    whose checks the trace already passed, on arrays of the same shapes and
    dtypes, may skip them; None offers none)."""
    method, count = _METHOD_FORMS.get(ins.fn, (None, 0))
    if method is not None and len(ins.args) == count and not ins.kwargs and ins.args[0][0] in ("a", "v", "x"):
        from .fusion import _array_of
        if type(_array_of(program, ins.args[0])) is np.ndarray:
            return method
    offer = getattr(ins.fn, "replay_form", None)
    if offer is None or any(r[0] not in ("a", "v", "x", "c") for r in ins.args) or \
            any(r[0] != "c" for r in ins.kwargs.values()):
        return ins.fn
    from .fusion import _array_of

    def traced(r):  # the trace's array, or the constant itself
        return r[1] if r[0] == "c" else _array_of(program, r)
    form = offer(*map(traced, ins.args), **{k: traced(r) for k, r in ins.kwargs.items()})
    return ins.fn if form is None else form  # None: no other form for these arguments


def _steps(program, results, fuse):
    """(index, instruction, run) per step of the replay: a fused run stands for
    all its instructions (at its first), alias instructions emit nothing."""
    runs = {}
    if fuse:
        from . import fusion
        for indices in fusion.find_runs(program):
            runs[indices[0]] = indices
    inside = {i for indices in runs.values() for i in indices}
    read_at = {}  # value -> last instruction index that reads it
    for i, ins in enumerate(program.instrs):
        for v in values_read(ins):
            read_at[v] = i
    needed_final = {r[1] for r in results if r[0] == "v"}
    steps = []
    program.runs = []
    for i, ins in enumerate(program.instrs):
        if i in runs:
            from . import fusion
            indices = runs[i]
            end = indices[-1]
            needed = {v for v, at in read_at.items() if at > end} | needed_final
            run = fusion.build_run(program, indices, needed)
            run.fn = fusion.load(run)
            fusion.compile_for(run, program)  # now, not in the first replay: from Numba's cache when it has it
            program.runs.append(run)
            steps.append((i, ins, run))
            steps.extend((j, program.instrs[j], None) for j in indices if program.instrs[j].kind == "bump")
        elif i not in inside and ins.kind != "alias" and i not in program.folded:
            steps.append((i, ins, None))
    return steps


def _last_uses(steps, results):
    """value -> the step after which no step reads it (values a result needs
    are kept to the end; a value a step makes and nothing reads goes at once)."""
    last = {}
    for s, (_, ins, run) in enumerate(steps):
        made = run.outputs if run is not None else [o for o in ins.outs if isinstance(o, int)]
        reads = [r[1] for r in run.inputs if r[0] == "v"] if run is not None else values_read(ins)
        for v in reads:
            last[v] = s
        for o in made:
            last.setdefault(o, s)
    for r in results:
        if r[0] == "v":
            last.pop(r[1], None)
    return last


def _same(a, b):
    """Whether a guard's value is the trace's: arrays bit for bit (signed zeros apart, a
    NaN equal to itself), as two traces are compared."""
    if isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and \
            a.tobytes() == b.tobytes()
    return const_key(a) == const_key(b)


def _mismatch(i, got):
    raise ReplayMismatch(f"compiled step: op {i} came out as {got!r}, not as when the step was traced")


def _replay_check_message(line):
    return lambda: (f"a check the step makes at {line} failed (the compiled step replays it without the values "
                    "that name the cause; run the step uncompiled for the full message)")


def _clear_grads(tensors):
    def clear():
        for t in tensors:
            t.grad = None
    return clear


def _grad_setter(leaves, kept):
    """Set each leaf's .grad to a new tensor around its gradient array; leaves
    whose grad was kept from before the step (or has none) are left alone there."""
    pairs = list(zip(leaves, kept))

    def set_grads(grads):
        for (t, keep), g in zip(pairs, grads):
            if not keep:
                if type(t) is ArgLeaf:
                    t = t.tensor
                t.grad = make_tensor(g, t._backend, False)
    return set_grads
