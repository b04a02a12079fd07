"""Anomaly mode: stop at the first op whose output or gradient is not finite.

    with tinygrad_bn.detect_anomaly():
        loss = model(x).log().mean()   # raises here if log() produced -inf
        loss.backward()                # or here, naming the op whose gradient went bad

Each op records the Python line that created it while the mode is on, so a
backward error can point at the forward code. Checking costs one pass over
every output and gradient: use it to debug, not to train.
"""
from . import attribution, observers
from .grad_mode import ContextDecorator


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared. ``op``, ``seq``, ``module``, ``origin`` (file, line,
    code) and ``phase`` ("forward" or "backward") say where."""

    def __init__(self, message, op, seq, module, origin, phase):
        super().__init__(message)
        self.op, self.seq, self.module, self.origin, self.phase = op, seq, module, origin, phase


def _where(entry):
    from .tape import _module_label

    module = _module_label(entry.module)
    origin = entry.origin
    text = f"{entry.name} (tape entry #{entry.seq}"
    if module:
        text += f", in module {module}"
    text += ")"
    if origin:
        text += f", created at {origin[0]}:{origin[1]}: {origin[2]}"
    return text, module, origin


def check_forward(entry, out):
    from .tape import user_frame

    entry.origin = user_frame()
    if entry.module is None:
        entry.module = attribution.current_module()
    nan, inf = entry.ctx.backend.finite_stats(out)
    if nan or inf:
        text, module, origin = _where(entry)
        raise AnomalyError(
            f"detect_anomaly: the forward output of {text} has {nan} NaN and {inf} Inf values "
            f"(shape {tuple(out.shape)}). Look at that op's inputs: log or division of zero, "
            "overflowing exp, a too large learning rate.",
            entry.name, entry.seq, module, origin, "forward")


def check_backward(entry, in_grads):
    be = entry.ctx.backend
    for i, g in enumerate(in_grads):
        if g is None:  # (the walk shows watchers arrays: a number returned by backward arrives as one)
            continue
        nan, inf = be.finite_stats(g)
        if nan or inf:
            text, module, origin = _where(entry)
            raise AnomalyError(
                f"detect_anomaly: the backward of {text} produced {nan} NaN and {inf} Inf values "
                f"in the gradient of its input {i} (shape {tuple(g.shape)}); the gradient reaching "
                "it was finite, so the problem is this op's derivative at these inputs "
                "(sqrt or log at 0, division by a tiny number).",
                entry.name, entry.seq, module, origin, "backward")


class _AnomalyObserver:
    """Checks every op's outputs as it is recorded and every gradient its backward returns."""

    def on_forward(self, entry, args, outputs, seconds):
        for out in outputs:
            check_forward(entry, out._data)

    def on_backward(self, entry, grads_out, grads_in, seconds):
        check_backward(entry, grads_in)


_observer = _AnomalyObserver()


def is_anomaly_enabled() -> bool:
    return _observer in observers.active


def _set(on):
    if on and not is_anomaly_enabled():
        observers.attach(_observer)
    elif not on and is_anomaly_enabled():
        observers.detach(_observer)


class detect_anomaly(ContextDecorator):
    """Context manager (and decorator) turning anomaly checks on (or, with
    ``check_nan=False``, off)."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self._args = (check_nan,)

    def _enter(self):
        previous = is_anomaly_enabled()
        _set(self.check_nan)
        return previous

    def _exit(self, previous):
        _set(previous)


class set_detect_anomaly(ContextDecorator):
    """``torch.autograd.set_detect_anomaly(mode)``: anomaly checks on or off at once when
    called, until the end of the block when used as ``with``, as PyTorch's."""

    def __init__(self, mode, check_nan=True):
        if not isinstance(mode, bool):
            raise TypeError(f"set_detect_anomaly: mode must be a bool, got {type(mode).__name__} {mode!r}")
        self._args = (mode, check_nan)
        self._before_call = is_anomaly_enabled()
        _set(mode and check_nan)

    def _enter(self):
        return self._before_call  # the mode is set already

    def _exit(self, previous):
        _set(previous)
