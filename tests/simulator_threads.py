"""Numba's CUDA simulator with its block threads kept between blocks.

The simulator runs each CUDA thread of a block as a Python thread and starts
new ones for every block of every launch: the CUDA tests started about 150,000
threads, and making and ending them was a quarter of the simulator's time
(most of its system time). ``pooled_block_threads`` makes each block take its
threads from a pool instead: a thread runs one simulated CUDA thread, then waits
for the next. What a kernel sees is the same: ``threading.current_thread()`` is
a ``BlockThread`` with its block and thread index, ``syncthreads`` and the
block-wide votes are BlockThread's own, a block's threads all run before the
next block starts, and an exception in any thread aborts the block and is
raised by the launch, naming the thread. How the threads interleave is the OS's
choice either way.
"""
import threading
import time

import numpy as np
from numba.cuda.simulator import kernel as simulated  # imported only where the simulator is on
from numba.cuda.simulator.kernelapi import Dim3


class PooledBlockThread(simulated.BlockThread):
    """A BlockThread that runs one simulated CUDA thread after another."""

    def __init__(self):
        threading.Thread.__init__(self, daemon=True)
        self.syncthreads_event = threading.Event()
        self._assigned = threading.Event()
        self.finished = True
        self.exception = None

    def assign(self, manager, block_idx, thread_idx, call):
        self._manager, self.debug = manager, manager._debug
        self.blockIdx, self.threadIdx = Dim3(*block_idx), Dim3(*thread_idx)
        block = Dim3(*manager._block_dim)
        self.thread_id = self.threadIdx.x + block.x * (self.threadIdx.y + block.y * self.threadIdx.z)
        self.syncthreads_blocked, self.abort, self.exception = False, False, None
        self.syncthreads_event.clear()
        self._call, self.finished = call, False
        self._assigned.set()
        if not self.is_alive():
            self.start()

    def run(self):
        while True:
            self._assigned.wait()
            self._assigned.clear()
            try:
                if self.debug:  # division by zero raises, in this call only: the thread runs other launches
                    with np.errstate(divide="raise"):
                        self._call()
                else:
                    self._call()
            except BaseException as e:  # the thread must outlive any error, to run the next block
                self.exception = (_named(e, self.threadIdx, self.blockIdx), e.__traceback__)
            finally:
                self._call = None  # no arrays of a finished launch kept alive
                self.finished = True


def _named(e, thread_idx, block_idx):
    """The error as BlockThread.run words it: the thread, the block, the message;
    the error itself where its class cannot be made from one string."""
    where = f"tid={list(thread_idx)} ctaid={list(block_idx)}"
    try:
        return type(e)(f"{where}: {e}" if str(e) else where)
    except Exception:
        return e


_POOL = []  # one set of threads for every launch of the process (the largest block's count)


def pooled_block_threads(monkeypatch):
    """Make every block of every launch run on threads of the pool (see the module docstring)."""

    def run(self, grid_point, *args):
        points = list(np.ndindex(*self._block_dim))
        while len(_POOL) < len(points):
            _POOL.append(PooledBlockThread())
        for k, t in enumerate(_POOL[:len(points)]):  # one that ended anyway (it should not) is replaced
            if t.ident is not None and not t.is_alive():
                _POOL[k] = PooledBlockThread()
        threads = _POOL[:len(points)]
        for t in threads:  # threads of an aborted block end at their next syncthreads
            while not t.finished:
                time.sleep(0)

        def call():
            self._f(*args)
        for t, point in zip(threads, points):
            t.assign(self, grid_point, point, call)
        # the simulator's loop (BlockManager.run), polling `finished` where it polls is_alive(),
        # and giving up the GIL once every 32 polls: a poll holds it for a whole switch
        # interval while the threads it waits for cannot run
        live, blocked, polls = set(threads), set(), 0
        while live:
            for t in live:
                polls += 1
                if polls % 32 == 0:
                    time.sleep(0)
                if t.syncthreads_blocked:
                    blocked.add(t)
                elif t.exception:
                    for other in threads:
                        other.abort = True
                        other.syncthreads_blocked = False
                        other.syncthreads_event.set()
                    raise t.exception[0].with_traceback(t.exception[1])
            if live == blocked:
                for t in blocked:
                    t.syncthreads_blocked = False
                    t.syncthreads_event.set()
                blocked = set()
            live = {t for t in live if not t.finished}
        for t in threads:
            if t.exception:
                raise t.exception[0].with_traceback(t.exception[1])

    monkeypatch.setattr(simulated.BlockManager, "run", run)
