"""``CompiledStep``: trace a step eagerly until two runs record the same program,
then replay that program.

A call goes through three stages, per key (the tensor arguments' shapes,
dtypes, devices and ``requires_grad``, the other arguments, grad mode):
1. traced: the step runs eagerly (its results are the eager ones) while a
   ``Tracer`` records the calls it makes;
2. when two traces in a row are one program (``Program.first_difference``), the
   program is kept; the first step of an optimizer makes its state, so this is
   usually the second and third call. An optimizer whose calls differ between
   two traces (Adam's bias corrections use its step count, a Python number) is
   kept as a host call: its ``step()`` runs in Python between replayed calls;
3. replayed: the program's calls run as straight-line code, with no Tensor
   objects, tape entries, argument checks or Python dispatch, while its guards
   hold: the modules' train/eval flags, the traced optimizers' hyperparameters
   (a scheduler's new lr retraces), and every state array still the one its
   tensor or optimizer holds (``Module.to``, ``load_state_dict`` that replace an
   array retrace).
"""
from __future__ import annotations

import builtins
import time
import warnings
from collections import OrderedDict

import numpy as np

from .. import observers
from ..grad_mode import GradMode
from ..tensor_base import TensorBase, make_tensor
from .program import HOST_READS, ArgLeaf, Program, const_key
from .replay import generate
from .tracing import Tracer

MAX_TRACES = 4
"""Eager traced runs a key gets to settle into one program before compile gives up."""


class CompileError(RuntimeError):
    """The step cannot be replayed as one program: what differs, where."""


class _Entry:
    """What compile knows about one key."""

    def __init__(self):
        self.previous = None  # the last trace's Program
        self.previous_leaves = ()
        self.traces = 0
        self.host_optimizers = set()  # ids of optimizers whose step runs in Python
        self.settling = set()  # ids of optimizers whose calls differed once (their first step)
        self.replay = None
        self.source = ""
        self.program = None
        self.guards = None
        self.arg_grads_none = ()  # arguments whose .grad must be None for a replay (the step makes it)
        self.arg_cell = None
        self.results = None
        self.output_tree = None
        self.replays = 0
        self.eager = False  # fallback=True gave up on this key: it runs eagerly
        self.compile_seconds = 0.0  # code generation and Numba compilation (or loading) of the fused runs


