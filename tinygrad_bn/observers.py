"""Observers of the engine: how inspection (the Tape, anomaly mode) watches ops
without the engine knowing about it.

An observer has ``on_forward(entry, args, outputs, seconds)``, called right after
an op is recorded, and ``on_backward(entry, grads_out, grads_in, seconds)``,
called right after the entry's backward ran. ``active`` holds the observers
that see every op now; ``entry.watchers`` holds callables with the
``on_backward`` signature that stay with one entry (a Tape's record keeps
collecting gradients after its block closed). Both are empty in the common case,
so recording costs one truth test.

``making.backward_of`` is the entry whose backward is running as recorded ops
(a ``create_graph`` pass), or None: what it records was made by that backward,
and an observer may say so.
"""
import threading

active: list = []


class _Making(threading.local):
    backward_of = None  # per thread: each thread walks its own graph


making = _Making()


def attach(observer) -> None:
    active.append(observer)


def detach(observer) -> None:
    active.remove(observer)
