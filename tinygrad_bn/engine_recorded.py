"""What a ``create_graph=True`` walk needs beyond the plain one: ``recording``
lifts a backend to the recording backend over it (``same`` leaves it, for a plain
walk), and ``recorded_backward`` runs a backward so that the entries it records
know which backward made them."""
from . import observers


def same(be):
    return be


def recording(be):
    """The recording backend over ``be`` (recording_backend is imported on use: it
    imports the ops)."""
    from .recording_backend import recording as over
    return over(be)


def recorded_backward(entry, ctx, grads):
    """A backward run on the recording backend; the entries it records know
    which backward made them (the Tape shows it)."""
    outer = observers.making.backward_of
    observers.making.backward_of = entry
    try:
        return entry.fn.backward(ctx, *grads)
    finally:
        observers.making.backward_of = outer
