"""Grad mode: whether ops record on the tape. ``no_grad``, ``enable_grad`` and
``set_grad_enabled`` are context managers and decorators, as in PyTorch, and
``set_grad_enabled(mode)`` called on its own sets the mode. The mode is per
thread, as in PyTorch: an evaluation thread under ``no_grad`` leaves a training
thread recording, and every new thread starts with recording on."""
import functools
import threading

from kernels.interrupts import hold_interrupts_in, raise_held_interrupt


class _GradMode(threading.local):
    enabled = True  # the class default: what each new thread starts with


GradMode = _GradMode()


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
        raise_held_interrupt()  # a Ctrl-C that came while the mode switched back (see the end of this file)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(*self._args):
                return fn(*args, **kwargs)

        return wrapper


class _GradModeSwitch(ContextDecorator):
    """Sets grad mode to ``mode`` on entering; puts the previous mode back on exit."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._args = (self.mode,)

    def _enter(self):
        previous, GradMode.enabled = GradMode.enabled, self.mode
        return previous

    def _exit(self, previous):
        GradMode.enabled = previous


class set_grad_enabled(_GradModeSwitch):
    """Turn recording on or off: at once when called (``set_grad_enabled(False)``
    on a line of its own, as in PyTorch), until the end of the block when used
    as ``with set_grad_enabled(mode):``, or inside a decorated function."""

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__} {mode!r}")
        super().__init__(mode)
        self._before_call = GradMode.enabled
        GradMode.enabled = self.mode

    def __enter__(self):
        self._previous = self._before_call  # the mode is set already
        return self

    def __call__(self, fn):
        GradMode.enabled = self._before_call  # as a decorator it changes nothing until fn runs
        return super().__call__(fn)


class no_grad(_GradModeSwitch):
    """Ops inside record nothing on the tape (use for evaluation and updates)."""

    def __init__(self):
        super().__init__(False)
        self._args = ()


class enable_grad(_GradModeSwitch):
    """Turn recording back on inside a ``no_grad`` region."""

    def __init__(self):
        super().__init__(True)
        self._args = ()


class _InferenceMode(threading.local):
    enabled = False


InferenceMode = _InferenceMode()


def is_inference_mode_enabled() -> bool:
    return InferenceMode.enabled


class inference_mode(ContextDecorator):
    """``torch.inference_mode``: no recording inside (as ``no_grad``) when ``mode`` is True,
    and recording on when it is False, as PyTorch's (``inference_mode(False)`` inside
    ``no_grad`` or ``inference_mode()`` records again until the block ends).
    PyTorch also marks the tensors made inside as inference tensors, which may not
    enter autograd later; here they are ordinary tensors that do not require grad."""

    def __init__(self, mode=True):
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode: mode must be a bool, got {type(mode).__name__} {mode!r}")
        self.mode = mode
        self._args = (mode,)

    def _enter(self):
        previous = GradMode.enabled, InferenceMode.enabled
        GradMode.enabled = not self.mode  # PyTorch's InferenceMode guard sets grad mode to !mode
        InferenceMode.enabled = self.mode
        return previous

    def _exit(self, previous):
        GradMode.enabled, InferenceMode.enabled = previous


# Ctrl-C may not land between a mode switch and the attribute that remembers the old
# mode, nor at the start of an __exit__ before it restores it: either would leave the
# mode switched for the rest of the process (a training loop catching KeyboardInterrupt
# then records nothing). A SIGINT there waits and is raised at the end of the __exit__.
hold_interrupts_in(ContextDecorator.__enter__, ContextDecorator.__exit__, _GradModeSwitch._enter,
                   _GradModeSwitch._exit, set_grad_enabled.__enter__, inference_mode._enter, inference_mode._exit)
