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
_held = False    # a SIGINT arrived during one


def _default_int_handler_between_kernels(signum, frame):
    """``signal.default_int_handler``, except that inside a kernel call it waits."""
    global _held
    if _depth:
        _held = True
        return
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
    global _depth, _held
    _depth -= 1
    if _held and not _depth:
        _held = False
        if _signal.getsignal(_SIGINT) is _default_int_handler_between_kernels:
            raise KeyboardInterrupt


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
