"""Host linear algebra for weight initialisation: the orthogonal matrix of
``nn.init.orthogonal_``. A host algorithm, as ``multinomial`` is: the normal
draws come from the device's generator (or the given one), the QR factorisation
is NumPy's (LAPACK) in float64, and the result goes back to the device."""
import numpy as np

from .random import stream


def random_orthogonal(backend, rows, cols, dtype, device, generator=None, who="orthogonal_"):
    """A (rows, cols) matrix with orthonormal rows (rows <= cols) or columns
    (rows >= cols), as PyTorch's ``orthogonal_`` makes it: the Q of the QR of a
    standard normal matrix (transposed when rows < cols), each column multiplied
    by the sign of R's diagonal so that Q is uniformly (Haar) distributed.
    Drawn in ``dtype`` from the device's generator; returned as a ``backend``
    array of ``dtype``."""
    if generator is None:
        draws = backend.randn((rows, cols), dtype)
    else:
        draws = backend.asarray(stream(who, generator, device).standard_normal((rows, cols)), dtype)
    a = backend.to_numpy(draws).astype(np.float64)
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    signs = np.sign(np.diag(r))
    q *= np.where(signs == 0, 1.0, signs)  # a zero on R's diagonal (probability 0) keeps its column
    if rows < cols:
        q = q.T
    return backend.asarray(np.ascontiguousarray(q), dtype)
