"""Mutation testing: plant each bug listed in tools/mutants.py, run the tests
that should catch it, put the file back, and print which bugs the suite killed.

    python tools/mutate.py             # every mutant
    python tools/mutate.py LN BN-3     # mutants whose id starts with LN, or is BN-3
    python tools/mutate.py --check     # only check that every mutant still applies

A mutant is one exact text replacement in one file (the text must occur exactly
once, so an edit to the code that moves it away is noticed rather than
silently skipped). Its tests run as ``python -m pytest -x`` on the listed test
files with the ci Hypothesis profile; a failing run (or one past the time
limit) kills the mutant. The file is restored with its modification time, so
Numba's on-disk cache of the unmutated kernels stays valid; the mutants'
kernels compile into a separate cache folder (.mutate-cache, git-ignored).

Written here rather than taken from mutmut or cosmic-ray: those generate
mutants by operator (a + for a -, ...) over every line, thousands here, and
each kernel mutant costs a Numba compile; a curated list of plausible bugs,
each with the tests meant to catch it, runs in minutes and says why it exists.
"""
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from mutants import MUTANTS  # noqa: E402

TIME_LIMIT = 600  # seconds per mutant's test run; a run past it counts as killed (a hang)


def apply(mutant):
    """The mutated text of the mutant's file (raises if the text is not there exactly once)."""
    path = ROOT / mutant.path
    text = path.read_text()
    count = text.count(mutant.old)
    if count != 1:
        raise ValueError(f"{mutant.id}: the text to replace occurs {count} times in {mutant.path}; "
                         "update tools/mutants.py")
    return text.replace(mutant.old, mutant.new, 1)


def run_one(mutant, python=sys.executable):
    path = ROOT / mutant.path
    mutated = apply(mutant)
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci", NUMBA_CACHE_DIR=str(ROOT / ".mutate-cache"),
               PYTHONDONTWRITEBYTECODE="1")
    cmd = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
           "-W", "ignore", *[t for t in mutant.tests if (ROOT / t).exists()]]
    t0 = time.perf_counter()
    with planted(path, mutated):
        try:
            run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIME_LIMIT)
            killed, how = run.returncode != 0, first_failure(run.stdout)
        except subprocess.TimeoutExpired:
            killed, how = True, f"timed out after {TIME_LIMIT} s"
    return killed, how, time.perf_counter() - t0


@contextlib.contextmanager
def planted(path, mutated):
    """``path`` holds ``mutated`` for the with-block; then its own text again, with
    its modification time, so Numba's on-disk cache of the unmutated file stays valid."""
    original = path.read_text()
    stat = path.stat()
    try:
        path.write_text(mutated)
        yield
    finally:
        path.write_text(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def first_failure(out):
    """The first failing test a pytest run's output names ("error: ..." for an error), or ""."""
    for line in out.splitlines():
        if line.startswith("FAILED") or line.startswith("ERROR"):
            return line.split(" - ")[0].replace("FAILED ", "").replace("ERROR ", "error: ")
    return ""


def main(argv):
    check_only = "--check" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    chosen = [m for m in MUTANTS if not wanted or any(m.id == w or m.id.startswith(w) for w in wanted)]
    problems = []
    for m in chosen:
        try:
            apply(m)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        print("\n".join(problems))
        return 1
    if check_only:
        print(f"{len(chosen)} mutants apply")
        return 0
    rows, killed = [], 0
    for m in chosen:
        k, how, seconds = run_one(m)
        killed += k
        rows.append((m, k, how, seconds))
        print(f"{m.id:8} {'killed  ' if k else 'SURVIVED'} {seconds:6.1f}s  {m.what}"
              + (f"\n{'':26}by {how}" if k and how else ""), flush=True)
    print(f"\n{killed} of {len(rows)} mutants killed ({100 * killed / max(len(rows), 1):.0f}%)")
    survivors = [m for m, k, _, _ in rows if not k]
    for m in survivors:
        print(f"  survived: {m.id} {m.path}: {m.what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
