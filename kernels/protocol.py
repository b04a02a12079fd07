"""The kernel protocol: what ``kernels/cpu`` and ``kernels/cuda`` both provide.

Each kernel package exports these names at its top level (``kernels.cpu.layer_norm``,
``kernels.cuda.layer_norm``), with the same signatures, the same argument
checks and the same numerics: twins. A backend holds one package as its
``kernels`` and ops call ``ctx.backend.kernels.<name>(...)``; nothing else in
the framework calls a kernel.

Arrays are the device's own (NumPy on the CPU, CuPy on a GPU, NumPy under
Numba's CUDA simulator). Statistics (mean, var, invstd, rstd) and the parameter
gradients are float64; x, y, dy and dx share x's dtype (float32 or float64).
``weight`` and ``bias`` may be None (no affine). No entry point waits for the
device except ``summarize``, which returns Python numbers.
"""
from typing import Protocol


class NormKernels(Protocol):
    KERNEL_MODULES: dict  # op -> module that holds its kernels, for the tape ("batch_norm": "kernels.cpu.batchnorm")

    # batch norm: x (N, C, *), statistics per channel C
    def batch_norm_train(x, weight, bias, eps): """(y, mean, biased var, invstd) with the batch's statistics."""
    def batch_norm_eval(x, weight, bias, running_mean, running_var, eps): """(y, invstd) with the running statistics."""
    def batch_norm_backward(x, dy, mean, invstd, weight, training): """(dx, dweight, dbias); training=False: the
        statistics were the running ones, constants, so dx = weight * invstd * dy."""

    # batch renorm (Ioffe 2017): training only (eval is batch_norm_eval); r, d per channel, constants in backward
    def batch_renorm_train(x, weight, bias, running_mean, running_var, eps, r_max, d_max): """(y, mean, biased var,
        invstd, r, d), y = (x_hat * r + d) * weight + bias with r = clip(sigma_B / sigma, 1 / r_max, r_max) and
        d = clip((mean - running_mean) / sigma, -d_max, d_max), sigma = sqrt(running_var + eps)."""
    def batch_renorm_backward(x, dy, mean, invstd, r, d, weight): """(dx, dweight, dbias) with r, d constant:
        batch norm's training backward with weight * r, dweight = r * sum(dy * x_hat) + d * sum(dy)."""

    # layer norm: statistics per row over the last normalized_ndim dims of x
    def layer_norm(x, weight, bias, eps, normalized_ndim): """(y, mean, invstd), statistics shaped like x's leading dims."""
    def layer_norm_backward(x, dy, mean, invstd, weight, normalized_ndim): """(dx, dweight, dbias), the parameter
        gradients shaped like the normalized dims."""

    # RMS norm: y = x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + eps) per row over the last normalized_ndim dims
    def rms_norm(x, weight, eps, normalized_ndim): """(y, rstd), rstd (float64) shaped like x's leading dims."""
    def rms_norm_backward(x, dy, rstd, weight, normalized_ndim): """(dx, dweight), dweight shaped like the
        normalized dims."""

    # group norm: x (N, C, *), statistics per sample and group of C / num_groups channels
    def group_norm(x, num_groups, weight, bias, eps): """(y, mean, invstd), statistics of shape (N, num_groups)."""
    def group_norm_backward(x, dy, num_groups, mean, invstd, weight): """(dx, dweight, dbias), per channel."""

    # inspection and memory
    def summarize(x): """(finite count, sum, sum of squares, max |x| over the finite values, NaN count, Inf
        count) of any array, as Python numbers (sums in float64; zeros for an empty or non-float array)."""
    def empty_cache(): """Give the memory the kernels keep for reuse back to its allocator."""


# Beyond the protocol, ``kernels.cpu`` alone has these: the fused norm double
# backward (kernels/cpu/double_backward.py) and cross entropy's forward and
# backward (kernels/cpu/crossentropy.py). An op asks whether its device's
# package has one and runs the composed form (ops/norm_grad.py, ops/loss.py)
# where it does not.
OPTIONAL_NAMES = ("batch_norm_double_backward", "layer_norm_double_backward", "cross_entropy",
                  "cross_entropy_backward")

NAMES = tuple(n for n in NormKernels.__dict__ if not n.startswith("_")) + tuple(NormKernels.__annotations__)
