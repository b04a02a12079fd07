"""CUDA kernels written with ``numba.cuda``: batch, layer, group and RMS
normalization, batch renormalization, forward and backward, float32 and float64, and the array
summary of the Tape. They run on an NVIDIA GPU over CuPy arrays, or in Numba's
CUDA simulator over NumPy arrays (``NUMBA_ENABLE_CUDASIM=1``).
``python -m kernels.cuda.compile_check`` compiles every one for sm_80 and
sm_90 without a GPU. The twin of ``kernels.cpu``: same protocol
(``kernels/protocol.py``), same argument checks (``kernels/checks.py``)."""

# Ctrl-C is held while the kernels import and during every kernel call
# (kernels/interrupts.py).
from .. import interrupts

with interrupts.interrupts_held():
    from . import batchnorm, batchrenorm, groupnorm, layernorm, pool, rmsnorm, stats

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

KERNEL_MODULES = {"batch_norm": "kernels.cuda.batchnorm", "layer_norm": "kernels.cuda.layernorm",
                  "group_norm": "kernels.cuda.groupnorm", "rms_norm": "kernels.cuda.rmsnorm",
                  "batch_renorm": "kernels.cuda.batchrenorm"}