class CompiledStep:
    """``step_fn`` traced once per key and replayed (see the module docstring).
    Calling it returns what ``step_fn`` returns; a returned tensor made in the
    step is a new tensor without history (``loss.item()`` works as always,
    ``loss.backward()`` belongs inside the step)."""

    def __init__(self, fn, *, fallback=False, fuse=True, cache_size=8):
        self.fn = fn
        self.fallback = fallback
        self.fuse = fuse
        self.cache_size = cache_size
        self._entries = OrderedDict()
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", "step")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __repr__(self):
        return f"<compiled {self.__name__}: {len(self._entries)} keys>"

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if observers.active:
            # a Tape or anomaly mode watches ops: they see the eager step
            return self.fn(*args, **kwargs)
        tensors = []
        key = (_key(args, tensors) if args else _NOTHING,
               _key(tuple(sorted(kwargs.items())), tensors) if kwargs else _NOTHING, GradMode.enabled)
        if len(tensors) > 1:  # one tensor passed twice is another program (its gradients add up)
            firsts = {}
            key += (tuple(firsts.setdefault(id(t), k) for k, t in enumerate(tensors)),)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
            while len(self._entries) > self.cache_size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        if entry.eager:
            return self.fn(*args, **kwargs)
        if entry.replay is not None:
            if entry.guards() and (not entry.arg_grads_none
                                   or all(tensors[k].grad is None for k in entry.arg_grads_none)):
                return self._replay(entry, tensors)
            entry.replay = None  # state changed under it: trace again
            entry.previous, entry.traces = None, 0
        return self._trace(entry, args, kwargs, tensors)

    def _replay(self, entry, tensors):
        entry.arg_cell.tensors = tensors  # for the .grad of argument leaves (per thread)
        try:
            outs = entry.replay(*[t._data for t in tensors])
        finally:
            entry.arg_cell.tensors = None
        entry.replays += 1
        return _rebuild(entry.output_tree, outs)

    def _trace(self, entry, args, kwargs, tensors):
        tracer = Tracer(entry.host_optimizers)
        with tracer:
            out = self.fn(*args, **kwargs)
            tracer.sync_grads()
        entry.traces += 1
        why = _not_replayable(tracer, out)
        if why:
            return self._give_up(entry, why, out)
        if tracer.python_state:
            # an optimizer keeps Python numbers in its state (a step count): its step stays Python
            entry.host_optimizers.update(tracer.python_state)
            entry.previous = None
            return out
        out_refs, tree = [], None
        program = Program(tracer.events, [t._data for t in tensors], tensors, tracer.born,
                          {id(t) for t in _tensors_in(out)})
        tree = _output_tree(out, program, out_refs)
        previous, entry.previous = entry.previous, program
        if tree is None:
            program.release()
            return self._give_up(entry, "the step returned something other than tensors, numbers, None "
                                        "and tuples, lists or dicts of them", out)
        if previous is None:
            program.release()
            return out
        at = previous.first_difference(program)
        if at is None:
            out_refs = program.elide_copies(out_refs)
            entry.program, entry.results, entry.output_tree = program, out_refs, tree
            t0 = time.perf_counter()
            entry.replay, entry.source = generate(program, len(tensors), out_refs, fuse=self.fuse)
            entry.arg_cell = program.arg_cell
            entry.compile_seconds = time.perf_counter() - t0
            entry.guards, entry.arg_grads_none = _guard_function(*_guards(program, tracer))
            program.release()
            return out
        program.release()
        here = [p.instrs[at] for p in (program, previous) if at < len(p.instrs)]
        read = next((i for i in here if i.kind == "guard" and i.name in HOST_READS), None)
        if read is not None:
            return self._give_up(entry, f"the step reads tensor values into Python at {read.line} (.item(), "
                                        ".tolist(), .numpy() or a NumPy conversion) and they change from call to "
                                        "call; replay runs no Python between ops, so return the tensor from the "
                                        "step and read it after the call", out)
        regions = [i.region for i in here if i.region is not None and id(i.region) not in entry.host_optimizers]
        settling = [r for r in regions if id(r) not in entry.settling]
        if settling:
            # an optimizer's first step makes its state (a momentum buffer): its calls differ once
            entry.settling.update(id(r) for r in settling)
            return out
        if regions:
            # the optimizer's own calls differ from step to step: run its step in Python
            entry.host_optimizers.update(id(r) for r in regions)
            entry.previous = None
            return out
        if entry.traces >= MAX_TRACES:
            ins = here[0]
            return self._give_up(entry, f"op {at} ({ins.name}, at {ins.line}) differs between two runs of the "
                                        "step; its arguments or result depend on something outside the tensors (a "
                                        "Python number that changes, data-dependent control flow, an array made "
                                        "outside the backend)", out)
        return out

    def _give_up(self, entry, why, out):
        if self.fallback:
            entry.replay = None
            entry.eager = True  # never again: eager from now on, said once
            warnings.warn(f"compile({self.__name__}): running the step eagerly (fallback=True): {why}",
                          RuntimeWarning, stacklevel=3)
            return out
        raise CompileError(f"compile({self.__name__}): cannot replay the step: {why}. Pass fallback=True to run "
                           "it eagerly instead.")

    # --------------------------------------------------------------- inspecting
    def programs(self):
        """The compiled programs, one per key, as ``Program`` objects."""
        return [e.program for e in self._entries.values() if e.program is not None]

    def describe(self):
        """Each compiled program as text: its ops, values' shapes and host calls."""
        parts = []
        for key, e in self._entries.items():
            if e.program is None:
                parts.append(f"key {key}: tracing ({e.traces} runs so far)")
            else:
                parts.append(f"key {key}: {len(e.program.instrs)} ops, {e.program.n_values} values, "
                             f"{len(e.program.externals)} state arrays, {len(e.program.runs)} fused runs "
                             f"(generated and compiled in {e.compile_seconds:.3f} s), replayed {e.replays} times\n"
                             + e.program.describe())
        return "\n\n".join(parts)


