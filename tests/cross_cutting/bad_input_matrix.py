"""The bad-input matrix: every public entry point fed inputs it must refuse.

Each case builds fresh objects, snapshots the ones it watches, calls the entry
point, and checks that
- it raised a built-in exception type (not one from NumPy's or Numba's
  internals, and not AttributeError, ZeroDivisionError, RecursionError, ...),
- the message names the op, what it got (the case's ``says`` fragments) and what
  it expected (one of ``EXPECTATION_WORDS``),
- the watched objects (module states, tensors with their versions and grads,
  optimizers, files) are as they were.
Cases run one by one in forked children, so a crash or a hang is counted (and
the child killed) instead of ending the run.

``python tests/cross_cutting/bad_input_matrix.py`` prints the counts and every case that fails.
"""
import contextlib
import io
import os
import pickle
import re
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import tinygrad_bn as tg

ALLOWED = (TypeError, ValueError, RuntimeError, IndexError, KeyError, OSError, NotImplementedError)
EXPECTATION_WORDS = re.compile(
    r"expect|must|only|should|need|take|use |pass |give |at least|at most|between|one of|positive|"
    r"valid|choose|required|invalid|cannot|can't|not a |no such|out of range|differ|match|wrap|call |convert|"
    r"instead|first|usage|try",
    re.IGNORECASE)
CASE_SECONDS = 60


@dataclass
class Case:
    entry: str                      # the public name, e.g. "nn.BatchNorm1d.forward"
    bad: str                        # what is wrong with the input
    make: Callable                  # () -> (call, watched): call() must raise; watched must not change
    says: tuple = ()                # fragments the message must hold (each a str or a tuple of alternatives)
    cli: bool = False               # a CLI case: must exit with status 2 and say it on stderr
    tags: dict = field(default_factory=dict)

    @property
    def name(self):
        return f"{self.entry}: {self.bad}"


# ------------------------------------------------------------------ snapshots
def fingerprint(obj):
    """A comparable picture of ``obj``'s state: what a refused call must leave as it was."""
    from tinygrad_bn.nn import Module
    from tinygrad_bn.optim.optimizer import Optimizer
    import pathlib

    if isinstance(obj, tg.Tensor):
        values = obj._backend.to_numpy(obj._data)
        return ("tensor", values.shape, str(values.dtype), values.tobytes(), obj.requires_grad, obj._version,
                obj.is_leaf, None if obj.grad is None else fingerprint(obj.grad))
    if isinstance(obj, Module):
        return ("module", type(obj).__name__, obj.training,
                [(k, fingerprint(v)) for k, v in obj.state_dict().items()],
                [(k, fingerprint(p.grad) if p.grad is not None else None) for k, p in obj.named_parameters()],
                [(k, type(m).__name__) for k, m in obj.named_modules()])
    if isinstance(obj, Optimizer):
        return ("optimizer", fingerprint(obj.state_dict()), [fingerprint(p) for g in obj.param_groups for p in g["params"]])
    if isinstance(obj, pathlib.Path):
        if obj.is_file():
            return ("file", obj.read_bytes())
        if obj.is_dir():
            return ("dir", sorted(p.name for p in obj.iterdir()))
        return ("path", obj.exists())
    if isinstance(obj, np.ndarray):
        return ("array", obj.shape, str(obj.dtype), obj.tobytes())
    if isinstance(obj, dict):
        return ("dict", [(k, fingerprint(v)) for k, v in obj.items()])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [fingerprint(v) for v in obj])
    if callable(obj) and hasattr(obj, "__self__"):
        return ("method", fingerprint(obj.__self__))
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return (type(obj).__name__, [(k, fingerprint(v)) for k, v in sorted(vars(obj).items())])
    return ("value", repr(obj))


# -------------------------------------------------------------------- judging
def judge(case):
    """Run one case here; return (verdict, detail). Verdicts: clear, unclear,
    accepted (no error), state (changed state)."""
    call, watched = case.make()
    before = fingerprint(watched)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except SystemExit as exc:
        if not case.cli:
            return "unclear", f"SystemExit({exc.code}) from a library call"
        if exc.code != 2:
            return "unclear", f"exit status {exc.code}, expected 2 (a usage error)"
        error, message = "SystemExit", err.getvalue()
    except BaseException as exc:  # noqa: B902 - every kind is judged below
        if isinstance(exc, KeyboardInterrupt):
            raise
        if case.cli:
            return "unclear", f"{type(exc).__name__} escaped the CLI: {exc}"
        error, message = type(exc).__name__, str(exc)
        if not isinstance(exc, ALLOWED) or type(exc).__module__ != "builtins":
            return "unclear", f"{type(exc).__module__}.{error}: {message[:300]}"
    else:
        return "accepted", "no error"
    after = fingerprint(watched)
    if after != before:
        return "state", f"{error}: {message[:200]} (and the watched state changed)"
    missing = [s for s in case.says if not _holds(message, s)]
    if missing:
        return "unclear", f"{error}: {message[:300]!r} does not say {missing}"
    if not EXPECTATION_WORDS.search(message):
        return "unclear", f"{error}: {message[:300]!r} does not say what was expected"
    return "clear", f"{error}: {message[:300]}"


def _holds(message, fragment):
    options = fragment if isinstance(fragment, tuple) else (fragment,)
    return any(o.lower() in message.lower() for o in options)


def run_isolated(case, seconds=CASE_SECONDS):
    """Judge ``case`` in a forked child: a crash or hang there is reported, not suffered."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(read)
            signal.alarm(seconds)
            warnings.filterwarnings("ignore", message=".*forked after its parent used Numba")
            result = judge(case)
        except BaseException as exc:  # noqa: B902
            result = ("unclear", f"the harness failed: {type(exc).__name__}: {exc}")
            code = 1
        with os.fdopen(write, "wb") as f:
            pickle.dump(result, f)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGALRM:
            return "hang", f"no answer in {seconds} s"
        return "crash", f"the process died of signal {signal.Signals(sig).name}"
    if not data:
        return "crash", f"the process exited with status {os.waitstatus_to_exitcode(status)} and no verdict"
    return pickle.loads(data)


def run_matrix(cases, isolated=True):
    """Judge every case; the files cases make go to one temporary folder, removed after."""
    import tempfile

    results = []
    before = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as folder:
        tempfile.tempdir = folder
        try:
            for case in cases:
                t0 = time.perf_counter()
                verdict, detail = run_isolated(case) if isolated else judge(case)
                results.append((case, verdict, detail, time.perf_counter() - t0))
        finally:
            tempfile.tempdir = before
    return results


def summary(results):
    counts = {k: 0 for k in ("clear", "unclear", "accepted", "crash", "hang", "state")}
    for _, verdict, _, _ in results:
        counts[verdict] += 1
    return counts


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    from bad_input_cases import all_cases

    cases = all_cases()
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    results = run_matrix([c for c in cases if only in c.name])
    counts = summary(results)
    entries = sorted({c.entry.split(":")[0] for c, *_ in results})
    print(f"{len(results)} cases over {len(entries)} entry points: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for case, verdict, detail, _ in results:
        if verdict != "clear" or "-v" in sys.argv:
            print(f"[{verdict}] {case.name}\n    {detail}")
