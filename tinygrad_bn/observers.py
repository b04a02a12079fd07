"""Observers of the engine: how inspection (the Tape, anomaly mode) watches ops
without the engine knowing about it.

An observer has ``on_forward(entry, args, outputs, seconds)``, called right after
an op is recorded, and ``on_backward(entry, grads_out, grads_in, seconds)``,
called right after the entry's backward ran. ``active`` holds the observers
that see every op now; ``entry.watchers`` holds callables with the
``on_backward`` signature that stay with one entry (a Tape's record keeps
collecting gradients after its block closed). Both are empty in the common case,
so recording costs one truth test.
"""

active: list = []


def attach(observer) -> None:
    active.append(observer)


def detach(observer) -> None:
    active.remove(observer)
