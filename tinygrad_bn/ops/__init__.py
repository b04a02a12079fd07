"""Ops: one ``Function`` per op, forward and backward side by side.

Each op works on raw arrays through ``ctx.backend`` and saves only what its
backward needs. Tensor methods (``tinygrad_bn.tensor``) are thin wrappers over these.
"""
