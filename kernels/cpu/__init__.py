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
