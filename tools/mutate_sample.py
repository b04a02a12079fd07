"""Sampled mutation testing: plant a seeded random sample of tool-generated
mutants, one at a time, and report the share the test suite kills.

    python tools/mutate_sample.py                    # 200 mutants, a fresh seed (printed)
    python tools/mutate_sample.py --count 50 --seed 7 --workers 2
    python tools/mutate_sample.py --only kernels/    # draw from some files only
    python tools/mutate_sample.py --show 7:12        # the 12th mutant of seed 7's sample, as a diff
    python tools/mutate_sample.py --map              # rebuild tests/mutation_map.json (a coverage run)
    python tools/mutate_sample.py --map --map-tests tests/x/test_new.py   # map new or changed test files only

The mutants are Cosmic Ray's (its "core" operators: every binary, unary,
comparison and boolean operator swapped for each other, numbers moved by
one, True/False swapped, `not` added or dropped, break/continue swapped,
decorators removed, loops made empty, exceptions replaced) over every file of
``tinygrad_bn/`` and ``kernels/``. Cosmic Ray rather than mutmut 3: mutmut
turns every function into a trampoline chosen at run time, which a Numba
``@njit`` kernel cannot compile, so the kernels would go unmeasured; Cosmic Ray
rewrites the file on disk, so a mutated kernel is compiled and run as a real
bug would be. Cosmic Ray's own runner (a session database, every mutant, one
test command) is not used: this one draws the seeded sample, picks each
mutant's tests, keeps Numba's caches valid and reads the list of equivalent
mutants.

Each mutant runs in a copy of the checkout under ``.mutate-cache/`` (so an
interrupted run never leaves a mutated file in your tree): first the test
files that cover its file (``tests/mutation_map.json``, most lines first, with
``-x``), then, if it survived them, the whole suite. A failing run kills the
mutant; a run past the time limit kills it too (a hang). The failing test must
pass without the mutant: one that fails on the checkout as it is (say, on this
machine) is deselected, and the mutant runs again without it. A mutant whose code
no longer compiles to Python bytecode is "incompetent" and not counted;
one listed in ``tools/equivalent_mutants.py`` (behaviour identical, with a
one-line reason) is "equivalent" and not counted either.

Numba's on-disk cache stays valid: the mutated file is put back with its
modification time, and kernels compiled from a mutated ``kernels/`` file go
to a scratch cache folder, apart from the cache of the unmutated kernels.

Results go to ``.mutate-cache/runs/seed-<seed>.jsonl`` (one line per mutant,
so ``--resume`` goes on after an interruption) and to a table by package area.
"""
import argparse
import difflib
import fnmatch
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".mutate-cache"
MAP_FILE = ROOT / "tests" / "mutation_map.json"
PACKAGES = ("tinygrad_bn", "kernels")
# What a worker's copy of the checkout holds (the rest is outputs and caches).
COPIED = ("tinygrad_bn", "kernels", "tests", "examples", "benchmarks", "tools", "docs",
          "README.md", "pyproject.toml")
