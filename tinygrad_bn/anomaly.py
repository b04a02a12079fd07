"""Anomaly mode: stop at the first op whose output or gradient is not finite.

    with tinygrad_bn.detect_anomaly():
        loss = model(x).log().mean()   # raises here if log() produced -inf
        loss.backward()                # or here, naming the op whose gradient went bad

Each op records the Python line that created it while the mode is on, so a
backward error can point at the forward code. Checking costs one pass over
every output and gradient: use it to debug, not to train.
"""
from . import autograd


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
        if g is None or not hasattr(g, "shape"):
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


class detect_anomaly:
    """Context manager (and decorator) turning anomaly checks on."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = autograd._anomaly["on"]
        autograd._anomaly["on"] = self.check_nan
        return self

    def __exit__(self, *exc):
        autograd._anomaly["on"] = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper
