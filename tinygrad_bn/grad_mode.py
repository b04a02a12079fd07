"""Grad mode: whether ops record on the tape. ``no_grad``, ``enable_grad`` and
``set_grad_enabled`` are context managers and decorators, as in PyTorch."""
import functools


class GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    return GradMode.enabled


class ContextDecorator:
    """A context manager that also decorates functions: ``_enter`` returns the
    state to restore, ``_exit(state)`` restores it; ``_args`` rebuilds self for
    each decorated call."""

    _args = ()

    def _enter(self):
        raise NotImplementedError

    def _exit(self, previous):
        raise NotImplementedError

    def __enter__(self):
        self._previous = self._enter()
        return self

    def __exit__(self, *exc):
        self._exit(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(*self._args):
                return fn(*args, **kwargs)

        return wrapper


class set_grad_enabled(ContextDecorator):
    """Turn recording on or off inside the block (or the decorated function)."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._args = (self.mode,)

    def _enter(self):
        previous, GradMode.enabled = GradMode.enabled, self.mode
        return previous

    def _exit(self, previous):
        GradMode.enabled = previous


class no_grad(set_grad_enabled):
    """Ops inside record nothing on the tape (use for evaluation and updates)."""

    def __init__(self):
        super().__init__(False)
        self._args = ()


class enable_grad(set_grad_enabled):
    """Turn recording back on inside a ``no_grad`` region."""

    def __init__(self):
        super().__init__(True)
        self._args = ()