TIME_LIMIT = 900  # seconds for one test run; past it the mutant counts as killed (a hang)
HANG_FACTOR, MIN_LIMIT = 4, 240
"""A file whose mutants have survived their mapped tests before (in any earlier
run's results) gives its next mutants HANG_FACTOR times the longest such run,
at least MIN_LIMIT seconds, before they count as a hang (a loop that never
ends took a worker for all of TIME_LIMIT)."""
# Tests for files that run mostly in other processes, which coverage does not
# follow: the CUDA kernels (run by the simulator tests in a process of their
# own), the command line and the examples (run as subprocesses). Added after
# the tests coverage finds.
FALLBACK = {
    "kernels/cuda/*": ["tests/kernels/test_cuda_simulator.py", "tests/kernels/test_cuda_kernels.py",
                       "tests/backends/test_cuda_device.py"],
    **{f: ["tests/kernels/test_cuda_simulator.py", "tests/backends/test_cuda_device.py"]
       for f in ("tinygrad_bn/cuda.py", "tinygrad_bn/backends/cuda.py")},
    # compiled ufuncs alone (no Python line for coverage to see): the tests of the ops that call them
    "kernels/cpu/special.py": ["tests/ops/test_pointwise_math.py", "tests/distributions/test_more_distributions.py",
                               "tests/nn/test_losses.py", "tests/ops/test_aliases_and_in_place_forms.py"],
    "kernels/cpu/elementwise.py": ["tests/ops/test_ops_grad.py", "tests/ops/test_double_backward.py",
                                   "tests/ops/test_op_boundaries.py", "tests/cross_cutting/test_properties_ops.py"],
    "kernels/*": ["tests/kernels/test_kernel_protocol.py"],
    "tinygrad_bn/cli*": ["tests/train/test_train.py", "tests/experiments/test_experiments.py"],
    "tinygrad_bn/distributed/*": ["tests/distributed/test_distributed.py"],
    # the suites that call the whole API (3-4 s each): a mutant anywhere in the package may
    # show only there (a loss's argument checks removed outright, an error of the wrong class);
    # the defaults table runs for every mutant anyway (SIGNATURE_TESTS)
    "tinygrad_bn/*": ["tests/cross_cutting/test_bad_input_matrix.py", "tests/cross_cutting/test_pytorch_edge_shapes.py",
                      "tests/cross_cutting/test_pytorch_promotion.py"],
    # its warnings (size_average, reduce) are raised through loss_functional's helper
    "tinygrad_bn/nn/class_losses.py": ["tests/cross_cutting/test_warnings_point_at_the_caller.py"],
}

sys.path.insert(0, str(ROOT / "tools"))
from mutate import first_failure, planted  # noqa: E402  (the regression list's runner plants files the same way)


@dataclass(frozen=True)
class Mutant:
    path: str          # relative to the checkout
    operator: str      # Cosmic Ray's operator name
    occurrence: int    # which site of that operator in the file, in Cosmic Ray's order
    line: int          # 1-based line of the site
    col: int           # its column: (path, line, col) is a site, where one or more mutants apply
    before: str        # that line, unmutated (stripped)
    after: str         # that line, mutated (stripped); the changed lines joined when the line count changes
    scope: str = ""    # the function or class around the line ("Class.method"; "" at module level)

    @property
    def key(self):
        return (self.path, self.operator, self.before, self.after)


# --- enumerating the mutants ---------------------------------------------------

def source_files(only=None):
    files = sorted(p.relative_to(ROOT).as_posix() for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                   if "__pycache__" not in p.parts)
    if only:
        files = [f for f in files if any(f.startswith(o) or fnmatch.fnmatch(f, o) for o in only)]
    return files


def _operators():
    from cosmic_ray import plugins
    for name in sorted(plugins.operator_names()):
        cls = plugins.get_operator(name)
        if name.startswith("core/") and not cls.arguments():
            yield name, cls()


# the "after" line of a mutant Cosmic Ray enumerates but cannot build: its ExceptionReplacer
# fails on a dotted name in an except tuple (``except (urllib.error.URLError, OSError)``)
UNBUILDABLE = "(Cosmic Ray cannot build this mutant)"


def _mutated_line(text, operator, occurrence, line):
    from cosmic_ray.mutating import mutate_code
    try:
        mutated = mutate_code(text, operator, occurrence)
    except AttributeError:
        return None, UNBUILDABLE
    if mutated is None:
        return None, None
    old, new = text.splitlines(), mutated.splitlines()
    if len(old) == len(new):
        return mutated, new[line - 1].strip()
    # Cosmic Ray rewrote a statement that spans several lines onto fewer: the new
    # lines, joined, name the mutant (a blank would give every mutant of the statement one key)
    changed = difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    return mutated, " ".join(s.strip() for tag, _, _, j1, j2 in changed if tag != "equal" for s in new[j1:j2])


