"""Recording what a step asks of its devices: every backend call, in order.

While a ``Tracer`` is active, each registered backend's contract names and its
kernels are wrapped (on the instance, so tensors that already hold the backend
see the wrappers), and every outermost call the tracing thread makes is kept as
a ``Call``: the function, its arguments and its result, and the line of user
code that led to it. Calls a contract name makes to other names of the same
backend (``copy`` calls ``full`` and ``setitem``) are inside it: only the
outermost one is recorded, so replay calls each function once.

``current()`` is what the rest of the package asks: ``Optimizer.step`` hands
itself to the active tracer, which decides whether the update is traced or
kept as one host call; the observers hook (``observers.py``) tells it which
modules ran and which leaves took part.
"""
from __future__ import annotations

import os
import sys
import threading

import numpy as np

from .. import attribution, backends, observers
from ..backends import CONTRACT
from ..compile_state import current, set_current

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NOT_RECORDED = frozenset({"synchronize", "summarize", "empty_cache", "finite_stats"})
"""Calls that only inspection makes (the Tape times ops, summarises values):
they change nothing a step computes."""


class Call:
    """One recorded backend call."""

    __slots__ = ("args", "boxed", "fn", "kwargs", "line", "name", "region", "result")

    def __init__(self, name, fn, args, kwargs, result, line, region, boxed=False):
        self.name, self.fn, self.args, self.kwargs = name, fn, args, kwargs
        self.result, self.line, self.region, self.boxed = result, line, region, boxed


class HostStep:
    """An optimizer step kept as a Python call (its update is not traced)."""

    __slots__ = ("line", "optimizer", "region")

    def __init__(self, optimizer, line):
        self.optimizer, self.line, self.region = optimizer, line, None


class Bump:
    """A tensor's version counter raised by an in-place write (Python: replay repeats it)."""

    __slots__ = ("line", "region", "tensor")

    def __init__(self, tensor, region):
        self.tensor, self.line, self.region = tensor, None, region


class ClearGrads:
    """``zero_grad()`` (set to None) of these tensors: Python, so replay repeats it."""

    __slots__ = ("line", "region", "tensors")

    def __init__(self, tensors, line):
        self.tensors, self.line, self.region = tensors, line, None


class GradSync:
    """Where the step's leaves' ``.grad`` stood at this point of the trace:
    ``states`` maps each leaf to None (no grad), its grad's array (made by a
    recorded call, or kept from before the step)."""

    __slots__ = ("line", "region", "states")

    def __init__(self, states):
        self.states, self.line, self.region = states, None, None


