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

# The kernel protocol (kernels/protocol.py), as this package's names.
from .batchnorm import backward as batch_norm_backward  # noqa: E402
from .batchnorm import forward_eval as batch_norm_eval  # noqa: E402
from .batchnorm import forward_train as batch_norm_train  # noqa: E402
from .groupnorm import backward as group_norm_backward  # noqa: E402
from .groupnorm import forward as group_norm  # noqa: E402
from .layernorm import backward as layer_norm_backward  # noqa: E402
from .layernorm import forward as layer_norm  # noqa: E402
from .pool import empty_cache  # noqa: E402
from .stats import summarize  # noqa: E402

KERNEL_MODULES = {"batch_norm": "kernels.cpu.batchnorm", "layer_norm": "kernels.cpu.layernorm",
                  "group_norm": "kernels.cpu.groupnorm"}
