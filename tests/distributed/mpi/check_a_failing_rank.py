"""Run under mpiexec -n 2: rank 1 raises while rank 0 waits in a collective.
The job must end (aborted), not hang, and say which rank failed."""
import numpy as np

import tinygrad_bn.distributed as dist

rank = dist.init()
if rank == 1:
    raise RuntimeError("planted failure on rank 1")
dist.all_reduce(np.ones(3))  # rank 1 never joins: without the abort this would wait forever
print("rank 0 passed the all-reduce: the job did not abort")
