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


def _run(args, env_extra, timeout, preexec_fn=None):
    env = dict(os.environ, **env_extra)
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=preexec_fn)
    return proc.returncode, proc.stdout[-12000:] + proc.stderr[-4000:]


def _on_one_cpu(k):
    """A preexec function that keeps the child on one CPU (the k-th it may use, cycling).
    The simulator runs each CUDA thread as a Python thread, handing the GIL over at
    every barrier; across CPUs each handover waits for the other CPU's scheduler, and
    with the other test worker busy there that made the run 3x slower than on one CPU
    (rms/renorm/device part: 131 s against 33 s beside a busy core)."""
    def pin():
        if hasattr(os, "sched_setaffinity"):
            cpus = sorted(os.sched_getaffinity(0))
            os.sched_setaffinity(0, {cpus[k % len(cpus)]})
    return pin


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
                     preexec_fn=_on_one_cpu(sorted(SIMULATOR_FILES).index(part)))
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
