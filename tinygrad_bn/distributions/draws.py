"""Host draws the distributions need and the tensor ops do not give: standard
gamma variates (``Gamma``, ``Chi2``, ``Beta``, ``Dirichlet``, ``StudentT``) and
binomial counts (``Binomial``). As ``tinygrad_bn.sampling.poisson``, they read
the parameters from the device and draw with the device's generator (the one
``manual_seed`` seeds), so draws are reproducible; the results carry no
gradient. The generator's ``standard_gamma`` is Marsaglia and Tsang's method
(boosted by u^(1/alpha) below alpha = 1)."""
import numpy as np

from ..random import stream
from ..tensor_base import array_of, backend_of, make_tensor


def standard_gamma(who, concentration):
    """Gamma(concentration, 1) draws of ``concentration``'s shape, dtype and device,
    clamped below at the dtype's smallest normal number (as PyTorch's) so a draw
    for a tiny concentration is never 0."""
    be = backend_of(concentration)
    rng = stream(who, None, concentration.device)
    alpha = be.cast(be.ascontiguous(array_of(concentration)), "float64")
    draws = rng.standard_gamma(alpha)
    draws = be.asarray(draws, "float64")
    tiny = float(np.finfo(concentration.dtype).tiny)
    return make_tensor(be.cast(be.maximum(draws, tiny), concentration.dtype), be)


def binomial(who, total_count, probs):
    """Binomial(total_count, probs) counts (whole numbers held in ``probs``' dtype) of
    their common shape (both are expanded to it already)."""
    be = backend_of(probs)
    rng = stream(who, None, probs.device)
    n = be.cast(be.ascontiguous(array_of(total_count)), "int64")
    p = be.cast(be.ascontiguous(array_of(probs)), "float64")
    return make_tensor(be.cast(be.asarray(rng.binomial(n, p)), probs.dtype), be)
