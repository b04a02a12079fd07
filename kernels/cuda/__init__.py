"""CUDA kernels written with ``numba.cuda``: batch, layer and group
normalization, forward and backward, float32 and float64, and the array
summary of the Tape. They run on an NVIDIA GPU over CuPy arrays, or in Numba's
CUDA simulator over NumPy arrays (``NUMBA_ENABLE_CUDASIM=1``).
``python -m kernels.cuda.compile_check`` compiles every one for sm_80 and
sm_90 without a GPU. The twin of ``kernels.cpu``: same protocol
(``kernels/protocol.py``), same argument checks (``kernels/checks.py``)."""

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

KERNEL_MODULES = {"batch_norm": "kernels.cuda.batchnorm", "layer_norm": "kernels.cuda.layernorm",
                  "group_norm": "kernels.cuda.groupnorm"}