def enumerate_mutants(files):
    """Every mutant of every file, its mutated line still blank (``realize``
    fills it in for the drawn ones: applying all of them would take minutes);
    cached by a digest of the sources, the Cosmic Ray version and this file."""
    import cosmic_ray
    from cosmic_ray.ast import ast_nodes, get_ast_from_path

    digest = hashlib.sha256(getattr(cosmic_ray, "__version__", "?").encode() + Path(__file__).read_bytes())
    for f in files:
        digest.update(f.encode() + b"\0" + (ROOT / f).read_bytes())
    cached = CACHE / f"mutants-{digest.hexdigest()[:16]}.json"
    if cached.exists():
        return [Mutant(**m) for m in json.loads(cached.read_text())]
    mutants = []
    operators = list(_operators())
    for f in files:
        text = (ROOT / f).read_text()
        lines = text.splitlines()
        module = get_ast_from_path(ROOT / f)
        nodes = list(ast_nodes(module))
        for name, op in operators:
            sites = [start for node in nodes for start, _ in op.mutation_positions(node)]
            for occurrence, (line, col) in enumerate(sites):
                mutants.append(Mutant(f, name, occurrence, line, col, lines[line - 1].strip(), None))
    CACHE.mkdir(exist_ok=True)
    cached.write_text(json.dumps([asdict(m) for m in mutants]))
    return mutants


def realize(mutant):
    """``mutant`` with its mutated line filled in."""
    from cosmic_ray.plugins import get_operator
    from equivalent_mutants import scope_at
    text = (ROOT / mutant.path).read_text()
    _, after = _mutated_line(text, get_operator(mutant.operator)(), mutant.occurrence, mutant.line)
    return Mutant(**dict(asdict(mutant), after=after, scope=scope_at(text, mutant.line)))


def equivalent_keys():
    """(path, operator, before, after) -> [(where, reason)] of tools/equivalent_mutants.py."""
    from equivalent_mutants import EQUIVALENT
    keys = {}
    for path, operator, before, after, reason, *where in EQUIVALENT:
        keys.setdefault((path, operator, before, after), []).append((where[0] if where else None, reason))
    return keys


def equivalent_reason(equivalent, key, scope):
    """Why the mutant ``key`` at ``scope`` is equivalent, or None: an entry with a
    ``where`` holds only in the functions it names."""
    for where, reason in equivalent.get(key, ()):
        if where is None or fnmatch.fnmatchcase(scope, where):
            return reason
    return None


def area(path):
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0] + "/ (top)"


# --- the tests for a file --------------------------------------------------------

# Tests that read every public signature rather than run its lines: coverage
# credits a ``def`` line to the import, never to them, so a mutant of a default
# value (``dim=-1`` to ``dim=+1``) reached no mapped test. Run last, after the
# mapped ones (so with -x they cost time only when those pass).
SIGNATURE_TESTS = ["tests/cross_cutting/test_pytorch_defaults.py", "tests/cross_cutting/test_pytorch_signatures.py"]


def tests_for(path, test_map):
    """The test files that cover ``path``, most covered lines first, then the
    signature tests (unless the whole suite runs anyway)."""
    entry = test_map["files"].get(path)
    if entry is None:
        raise SystemExit(f"{path} is not in {MAP_FILE.name}; rebuild it: python tools/mutate_sample.py --map")
    tests = [t for t, _ in entry]
    if tests == ["tests"]:
        return tests
    return tests + [t for t in SIGNATURE_TESTS if t not in tests]


# --- one worker: a copy of the checkout ------------------------------------------

class CleanTests:
    """Whether a test passes without any mutant, asked of the copies as kills
    name their tests: a test that fails on the checkout as it is (a test that
    depends on the machine, or a tree with a bug) would kill every mutant whose
    run reaches it. Shared by the workers; a test found failing (run alone, so
    a test that fails only after others is not found) is deselected from then
    on, and its id kept in the run's results."""

    def __init__(self):
        self.lock = threading.Lock()
        self.passes = {}  # test id -> whether it passed on the unmutated copy
        self.failing = []  # the ids found failing, in the order found

    def deselect(self):
        with self.lock:
            return [a for t in self.failing for a in ("--deselect", t)]

    def check(self, worker, by):
        """Whether the kill ``by`` (first_failure's text) names a test that passes
        unmutated in ``worker``'s copy; a hang or an exit status is taken as a kill."""
        test = by[len("error: "):] if by.startswith("error: ") else by
        if "::" not in test:
            return True
        with self.lock:
            known = self.passes.get(test)
        if known is None:
            rc, _, _ = worker.pytest([test], scratch=False)
            known = rc == 0
            with self.lock:
                self.passes[test] = known
                if not known and test not in self.failing:  # (two workers may have run it at once)
                    self.failing.append(test)
                    print(f"note: {test} fails without a mutant; it is deselected from now on", flush=True)
        return known


