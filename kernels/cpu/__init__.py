"""CPU kernels compiled with Numba.

Thread pools: NumPy's OpenBLAS (matmul) and Numba's OpenMP pool (these kernels)
take turns in a training step. GNU OpenMP's threads spin for a while after each
parallel region by default, taking the cores OpenBLAS then needs: on 2 cores a
SimpleNetBN step at batch 256 took 8 ms instead of 2. So, unless the user set
a wait policy, OpenMP threads here sleep at once when idle
(``OMP_WAIT_POLICY=PASSIVE``). This must happen before the OpenMP runtime
starts, which is at the first parallel kernel; setting it on import of this
package does that.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Ctrl-C is held while the kernels import and during every kernel call
# (kernels/interrupts.py).
from .. import interrupts  # noqa: E402

with interrupts.interrupts_held():
    from . import batchnorm, batchrenorm, crossentropy, double_backward, groupnorm, layernorm, pool, rmsnorm, stats  # noqa: F401

# The kernel protocol (kernels/protocol.py), as this package's names.
batch_norm_backward = interrupts.holds_interrupts(batchnorm.backward)
batch_norm_eval = interrupts.holds_interrupts(batchnorm.forward_eval)
batch_norm_train = interrupts.holds_interrupts(batchnorm.forward_train)
batch_renorm_backward = interrupts.holds_interrupts(batchrenorm.backward)
batch_renorm_train = interrupts.holds_interrupts(batchrenorm.forward_train)
group_norm_backward = interrupts.holds_interrupts(groupnorm.backward)
group_norm = interrupts.holds_interrupts(groupnorm.forward)
layer_norm_backward = interrupts.holds_interrupts(layernorm.backward)
layer_norm = interrupts.holds_interrupts(layernorm.forward)
rms_norm_backward = interrupts.holds_interrupts(rmsnorm.backward)
rms_norm = interrupts.holds_interrupts(rmsnorm.forward)
empty_cache = pool.empty_cache
summarize = interrupts.holds_interrupts(stats.summarize)

# Beyond the protocol, CPU only: the fused norm double backward (kernels/cpu/double_backward.py;
# elsewhere ops/norm_grad.py's composite form runs).
batch_norm_double_backward = interrupts.holds_interrupts(double_backward.batch_norm_double_backward)
layer_norm_double_backward = interrupts.holds_interrupts(double_backward.layer_norm_double_backward)
# ... and cross entropy's forward and backward in one pass each (kernels/cpu/crossentropy.py;
# elsewhere ops/loss.py composes them from the backend's ops).
cross_entropy = interrupts.holds_interrupts(crossentropy.cross_entropy)
cross_entropy_backward = interrupts.holds_interrupts(crossentropy.cross_entropy_backward)

KERNEL_MODULES = {"batch_norm": "kernels.cpu.batchnorm", "layer_norm": "kernels.cpu.layernorm",
                  "group_norm": "kernels.cpu.groupnorm", "rms_norm": "kernels.cpu.rmsnorm",
                  "batch_renorm": "kernels.cpu.batchrenorm"}
