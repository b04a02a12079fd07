"""Compile every CUDA kernel for real GPUs, without one.

    python -m kernels.cuda.compile_check [--arch sm_80 sm_90] [--ptxas PATH]

Each kernel in ``_common.REGISTRY`` is compiled to PTX by NVVM for float32 and
float64 inputs (``numba.cuda.compile_ptx``: needs NVVM, e.g. from
``numba-cuda[cu12]``), then assembled by ``ptxas -v`` for each architecture.
That catches the typing and lowering errors the simulator runs past (it runs
kernels as Python). Fails on a compile error, and on register spills, which
would turn a bandwidth-bound kernel into a local-memory-bound one. Prints one
line per kernel, dtype and architecture with its registers per thread.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    sys.exit("compile_check: unset NUMBA_ENABLE_CUDASIM (the simulator compiles nothing)")

from numba import boolean, float32, float64, int64  # noqa: E402
from numba import cuda  # noqa: E402

from . import _common, batchnorm, batchrenorm, groupnorm, layernorm, rmsnorm, stats  # noqa: E402,F401  (importing registers the kernels)


def signature(arg_types, dtype):
    letters = {"X": dtype[::1], "F": float64[::1], "I": int64, "E": float64, "B": boolean}
    return tuple(letters[c] for c in arg_types)


def find_ptxas(explicit=None):
    """ptxas from --ptxas, the CUDA wheels (nvidia-cuda-nvcc-cu12), CUDA_HOME or PATH."""
    if explicit:
        return explicit
    try:
        import nvidia.cuda_nvcc
        for base in nvidia.cuda_nvcc.__path__:
            cand = os.path.join(base, "bin", "ptxas")
            if os.path.exists(cand):
                return cand
    except ImportError:
        pass
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if home and os.path.exists(os.path.join(home, "bin", "ptxas")):
        return os.path.join(home, "bin", "ptxas")
    return shutil.which("ptxas")


def arch_cc(arch):
    """"sm_90" -> (9, 0)."""
    return int(arch[3]), int(arch[4:])


def ptx_for_each_cc(fn, sig, ccs):
    """PTX of kernel ``fn`` at ``sig`` for each compute capability in ``ccs``.

    ``cuda.compile_ptx`` types and lowers the kernel again for every cc, and
    that is nine tenths of its time; only NVVM's step depends on the cc (our
    kernels use nothing whose lowering does). So this lowers once and asks the
    compiled library for each cc's PTX, as numba-cuda's dispatcher does for
    each device. That path is numba-cuda's internal; where a version lacks it,
    each cc goes through ``compile_ptx``. A test checks both give the same PTX.
    """
    try:
        from numba.cuda import compiler
        with compiler.global_compiler_lock:
            lib, _ = compiler._compile_pyfunc_with_fixup(fn, sig, device=False, cc=ccs[0], abi="numba")
            return [lib.get_asm_strs(cc=cc)[0] for cc in ccs]
    except (ImportError, AttributeError, TypeError):
        return [cuda.compile_ptx(fn, sig, cc=cc)[0] for cc in ccs]


def assemble(ptxas, ptx, arch):
    """(registers, spill bytes, error) of ``ptx`` assembled for ``arch``."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "k.ptx")
        with open(src, "w") as f:
            f.write(ptx)
        proc = subprocess.run([ptxas, f"-arch={arch}", "-v", "-o", os.path.join(tmp, "k.cubin"), src],
                              capture_output=True, text=True)
    if proc.returncode:
        return None, None, proc.stderr.strip()
    out = proc.stderr + proc.stdout
    regs = max((int(r) for r in re.findall(r"Used (\d+) registers", out)), default=0)
    spills = sum(int(b) for b in re.findall(r"(\d+) bytes spill (?:stores|loads)", out))
    return regs, spills, None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", nargs="+", default=["sm_80", "sm_90"])
    ap.add_argument("--ptxas", default=None)
    args = ap.parse_args(argv)
    ptxas = find_ptxas(args.ptxas)
    if ptxas is None:
        sys.exit("compile_check: no ptxas found; install numba-cuda[cu12] or set CUDA_HOME")
    failures = []
    start = time.perf_counter()
    print(f"ptxas: {ptxas}")
    for fn, arg_types in _common.REGISTRY:
        name = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"
        for dtype in ((float32, float64) if "X" in arg_types else (float64,)):
            try:
                ptxs = ptx_for_each_cc(fn, signature(arg_types, dtype), [arch_cc(arch) for arch in args.arch])
            except Exception as exc:  # a typing or lowering error: report every one
                failures.append(f"{name} {dtype}: {type(exc).__name__}: {exc}")
                print(f"FAIL {name:<28} {str(dtype):<8} {' '.join(args.arch)}: does not compile")
                continue
            for arch, ptx in zip(args.arch, ptxs):
                regs, spills, err = assemble(ptxas, ptx, arch)
                if err or spills:
                    failures.append(f"{name} {dtype} {arch}: " + (err or f"{spills} bytes of register spills"))
                status = "FAIL" if (err or spills) else "ok  "
                print(f"{status} {name:<28} {str(dtype):<8} {arch}: {regs} registers, {spills or 0} spill bytes")
    print(f"{len(_common.REGISTRY)} kernels in {time.perf_counter() - start:.1f} s")
    if failures:
        print("\n".join(["", "failures:"] + failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