CLEAN = CleanTests()


class Worker:
    def __init__(self, index):
        self.dir = CACHE / f"work-{index}"

    def refresh(self):
        """Make the copy match the checkout (modification times kept, so its
        Numba cache stays valid across runs when the sources have not changed)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for name in COPIED:
            _sync(ROOT / name, self.dir / name)

    def env(self, scratch):
        cache = self.dir / (".numba-scratch" if scratch else ".numba")
        return dict(os.environ, HYPOTHESIS_PROFILE="ci", NUMBA_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1",
                    PYTHONPATH=str(self.dir), MPLBACKEND="Agg")

    def pytest(self, targets, scratch, python=sys.executable, limit=TIME_LIMIT):
        cmd = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-W", "ignore",
               *targets]
        t0 = time.perf_counter()
        # a session of its own, so a hang is stopped with every process it started (the simulator
        # tests run pytest in a child: killing pytest alone left that child spinning for an hour)
        proc = subprocess.Popen(cmd, cwd=self.dir, env=self.env(scratch), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return -1, f"timed out after {limit:.0f} s", time.perf_counter() - t0
        by = first_failure(stdout) or ("" if proc.returncode == 0 else f"pytest exit status {proc.returncode}")
        return proc.returncode, by, time.perf_counter() - t0

    def run(self, mutant, tests, confirm, mapped=True, limit=TIME_LIMIT):
        """Plant ``mutant`` in the copy and run its mapped tests (unless
        ``mapped`` is False; within ``limit`` seconds) and, if it survives them
        and ``confirm``, the rest of the suite; returns a result dict. A kill
        by a test that fails without the mutant does not count: the mutant runs
        again without that test (``CleanTests``)."""
        tried = set()
        while True:
            deselected = CLEAN.deselect()
            result = self._run_once(mutant, tests, confirm, mapped, limit, deselected)
            if result["status"] != "killed" or result["by"] in tried or CLEAN.check(self, result["by"]):
                # (a kill by the same test again: its id did not deselect it, so it stands)
                if deselected:
                    result["deselected"] = deselected[1::2]
                return result
            tried.add(result["by"])

    def _run_once(self, mutant, tests, confirm, mapped, limit, deselected):
        from cosmic_ray.plugins import get_operator
        path = self.dir / mutant.path
        mutated, after = _mutated_line(path.read_text(), get_operator(mutant.operator)(), mutant.occurrence, mutant.line)
        result = dict(asdict(mutant), seconds=0.0, by="")
        if after == UNBUILDABLE:
            return dict(result, status="incompetent", by=UNBUILDABLE)
        if mutated is None or after != mutant.after:
            return dict(result, status="stale")  # the copy's file differs from the enumerated one
        try:
            compile(mutated, mutant.path, "exec")
        except SyntaxError:
            return dict(result, status="incompetent")
        scratch = mutant.path.startswith("kernels/")
        rc, by, seconds, stage = 0, "", 0.0, "mapped"
        with planted(path, mutated):
            if mapped:
                rc, by, seconds = self.pytest([*tests, *deselected], scratch, limit=limit)
            if rc == 0 and confirm and tests != ["tests"]:
                # the rest of the suite (the mapped files passed already)
                skip = [a for t in tests for a in ("--ignore", t)] if mapped else []
                rc, by, more = self.pytest(["tests", *skip, *deselected], scratch)
                seconds += more
                stage = "suite"
        if rc == 5:
            return dict(result, status="error", by="no tests collected", seconds=seconds)
        status = "survived" if rc == 0 else "killed"
        return dict(result, status=status, by=by, stage=stage, seconds=round(seconds, 1))


def _sync(src, dst):
    """Copy ``src`` (a file or a folder) to ``dst`` where they differ in size or
    modification time, and remove what ``dst`` has beyond ``src``; caches skipped."""
    if src.is_file():
        st = src.stat()
        if not dst.is_file() or (dst.stat().st_size, dst.stat().st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            shutil.copy2(src, dst)
        return
    if not src.is_dir():
        return
    dst.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in src.iterdir() if p.name != "__pycache__" and p.suffix not in (".nbi", ".nbc")}
    for extra in (p for p in dst.iterdir() if p.name not in wanted and p.name != "__pycache__"):
        shutil.rmtree(extra) if extra.is_dir() else extra.unlink()
    for name in wanted:
        _sync(src / name, dst / name)


# --- the run ----------------------------------------------------------------------

def mapped_seconds(runs_folder):
    """{source file: the longest time its mapped tests took where one of its
    mutants survived them}, from every results file in ``runs_folder``."""
    longest = {}
    for results in Path(runs_folder).glob("*.jsonl"):
        for line in results.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a stopped run
                continue
            note_mapped_seconds(longest, r)
    return longest


def note_mapped_seconds(longest, r):
    """Keep result ``r``'s time in ``longest`` where its mutant survived the mapped
    tests: then it is how long they all take (a killed mutant stopped them early)."""
    if r.get("status") == "survived" and r.get("stage") == "mapped" and r.get("seconds"):
        longest[r["path"]] = max(longest.get(r["path"], 0.0), r["seconds"])


def time_limit(path, longest):
    """Seconds a mutant of ``path`` gets for its mapped tests before it counts as a hang."""
    if path not in longest:
        return TIME_LIMIT
    return min(TIME_LIMIT, max(MIN_LIMIT, HANG_FACTOR * longest[path]))


def draw(mutants, count, seed):
    """``count`` mutants at ``count`` distinct sites: a site drawn uniformly, then
    one of its mutants. Drawing mutants uniformly would weigh each binary
    operator ten times (Cosmic Ray swaps it for each of ten others, most of
    them type errors) against one number or one comparison.

    A seed orders every site once and picks each site's mutant by the seed and
    the site alone, so a smaller count draws a prefix of a larger one's sample
    (``--show SEED:INDEX`` names the mutant a run of any count drew there)."""
    sites = {}
    for m in mutants:
        sites.setdefault((m.path, m.line, m.col), []).append(m)
    keys = sorted(sites)
    random.Random(seed).shuffle(keys)
    return [sites[k][random.Random(f"{seed}:{k}").randrange(len(sites[k]))] for k in keys[:count]]


def report(results, seed, started):
    counted = [r for r in results if r["status"] in ("killed", "survived")]
    by_area = {}
    for r in results:
        row = by_area.setdefault(area(r["path"]), {"killed": 0, "survived": 0, "equivalent": 0, "incompetent": 0})
        if r["status"] in row:
            row[r["status"]] += 1
    summed = sum(r.get("seconds", 0) for r in results) / 60
    took = f"{(time.time() - started) / 60:.0f} min, " if started else ""
    print(f"\nseed {seed}, {time.strftime('%Y-%m-%d')}: {len(results)} mutants ({took}{summed:.0f} min of test runs)")
    print(f"{'area':28} {'killed':>7} {'survived':>9} {'equiv.':>7} {'incomp.':>8}")
    for name in sorted(by_area):
        row = by_area[name]
        print(f"{name:28} {row['killed']:>7} {row['survived']:>9} {row['equivalent']:>7} {row['incompetent']:>8}")
    killed = sum(r["status"] == "killed" for r in counted)
    score = 100 * killed / max(len(counted), 1)
    print(f"\nkilled {killed} of {len(counted)} non-equivalent mutants: {score:.1f}%")
    for r in results:
        if r["status"] == "survived":
            print(f"  survived: {r['path']}:{r['line']} {r['operator']}\n      - {r['before']}\n      + {r['after']}")
    failing = sorted({t for r in results for t in r.get("deselected", ())})
    if failing:
        print("deselected, failing without a mutant:\n" + "".join(f"  {t}\n" for t in failing), end="")
    return score


def show(mutants, spec):
    seed, index = (int(v) for v in spec.split(":"))
    m = draw(mutants, index + 1, seed)[index]
    from cosmic_ray.plugins import get_operator
    text = (ROOT / m.path).read_text()
    mutated, after = _mutated_line(text, get_operator(m.operator)(), m.occurrence, m.line)
    if mutated is None:
        print(f"{m.path}:{m.line} {m.operator}: {after or 'the file changed since the draw'}")
        return
    sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), mutated.splitlines(True),
                                               m.path, m.path + " (mutant)"))


def report_file(path):
    """The table of a results file (an interrupted run's too), with mutants listed as
    equivalent since the run counted as equivalent."""
    equivalent = equivalent_keys()
    results = []
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        key = (r["path"], r["operator"], r["before"], r["after"])
        if "scope" not in r:  # a run from before scopes were kept: the line's scope in the file as it is now
            from equivalent_mutants import scope_at
            r["scope"] = scope_at((ROOT / r["path"]).read_text(), r["line"])
        reason = equivalent_reason(equivalent, key, r["scope"])
        if r["status"] == "survived" and reason is not None:
            r = dict(r, status="equivalent", by=reason)
        results.append(r)
    seed = Path(path).stem.split("-")[1]
    return report(results, seed, None)


def run(args):
    if args.report:
        return 0 if report_file(args.report) is not None else 1
    files = source_files(args.only)
    mutants = enumerate_mutants(files)
    if args.show:
        return show(mutants, args.show)
    if args.recheck:  # an earlier run's survivors, and its kills by tests that fail unmutated, against the suite now
        earlier = [json.loads(line) for line in Path(args.recheck).read_text().splitlines()]
        fields = set(Mutant.__dataclass_fields__)
        checker = Worker(0)
        checker.refresh()
        again = [r for r in earlier if r["status"] == "survived"
                 or (r["status"] == "killed" and not CLEAN.check(checker, r.get("by", "")))]
        sample = [Mutant(**{k: v for k, v in r.items() if k in fields}) for r in again]
        if any(not m.scope for m in sample):  # results from before scopes were kept
            from equivalent_mutants import scope_at
            sample = [m if m.scope else Mutant(**dict(asdict(m), scope=scope_at((ROOT / m.path).read_text(), m.line)))
                      for m in sample]
        seed = Path(args.recheck).stem.split("-")[1] + "-recheck"
    else:
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
        sample = [realize(m) for m in draw(mutants, args.count, seed)]
    equivalent = equivalent_keys()
    test_map = json.loads(MAP_FILE.read_text())
    print(f"{len(mutants)} mutants in {len(files)} files; seed {seed}: {len(sample)} drawn", flush=True)
    out = CACHE / "runs" / f"seed-{seed}{_only_suffix(args.only)}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if args.resume and out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done[(r["path"], r["operator"], r["occurrence"])] = r
        out.write_text("".join(json.dumps(r) + "\n" for r in done.values()
                               if not (r["status"] == "survived" and r.get("stage") == "mapped"
                                       and not args.no_confirm)))
    elif out.exists():
        out.unlink()
    workers = [Worker(i) for i in range(args.workers)]
    for w in workers:
        w.refresh()
    # with --resume, survivors of the mapped tests alone go on to the rest of the suite
    confirming = {} if args.no_confirm else {k: r for k, r in done.items()
                                             if r["status"] == "survived" and r.get("stage") == "mapped"}
    for k in confirming:
        del done[k]
    queue = [m for m in sample if (m.path, m.operator, m.occurrence) not in done]
    results = list(done.values())
    lock = threading.Lock()
    started = time.time()
    longest = mapped_seconds(CACHE / "runs")

    def work(worker):
        while True:
            with lock:
                if not queue:
                    return
                m = queue.pop(0)
            earlier = confirming.get((m.path, m.operator, m.occurrence))
            reason = equivalent_reason(equivalent, m.key, m.scope)
            if reason is not None:
                r = dict(asdict(m), status="equivalent", by=reason, seconds=0.0)
            elif earlier:  # survived its mapped tests in an earlier --no-confirm run
                r = worker.run(m, tests_for(m.path, test_map), confirm=True, mapped=False)
                r["seconds"] = round(r["seconds"] + earlier["seconds"], 1)
            else:
                r = worker.run(m, tests_for(m.path, test_map), confirm=not args.no_confirm,
                               limit=time_limit(m.path, longest))
            with lock:
                note_mapped_seconds(longest, r)
                results.append(r)
                with out.open("a") as f:
                    f.write(json.dumps(r) + "\n")
                print(f"[{len(results):>3}/{len(sample)}] {r['status']:11} {r.get('seconds', 0):6.1f}s "
                      f"{m.path}:{m.line} {m.operator.split('/')[-1]}"
                      + (f"  by {r['by']}" if r["status"] == "killed" and r.get("by") else ""), flush=True)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report(results, seed, started)
    return 0


# --- the map from source files to the tests that cover them ------------------------

def build_map(args):
    """Run the suite under coverage with one context per test file and write, for
    every source file, the test files that execute its lines (most lines
    first). Files that only other processes run (the CUDA kernels under the
    simulator, the CLI) take their tests from FALLBACK. With ``--map-tests``
    only the named test files run, and only their entries change."""
    only = [Path(t).as_posix() for t in args.map_tests or []]
    tests = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py")}
    missing = [t for t in only if t not in tests]
    if missing:
        raise SystemExit(f"--map-tests takes test files (tests/.../test_*.py); not found: {missing}")
    measured = _covered_lines(only or ["tests"], args.pytest_args)
    if only:
        files = json.loads(MAP_FILE.read_text())["files"]
        for f in source_files():
            entries = files.get(f)
            if entries == [["tests", 0]]:
                continue  # the whole suite runs for it, the remapped tests among it
            entries = [e for e in entries or [] if e[0] not in only]
            entries += [[t, n] for t, n in measured.get(f, {}).items() if t in only]
            fallback = [t for pattern, ts in FALLBACK.items() if fnmatch.fnmatch(f, pattern) for t in ts]
            entries += [[t, 0] for t in dict.fromkeys(fallback) if t in only and t not in {e[0] for e in entries}]
            # (stable: the old order among equals); a file new to the map that no test runs: the whole suite
            files[f] = sorted(entries, key=lambda e: -e[1]) or [["tests", 0]]
    else:
        files = {}
        for f in source_files():
            found = sorted(([t, n] for t, n in measured.get(f, {}).items() if t in tests), key=lambda e: (-e[1], e[0]))
            named = {t for t, _ in found}
            fallback = [t for pattern, ts in FALLBACK.items() if fnmatch.fnmatch(f, pattern) for t in ts]
            files[f] = found + [[t, 0] for t in dict.fromkeys(fallback) if t not in named]
            if not files[f]:  # only run at import (names, constants): every test may depend on it
                files[f] = [["tests", 0]]
    for test, sources in imported_sources(set(only) if only else tests).items():
        for f in sources:  # a module a test imports: it may read its constants without running a line
            if files[f] != [["tests", 0]] and test not in {t for t, _ in files[f]}:
                files[f].append([test, 0])
    MAP_FILE.write_text(json.dumps({"note": "source file -> [test file, covered lines]; "
                                             "python tools/mutate_sample.py --map rebuilds it",
                                    "files": {f: files[f] for f in sorted(files) if f in set(source_files())}},
                                   indent=1) + "\n")
    print(f"wrote {MAP_FILE.relative_to(ROOT)}: {len(files)} files" + (f" ({len(only)} test files remapped)"
                                                                      if only else ""))
    return 0


def _covered_lines(test_paths, pytest_args):
    """{source file: {test file: lines of it the test file runs}} from one coverage run
    of ``test_paths`` in a copy of the checkout."""
    worker = Worker("map")
    worker.refresh()
    rc_file = worker.dir / ".coveragerc"
    rc_file.write_text("[run]\nsource = tinygrad_bn,kernels\ndata_file = .coverage-map\n")
    (worker.dir / ".coverage-map").unlink(missing_ok=True)
    env = worker.env(scratch=False)
    env["PYTHONPATH"] += os.pathsep + str(worker.dir / "tools")  # the coverage_contexts plugin
    # the map's own check is left out: the map it reads is the one being rebuilt
    run = subprocess.run([sys.executable, "-m", "coverage", "run", "--rcfile", str(rc_file), "-m", "pytest", "-q",
                          "-p", "no:cacheprovider", "-p", "coverage_contexts", "-o", "addopts=", "-W", "ignore",
                          "--ignore", "tests/cross_cutting/test_mutation_map.py", *pytest_args, *test_paths],
                         cwd=worker.dir, env=env)
    if run.returncode not in (0, 1):  # 1: some tests failed, which still maps what ran
        raise SystemExit(f"the coverage run stopped (pytest exit status {run.returncode}); no map written")
    import coverage
    data = coverage.CoverageData(str(worker.dir / ".coverage-map"))
    data.read()
    out = {}
    for path in data.measured_files():
        rel = Path(path).resolve().relative_to(worker.dir.resolve()).as_posix()
        counts = out.setdefault(rel, {})
        for contexts in data.contexts_by_lineno(path).values():
            for test in contexts:  # a test file's path (tools/coverage_contexts.py), or "" outside tests
                if test:
                    counts[test] = counts.get(test, 0) + 1
    return out


def imported_sources(tests, root=ROOT):
    """For each test file, the package's source files it imports by name
    (``import tinygrad_bn.x``, ``from tinygrad_bn.x import y``, where y may itself be
    a module). Coverage credits a module's import-time lines to no test, so a test
    that only reads a module's constants would not be mapped to it otherwise."""
    import ast
    known = set(source_files())

    def as_file(module):
        base = module.replace(".", "/")
        for cand in (f"{base}.py", f"{base}/__init__.py"):
            if cand in known:
                return cand
        return None

    out = {}
    for test in sorted(tests):
        found = set()
        for node in ast.walk(ast.parse((root / test).read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found.update(f for f in map(as_file, names) if f and f.split("/")[0] in PACKAGES)
        out[test] = sorted(found)
    return out


def _only_suffix(only):
    """The results file's name part for ``--only``: the paths themselves when short,
    else a hash of them (a file name has at most 255 bytes)."""
    if not only:
        return ""
    joined = "-".join(only).replace("/", "_").replace("*", "x")
    return "-" + (joined if len(joined) <= 80 else "only-" + hashlib.sha256(joined.encode()).hexdigest()[:12])


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--workers", type=int, default=1, help="copies of the checkout run side by side")
    ap.add_argument("--only", nargs="+", help="draw only from files under these paths (or matching these globs)")
    ap.add_argument("--no-confirm", action="store_true", help="do not run the whole suite for survivors")
    ap.add_argument("--resume", action="store_true",
                    help="go on with an earlier run of the same seed (interrupted, or run with --no-confirm)")
    ap.add_argument("--show", metavar="SEED:INDEX", help="print one drawn mutant as a diff")
    ap.add_argument("--report", metavar="RESULTS", help="print the table of a results file (.mutate-cache/runs/...)")
    ap.add_argument("--recheck", metavar="RESULTS", help="run the survivors of a results file again, and its kills by a "
                    "test that fails without a mutant, against the suite as it is now")
    ap.add_argument("--map", action="store_true", help="rebuild tests/mutation_map.json from a coverage run")
    ap.add_argument("--map-tests", nargs="+", metavar="TEST_FILE",
                    help="with --map: run only these test files and change only their entries (new tests)")
    ap.add_argument("--pytest-args", nargs="*", default=[], help="more pytest arguments for the --map run")
    args = ap.parse_args(argv)
    return build_map(args) if args.map else run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