def user_line():
    """``file:line`` of the innermost frame outside tinygrad_bn: the line of the
    user's step that led to a call."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        f = f.f_back
    return "<unknown>" if f is None else f"{f.f_code.co_filename}:{f.f_lineno}"


class Tracer:
    """Records one eager run of a step. Use as a context manager around the run;
    ``host_optimizers``: ids of optimizers whose ``step`` is kept as a host call."""

    def __init__(self, host_optimizers=()):
        self.events = []  # Call, HostStep and GradSync, in order
        self.leaves = {}  # id -> leaf tensor that took part (an op's input, or an optimizer's parameter)
        self.born = set()  # ids of the tensors made while tracing (tensor_base notes them)
        self.modules = {}  # id -> module whose forward ran
        self.optimizers = {}  # id -> optimizer whose step ran
        self.host_optimizers = set(host_optimizers)
        self.backward_ran = False  # a step that returns outputs with history must have used them
        self.python_state = set()  # ids of optimizers whose step changed a Python number in their state
        self._thread = threading.get_ident()
        self._depth = 0
        self._region = None
        self._patched = []  # (backend, name, previous instance value or _ABSENT)

    # ---------------------------------------------------------------- recording
    def _wrap(self, name, fn):
        def recorded(*args, **kwargs):
            if self._depth or threading.get_ident() != self._thread:
                return fn(*args, **kwargs)
            self._depth += 1
            try:
                result = fn(*args, **kwargs)
            finally:
                self._depth -= 1
            boxed = type(result) is np.bool_
            if boxed:
                # NumPy's two bool scalars are singletons: two results would be one object, and the
                # program names values by object. A 0-d array computes the same; replay boxes it too
                result = np.asarray(result)
            self.events.append(Call(name, fn, args, kwargs, result, user_line(), self._region, boxed))
            return result
        return recorded

    def __enter__(self):
        if current() is not None:
            raise RuntimeError("compile: a compiled step was called while another step is being traced; "
                               "compiled steps do not nest (call the inner one's function directly)")
        for backend in backends._BACKENDS.values():
            self._instrument(backend)
        observers.attach(self)
        set_current(self)
        return self

    def __exit__(self, *exc):
        set_current(None)
        observers.detach(self)
        for backend, name, previous in reversed(self._patched):
            if previous is _ABSENT:
                del vars(backend)[name]
            else:
                vars(backend)[name] = previous
        self._patched.clear()
        return False

    def _instrument(self, backend):
        for name in CONTRACT:
            fn = getattr(backend, name, None)
            if name in _NOT_RECORDED or not callable(fn) or isinstance(fn, type):
                continue
            self._patched.append((backend, name, vars(backend).get(name, _ABSENT)))
            vars(backend)[name] = self._wrap(name, fn)
        kernels = backend.kernels
        self._patched.append((backend, "kernels", vars(backend).get("kernels", _ABSENT)))
        vars(backend)["kernels"] = _RecordedKernels(kernels, self)

    # ------------------------------------------------------------- observers
    def on_forward(self, entry, args, outputs, seconds):
        for m in attribution.stack:
            self.modules[id(m)] = m
        for a in args:
            if getattr(a, "requires_grad", False) and a._entry is None:
                self.leaves[id(a)] = a

    def on_backward(self, entry, grads_out, grads_in, seconds):
        self.backward_ran = True

    # -------------------------------------------------------------- optimizers
    def optimizer_step(self, optimizer, closure, run_step):
        """``optimizer.step(closure)`` inside the traced step: traced as the calls
        it makes, or kept as one host call when its update cannot be (see step.py)."""
        if closure is not None:
            raise RuntimeError(f"compile: {type(optimizer).__name__}.step(closure) inside a compiled step "
                               "(a closure re-runs the forward pass the trace already holds); call "
                               "step() without a closure, with the forward and backward in the compiled function")
        self.optimizers[id(optimizer)] = optimizer
        for group in optimizer.param_groups:
            for p in group["params"]:
                self.leaves[id(p)] = p
        if id(optimizer) in self.host_optimizers or optimizer_has_hooks(optimizer):
            self.sync_grads()
            self.events.append(HostStep(optimizer, user_line()))
            self._depth += 1
            try:
                return run_step(None)
            finally:
                self._depth -= 1
        before = _python_state(optimizer)
        self._region, previous = optimizer, self._region
        try:
            return run_step(None)
        finally:
            self._region = previous
            if _python_state(optimizer) != before:
                self.python_state.add(id(optimizer))

    def bumped(self, tensor):
        """``write_in_place`` raised ``tensor``'s version: replay raises it too (but
        not for a write inside a host optimizer step: replay runs that step, which
        raises its own versions)."""
        if not self._depth:
            self.events.append(Bump(tensor, self._region))

    def cleared(self, tensors):
        """``zero_grad()`` set these tensors' ``.grad`` to None."""
        tensors = list(tensors)
        for t in tensors:
            self.leaves[id(t)] = t
        self.events.append(ClearGrads(tensors, user_line()))

    def sync_grads(self):
        """Note where every known leaf's ``.grad`` stands (replay sets it there)."""
        self.events.append(GradSync({id(t): (t, None if t.grad is None else t.grad._data)
                                     for t in self.leaves.values()}))


def _python_state(optimizer):
    """The numbers (not arrays) an optimizer keeps per parameter: replay does not
    update them, so an optimizer whose step changes them is not traced."""
    return {(id(p), k): v for p, st in optimizer.state.items() for k, v in st.items()
            if isinstance(v, (bool, int, float))}


def optimizer_has_hooks(optimizer):
    from ..optim.optimizer import _global_step_post_hooks, _global_step_pre_hooks
    return bool(optimizer._step_pre_hooks or optimizer._step_post_hooks or _global_step_pre_hooks
                or _global_step_post_hooks)


class _RecordedKernels:
    """A device's kernel package with its entry points recorded: the protocol's and
    any beyond it (the CPU's fused norm double backward), or their results would
    enter the trace as arrays from nowhere. Each is wrapped at its first use."""

    def __init__(self, kernels, tracer):
        self._kernels = kernels
        self._tracer = tracer

    def __getattr__(self, name):
        fn = getattr(self._kernels, name)
        if callable(fn) and not isinstance(fn, type) and not name.startswith("_") and name not in _NOT_RECORDED:
            fn = self._tracer._wrap(f"kernels.{name}", fn)
            setattr(self, name, fn)
        return fn


_ABSENT = object()
