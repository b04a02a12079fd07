"""Ctrl-C lands between kernel calls, never inside one.

Python runs a SIGINT handler at the next bytecode of the main thread, and a
Numba kernel runs bytecode of Numba's in the middle of a call: when it
compiles or loads from its on-disk cache, and at every return of an array
(the dtype is unpickled by a Python function). A KeyboardInterrupt raised there
leaves Numba half-done: "returned a result with an exception set"
(SystemError) from the kernel, typing registries half-refreshed (every later
kernel then fails with "generator raised StopIteration"), or a segfault in
LLVM's object-cache callback. A training loop that catches KeyboardInterrupt
and carries on met all three.

So the kernel packages' entry points hold Ctrl-C as PyTorch's operators do:
while a kernel call (or the import of a kernel package) runs in the main
thread, SIGINT only records that it came, and KeyboardInterrupt is raised when
the call has returned. This applies to Python's own handler
(``signal.default_int_handler``), which the first kernel call replaces with
one that behaves the same outside kernel calls; a handler of the user's own
is left in place and runs where Python runs it. Other threads never run
signal handlers.
"""
import _signal  # signal.getsignal wraps this in an enum lookup that costs 1.5 us a call
import contextlib
import functools
import signal
import threading

_SIGINT = int(signal.SIGINT)

_depth = 0       # kernel calls under way in the main thread
_held = False    # a SIGINT arrived during one, or in an atomic function
_ATOMIC = set()  # code objects of functions a SIGINT may not interrupt (hold_interrupts_in)


def _default_int_handler_between_kernels(signum, frame):
    """``signal.default_int_handler``, except that inside a kernel call, or while a
    function registered with ``hold_interrupts_in`` runs, it waits."""
    global _held
    if _depth or (frame is not None and frame.f_code in _ATOMIC):
        _held = True
        return
    raise KeyboardInterrupt


def hold_interrupts_in(*functions):
    """Make these small functions atomic with respect to Ctrl-C: a SIGINT that arrives
    while one runs (its first bytecode included) waits until ``raise_held_interrupt()``
    is called or a kernel call ends. For state switches whose undo must not be skipped
    (a grad-mode ``__exit__`` interrupted before it restores the mode would leave
    recording off for good)."""
    _ATOMIC.update(f.__code__ for f in functions)


def raise_held_interrupt():
    """Raise the KeyboardInterrupt a SIGINT left waiting, if one did and no kernel call is under way."""
    global _held
    if _held and not _depth:
        _held = False
        if _signal.getsignal(_SIGINT) is _default_int_handler_between_kernels:
            raise KeyboardInterrupt


def _enter():
    """Count a kernel call of the main thread (False elsewhere: nothing to hold)."""
    global _depth
    if threading.get_ident() != threading.main_thread().ident:
        return False
    if _signal.getsignal(_SIGINT) is signal.default_int_handler:
        _signal.signal(_SIGINT, _default_int_handler_between_kernels)
    _depth += 1
    return True


def _leave():
    """End a counted call; a SIGINT held during the outermost one is raised now."""
    global _depth
    _depth -= 1
    raise_held_interrupt()


@contextlib.contextmanager
def interrupts_held():
    """Run the block with Ctrl-C held (see the module docstring); nests."""
    counted = _enter()
    try:
        yield
    finally:
        if counted:
            _leave()


def holds_interrupts(entry):
    """A kernel entry point that runs with Ctrl-C held."""
    @functools.wraps(entry)
    def call(*args, **kwargs):
        if not _enter():
            return entry(*args, **kwargs)
        try:
            return entry(*args, **kwargs)
        finally:
            _leave()
    return call
