"""The bad-input matrix: every public entry point fed inputs it must refuse.

Each case builds fresh objects, snapshots the ones it watches, calls the entry
point, and checks that
- it raised a built-in exception type (not one from NumPy's or Numba's
  internals, and not AttributeError, ZeroDivisionError, RecursionError, ...),
- the message names the op, what it got (the case's ``says`` fragments) and what
  it expected (one of ``EXPECTATION_WORDS``),
- the watched objects (module states, tensors with their versions and grads,
  optimizers, files) are as they were.
Cases run one after another in a forked child, so a crash or a hang is counted
(and the child killed, a fresh one going on from the next case) instead of
ending the run. Each case also leaves the package's global settings as it found
them (``global_settings``): a case in the same child cannot see another's.

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


def global_settings():
    """The package's process-wide settings, which a refused call must leave as they were
    (not the random state: many calls build their arguments from it)."""
    from tinygrad_bn.anomaly import is_anomaly_enabled
    from tinygrad_bn.tensor import PRINT_OPTIONS

    return (str(tg.get_default_dtype()), tg.get_default_device(), tg.is_grad_enabled(),
            tg.is_inference_mode_enabled(), is_anomaly_enabled(), tg.get_num_threads(),
            sorted((k, v if not callable(v) else "callable") for k, v in PRINT_OPTIONS.items()))


# -------------------------------------------------------------------- judging
def judge(case):
    """Run one case here; return (verdict, detail). Verdicts: clear, unclear,
    accepted (no error), state (changed state)."""
    call, watched = case.make()
    before = fingerprint(watched), global_settings()
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
    after = fingerprint(watched), global_settings()
    if after[0] != before[0]:
        return "state", f"{error}: {message[:200]} (and the watched state changed)"
    if after[1] != before[1]:
        return "state", f"{error}: {message[:200]} (and a global setting changed: {before[1]} -> {after[1]})"
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
    return _run_in_children([case], seconds)[0][:2]


def _judge_in_child(cases, seconds, write):
    """In a forked child: judge ``cases`` in turn, writing each verdict to ``write`` as it is
    reached, so the parent knows which case was running when the child died."""
    code = 0
    with os.fdopen(write, "wb") as out:
        warnings.filterwarnings("ignore", message=".*forked after its parent used Numba")
        for case in cases:
            t0 = time.perf_counter()
            signal.alarm(seconds)
            try:
                result = judge(case)
            except BaseException as exc:  # noqa: B902
                result, code = ("unclear", f"the harness failed: {type(exc).__name__}: {exc}"), 1
            signal.alarm(0)
            pickle.dump((*result, time.perf_counter() - t0), out)
            out.flush()
            if code:
                break
    os._exit(code)


def _run_in_children(cases, seconds):
    """(verdict, detail, seconds) for each case. The cases run in order in a forked child,
    which a crash or hang ends: that case is reported as such, and a fresh child goes on
    from the next (a child per case would cost a fork each, most of the matrix's time)."""
    results = []
    while len(results) < len(cases):
        rest = cases[len(results):]
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            _judge_in_child(rest, seconds, write)
        os.close(write)
        t0 = time.perf_counter()
        with os.fdopen(read, "rb") as f:
            while len(results) < len(cases):
                try:
                    results.append(pickle.load(f))
                except EOFError:
                    break
                t0 = time.perf_counter()
        _, status = os.waitpid(pid, 0)
        if len(results) == len(cases):
            break
        if not os.WIFSIGNALED(status):
            code = os.waitstatus_to_exitcode(status)
            verdict = ("crash", f"the process exited with status {code} and no verdict")
        elif os.WTERMSIG(status) == signal.SIGALRM:
            verdict = ("hang", f"no answer in {seconds} s")
        else:
            verdict = ("crash", f"the process died of signal {signal.Signals(os.WTERMSIG(status)).name}")
        results.append((*verdict, time.perf_counter() - t0))
    return results


def run_matrix(cases, isolated=True):
    """Judge every case; the files cases make go to one temporary folder, removed after."""
    import tempfile

    before = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as folder:
        tempfile.tempdir = folder
        try:
            if isolated:
                verdicts = _run_in_children(list(cases), CASE_SECONDS)
            else:
                verdicts = []
                for case in cases:
                    t0 = time.perf_counter()
                    verdicts.append((*judge(case), time.perf_counter() - t0))
        finally:
            tempfile.tempdir = before
    return [(case, *v) for case, v in zip(cases, verdicts)]


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
