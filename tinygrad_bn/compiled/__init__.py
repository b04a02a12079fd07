"""``tg.compile``: a training step traced once and replayed without Python dispatch.

    @tg.compile
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

The name is PyTorch's (``torch.compile`` wraps a function the same way) and the
contract is ``jax.jit``'s: a new shape, dtype, device or grad mode traces again.
``tracing`` records what a step asks of its devices, ``program`` turns a trace
into a program, ``replay`` into the function that replays it (with ``fusion``'s
Numba functions for runs of elementwise calls), ``step`` decides when to trace
and when to replay.
"""
from .program import Program
from .replay import ReplayMismatch
from .step import CompiledStep, CompileError, compile

__all__ = ["CompileError", "CompiledStep", "Program", "ReplayMismatch", "compile"]
