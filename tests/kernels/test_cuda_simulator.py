"""The CUDA tests in their own processes, from the main test run.

The simulator must be switched on before numba is first imported, so the
``cuda_sim`` tests run in a child pytest with ``NUMBA_ENABLE_CUDASIM=1``; the
compile check needs the real CUDA target, so it runs in a child as well (it
compiles every kernel for sm_80 and sm_90 with NVVM and ptxas, no GPU needed).
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1",
                                reason="already inside the simulator")


def _run(args, env_extra, timeout, cpu=None):
    """Run python with ``args``; with ``cpu``, on that one CPU (where the OS lets
    a process choose: Linux)."""
    env = dict(os.environ, **env_extra)
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        _pin(proc.pid, cpu)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return -9, f"timed out after {timeout} s\n" + out[-12000:] + err[-4000:]
    return proc.returncode, out[-12000:] + err[-4000:]


def _pin(pid, k):
    """Keep process ``pid`` on one CPU, the k-th it may use (cycling), set as it
    starts, before Python makes its threads (they take the process's CPUs).
    The simulator runs each CUDA thread as a Python thread, handing the GIL over
    at every barrier; across CPUs each handover waits for the other CPU's
    scheduler, and with the other test worker busy there that made the run 3x
    slower than on one CPU (rms/renorm/device part: 131 s against 33 s beside a
    busy core)."""
    try:
        cpus = sorted(os.sched_getaffinity(pid))
        os.sched_setaffinity(pid, {cpus[k % len(cpus)]})
    except OSError:  # the process is gone already, or the container forbids it: it runs unpinned
        pass


# The simulator suite in two children, so that two test workers can run them side by side.
SIMULATOR_FILES = {
    "kernels": ["tests/kernels/test_cuda_kernels.py"],
    "rms, renorm and the device": ["tests/kernels/test_cuda_rms_norm.py", "tests/kernels/test_cuda_batch_renorm.py",
                                   "tests/backends/test_cuda_device.py"],
}


@pytest.mark.parametrize("part", sorted(SIMULATOR_FILES))
def test_the_cuda_suite_passes_in_numbas_simulator(part):
    pytest.importorskip("numba.cuda", reason="numba-cuda is not installed (pip install -e '.[test]')")
    code, out = _run(["-m", "pytest", "-m", "cuda_sim", "-p", "no:cacheprovider", "-o", "addopts=", "-q",
                      *SIMULATOR_FILES[part]], {"NUMBA_ENABLE_CUDASIM": "1"}, timeout=900,
               cpu=sorted(SIMULATOR_FILES).index(part))
    assert code == 0, "NUMBA_ENABLE_CUDASIM=1 python -m pytest -m cuda_sim failed:\n" + out
    summary = out.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary and "deselected" not in summary, out


def test_every_cuda_kernel_compiles_for_sm80_and_sm90_without_spills():
    pytest.importorskip("numba.cuda", reason="numba-cuda is not installed (pip install -e '.[test]')")
    from numba.cuda.cudadrv import nvvm
    try:
        nvvm.NVVM()
    except Exception as exc:  # no libNVVM: numba-cuda without its cu12 wheels
        pytest.skip(f"NVVM not found ({exc}); pip install 'numba-cuda[cu12]'")
    code, out = _run(["-m", "kernels.cuda.compile_check"], {"NUMBA_ENABLE_CUDASIM": "0"}, timeout=600)
    assert code == 0, out
    assert "FAIL" not in out and "kernels in" in out
    # one line per kernel, dtype and arch, each with its registers and no spill bytes
    lines = [line for line in out.splitlines() if line.startswith("ok  ")]
    assert lines and all(re.search(r": \d+ registers, 0 spill bytes$", line) for line in lines), out
    assert {line.split()[-6] for line in lines} == {"sm_80:", "sm_90:"}, out


# A kernel with shared arrays: the PTX names them by a counter, as it names the kernel by a version.
_SAME_PTX = """
import re
from numba import cuda, float32
from kernels.cuda import _common, compile_check as cc
names = lambda ptx: re.sub(r"_cudapy_smem_\\d+", "SMEM", re.sub(r"_ZN\\w+", "NAME", ptx))
fn, arg_types = next(k for k in _common.REGISTRY if k[0].__name__ == "_sums_columns")
sig = cc.signature(arg_types, float32)
shared = cc.ptx_for_each_cc(fn, sig, [(8, 0), (9, 0)])
alone = [cuda.compile_ptx(fn, sig, cc=c)[0] for c in [(8, 0), (9, 0)]]
assert [".target sm_80" in p for p in shared] == [True, False] and ".target sm_90" in shared[1]
assert [names(p) for p in shared] == [names(p) for p in alone], "the PTX differs"
print("same PTX")
"""


def test_lowering_once_for_every_arch_gives_compile_ptxs_own_ptx():
    """The compile check lowers each kernel once and asks NVVM for each arch's PTX;
    that must be the PTX ``cuda.compile_ptx`` gives for the arch, but for names."""
    pytest.importorskip("numba.cuda", reason="numba-cuda is not installed (pip install -e '.[test]')")
    from numba.cuda.cudadrv import nvvm
    try:
        nvvm.NVVM()
    except Exception as exc:
        pytest.skip(f"NVVM not found ({exc}); pip install 'numba-cuda[cu12]'")
    code, out = _run(["-c", _SAME_PTX], {"NUMBA_ENABLE_CUDASIM": "0"}, timeout=300)
    assert code == 0 and "same PTX" in out, out
