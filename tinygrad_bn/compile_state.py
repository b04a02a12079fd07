"""Which compile tracer records on this thread, if any: the one thing the
tensor, the optimizers and the modules ask of ``tg.compile`` (a low-floor
module, so that they import it without importing the compiler)."""
import threading


class _Current(threading.local):
    tracer = None


_current = _Current()


def current():
    """The ``compiled.tracing.Tracer`` recording on this thread, or None (the common case)."""
    return _current.tracer


def set_current(tracer):
    _current.tracer = tracer