def compile(fn=None, *, fallback=False, fuse=True, cache_size=8):
    """Trace ``fn`` (a training step: forward, loss, backward, optimizer update)
    and replay it without Python dispatch. Usable as ``compile(step)`` and as a
    decorator, ``@compile`` or ``@compile(fallback=True)``. ``fallback=True``
    runs a step that cannot be replayed eagerly instead of raising.
    ``fuse=False`` keeps every call a NumPy call (no Numba compilation). See
    ``compiled/step.py`` for what is traced, what is guarded and what retraces."""
    if fn is None:
        return lambda f: CompiledStep(f, fallback=fallback, fuse=fuse, cache_size=cache_size)
    if not callable(fn):
        raise TypeError(f"compile: expected a function (the step), got {type(fn).__name__}")
    return CompiledStep(fn, fallback=fallback, fuse=fuse, cache_size=cache_size)


# ---------------------------------------------------------------------- keys
_NOTHING = ("tuple", ())  # _key(()): the key of a call without (keyword) arguments


def _key(value, tensors):
    """A hashable key of the arguments; tensors by their metadata (collected, in order)."""
    if isinstance(value, TensorBase):
        tensors.append(value)
        return ("T", value._data.shape, str(value._data.dtype), value._backend.name, value.requires_grad)
    if type(value) in (tuple, list):
        return (type(value).__name__, tuple(_key(v, tensors) for v in value))
    if type(value) is dict:
        return ("dict", tuple((k, _key(v, tensors)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"compile: a step argument of type {type(value).__name__} is neither a tensor nor "
                        "hashable; pass tensors, numbers, strings or tuples of them") from None
    if isinstance(value, (float, np.floating)):  # as the program compares constants: NaN is one case, -0.0 not 0.0
        return ("=", type(value), const_key(value))
    return ("=", type(value), value)


def _output_tree(out, program, refs):
    """The step's result with each tensor replaced by the index of its array's ref."""
    if out is None or isinstance(out, (bool, int, float, str)):
        return ("c", out)
    if isinstance(out, TensorBase):
        refs.append(program.ref(out._data))
        return ("T", len(refs) - 1, out._backend)  # the tensor's device, whatever the arguments
    if type(out) in (tuple, list):
        parts = [_output_tree(o, program, refs) for o in out]
        return None if any(p is None for p in parts) else (type(out).__name__, parts)
    if type(out) is dict:
        parts = {k: _output_tree(v, program, refs) for k, v in out.items()}
        return None if any(p is None for p in parts.values()) else ("dict", parts)
    return None


def _rebuild(tree, arrays):
    kind = tree[0]
    if kind == "c":
        return tree[1]
    if kind == "T":
        return make_tensor(arrays[tree[1]], tree[2], False)
    if kind == "dict":
        return {k: _rebuild(v, arrays) for k, v in tree[1].items()}
    parts = [_rebuild(p, arrays) for p in tree[1]]
    return tuple(parts) if kind == "tuple" else parts


# --------------------------------------------------------------------- guards
def _guards(program, tracer):
    """What must still hold for the program to be the step: (modules' training
    flags, traced optimizers' hyperparameters, checks that each state array is
    still the one its tensor, gradient or optimizer holds), and the arguments
    whose .grad must be None. Where a state array is found now is a spec:
    ("attr", obj, name), ("grad", tensor) (its gradient's array) or ("item",
    dict, key); each held check is (spec, the object it must be)."""
    owners = {}  # id(array) -> where the step found it
    for t in tracer.leaves.values():
        owners.setdefault(id(t._data), ("attr", t, "_data"))
        if t.grad is not None:
            owners.setdefault(id(t.grad._data), ("grad", t))
    for m in tracer.modules.values():
        for t in list(m.parameters(recurse=False)) + [b for b in m.buffers(recurse=False) if b is not None]:
            owners.setdefault(id(t._data), ("attr", t, "_data"))
    traced = [o for o in tracer.optimizers.values() if id(o) not in tracer.host_optimizers]
    for o in traced:
        for state in o.state.values():
            for k, v in state.items():
                owners.setdefault(id(v), ("item", state, k))
    held = [(owners[id(x)], x) for x in program.externals if id(x) in owners]
    # a leaf whose gradient the step made anew (no zero_grad in the step before it) had none before
    # the step: the eager step would add into one that is there
    # (an argument's tensor differs from call to call: its check is on the call's own argument)
    cleared, first_seen, arg_grads_none = set(), set(), []
    for ins in program.instrs:
        if ins.kind == "clear":
            cleared.update(id(t) for t in ins.payload)
        elif ins.kind == "grads":
            for t, r in ins.payload:
                if id(t) in first_seen:
                    continue
                first_seen.add(id(t))
                tensor = t.traced if isinstance(t, ArgLeaf) else t  # the argument's tensor in the trace
                if r is not None and r[0] != "x" and id(tensor) not in cleared:
                    if isinstance(t, ArgLeaf):
                        arg_grads_none.append(t.k)
                    else:
                        held.append((("attr", t, "grad"), None))
    modules = [(m, m.training) for m in tracer.modules.values()]
    hyper = [(o, _hyperparameters(o)) for o in traced]
    return modules, hyper, held, arg_grads_none


_MISSING = object()


def _guard_function(modules, hyper, held, arg_grads_none):
    """(a function of no arguments that is True while every guard holds,
    ``arg_grads_none``). The checks are written out as straight Python over
    the objects they read, as the replay is: looping over closures and
    rebuilding each optimizer's hyperparameter tuples took about 6 us a call,
    4% of a SimpleNet step at batch 16. Each check is the one ``_guards``
    describes: a module's flag is the same object, each hyperparameter of each
    group is the same or equal (the same keys, in any order), and each state
    array is the same object."""
    objects, lines = {"_MISSING": _MISSING}, ["def guards_hold():"]

    def name(obj):
        objects[f"o{len(objects)}"] = obj
        return f"o{len(objects) - 1}"

    for m, training in modules:
        lines.append(f"    if {name(m)}.training is not {name(training)}: return False")
    for o, groups in hyper:
        lines += [f"    groups = {name(o)}.param_groups",
                  f"    if len(groups) != {len(groups)}: return False"]
        for i, items in enumerate(groups):
            lines += [f"    group = groups[{i}]",
                      f"    if len(group) != {len(items) + 1} or 'params' not in group: return False"]
            for key, value in items:
                lines += [f"    value = group.get({name(key)}, _MISSING)",
                          f"    if value is _MISSING: return False",  # (a value's own == never sees it)
                          f"    if value is not {name(value)} and not value == {name(value)}: return False"]
    for spec, x in held:
        if spec[0] == "attr":
            now = f"getattr({name(spec[1])}, {spec[2]!r}, None)"
        elif spec[0] == "grad":
            lines.append(f"    grad = {name(spec[1])}.grad")
            now = "(None if grad is None else grad._data)"
        else:
            now = f"{name(spec[1])}.get({name(spec[2])})"
        lines.append(f"    if {now} is not {name(x)}: return False")
    lines.append("    return True")
    code = builtins.compile("\n".join(lines), "<tinygrad_bn compiled step guards>", "exec")  # (compile is ours here)
    exec(code, objects)  # noqa: S102  (our own generated source)
    return objects["guards_hold"], arg_grads_none


def _tensors_in(out):
    """The tensors in a step's result (tuples, lists and dicts of them)."""
    if isinstance(out, TensorBase):
        yield out
    elif type(out) in (tuple, list):
        for o in out:
            yield from _tensors_in(o)
    elif type(out) is dict:
        for o in out.values():
            yield from _tensors_in(o)


def _with_history(out):
    """Whether the step's result holds a tensor that requires grad (has history)."""
    return any(t.requires_grad for t in _tensors_in(out))


def _not_replayable(tracer, out=None):
    """Why replay would not be the eager step (hooks it would skip), or ''."""
    if not tracer.backward_ran and _with_history(out):
        return ("the step returns a tensor with history and runs no backward: a replay returns tensors without "
                "history, so a backward outside would not reach the parameters. Compile the whole training step "
                "(forward, backward and update), or a forward under tg.no_grad() for inference")
    for m in tracer.modules.values():
        d = m.__dict__
        if any(d.get(n) for n in ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks")):
            return (f"{type(m).__name__} has forward or backward hooks (Python that replay would not run); "
                    "remove them from modules the step calls")
    for t in tracer.leaves.values():
        if t._hooks:
            return (f"a tensor of shape {tuple(t.shape)} that the step uses has hooks (register_hook: Python that "
                    "replay would not run)")
    return ""


def _hyperparameters(optimizer):
    return [tuple((k, v) for k, v in g.items() if k != "params") for g in optimizer.param_groups]


