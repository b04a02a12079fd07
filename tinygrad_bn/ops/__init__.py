"""Ops: one ``Function`` per op, forward and backward side by side.

Each op works on raw arrays through ``ctx.backend`` and saves only what its
backward needs. Tensor methods (``tinygrad_bn.tensor``) are thin wrappers over these.
PyTorch's default arguments live on the Tensor methods, which pass every
argument on; an op function here that took defaults too would hold a second
copy that nothing reads.
"""
