"""tests/mutation_map.json says which test files cover each source file, for
the sampled mutation run (tools/mutate_sample.py): every file of the package
must be there with tests that exist, or its mutants would run against nothing
("tests", the whole suite, for a file whose lines run only at import)."""
import fnmatch
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = json.loads((ROOT / "tests" / "mutation_map.json").read_text())["files"]
SOURCES = sorted(p.relative_to(ROOT).as_posix() for pkg in ("tinygrad_bn", "kernels")
                 for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts)


def test_every_source_file_has_tests():
    missing = [f for f in SOURCES if not MAP.get(f)]
    assert not missing, (f"{len(missing)} source files have no tests in tests/mutation_map.json, e.g. "
                         f"{missing[:5]}; rebuild it with: python tools/mutate_sample.py --map")


def test_the_map_names_only_files_that_exist():
    gone = sorted({f for f in MAP if f not in SOURCES}
                  | {t for tests in MAP.values() for t, _ in tests if not (ROOT / t).exists()})
    assert not gone, (f"tests/mutation_map.json names files that do not exist: {gone[:5]}; "
                      "rebuild it with: python tools/mutate_sample.py --map")


def test_every_equivalent_mutant_names_a_line_that_is_there_with_a_reason():
    """tools/equivalent_mutants.py: an entry whose line has changed has lapsed and
    should go (the run would count the new line's mutant again anyway)."""
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    from equivalent_mutants import EQUIVALENT, scope_at
    lapsed, unplaced = [], []
    for path, operator, before, after, reason, *where in EQUIVALENT:
        source = (ROOT / path).read_text()
        at = [n for n, line in enumerate(source.splitlines(), 1) if line.strip() == before]
        assert operator.startswith("core/") and before != after and len(reason) > 20, (path, before)
        if not at:
            lapsed.append(f"{path}: {before}")
        elif len(at) > 1 and not where:  # which of the lines is meant: the run would take the entry for each
            unplaced.append(f"{path}: {before} (lines {at})")
        elif where and where[0] != "*" and not any(fnmatch.fnmatchcase(scope_at(source, n), where[0]) for n in at):
            lapsed.append(f"{path}: {before} in {where[0]}")
    assert not lapsed, f"tools/equivalent_mutants.py names lines that are gone: {lapsed}"
    assert not unplaced, ("tools/equivalent_mutants.py names text on several lines without saying which "
                          f"(give where: a function pattern, or \"*\" for all): {unplaced}")


def test_an_equivalent_mutant_with_a_where_holds_only_there():
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    from equivalent_mutants import scope_at
    from mutate_sample import equivalent_keys, equivalent_reason
    source = (ROOT / "tinygrad_bn/optim/swa_utils.py").read_text()
    lines = [n for n, line in enumerate(source.splitlines(), 1) if line.strip() == "self._get_lr_called_within_step = False"]
    scopes = sorted(scope_at(source, n) for n in lines)
    assert scopes == ["SWALR.__init__", "SWALR.step"]
    key = ("tinygrad_bn/optim/swa_utils.py", "core/ReplaceFalseWithTrue", "self._get_lr_called_within_step = False",
           "self._get_lr_called_within_step = True")
    equivalent = equivalent_keys()
    assert equivalent_reason(equivalent, key, "SWALR.__init__") is not None
    assert equivalent_reason(equivalent, key, "SWALR.step") is None
    assert scope_at("class A:\n    @staticmethod\n    def f():\n        return 1\n\nx = 2\n", 2) == "A.f"
    assert scope_at("class A:\n    @staticmethod\n    def f():\n        return 1\n\nx = 2\n", 6) == ""


def test_a_mutant_also_runs_the_signature_tests_unless_the_whole_suite_runs():
    """A default value on a ``def`` line is read by the signature tests, which run
    none of its file's lines: the map alone would never pick them."""
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    from mutate_sample import SIGNATURE_TESTS, tests_for
    assert SIGNATURE_TESTS and all((ROOT / t).exists() for t in SIGNATURE_TESTS)
    mapped = {"files": {"a.py": [["tests/x.py", 9]], "b.py": [["tests", 0]]}}
    assert tests_for("a.py", mapped) == ["tests/x.py", *SIGNATURE_TESTS]
    assert tests_for("b.py", mapped) == ["tests"]


def test_a_smaller_sample_of_a_seed_is_a_prefix_of_a_larger_one():
    """``--show SEED:INDEX`` draws INDEX + 1 mutants: it names the run's mutant
    only if every count draws the same first ones."""
    import sys
    from collections import namedtuple
    sys.path.insert(0, str(ROOT / "tools"))
    from mutate_sample import draw

    Mutant = namedtuple("Mutant", "path line col operator")
    mutants = [Mutant(f"f{f}.py", line, col, op) for f in range(3) for line in range(40) for col in (0, 4)
               for op in ("a", "b", "c")[: 1 + (line + col) % 3]]
    for seed in (1, 7, 2435548778):
        whole = draw(mutants, 200, seed)
        assert len({(m.path, m.line, m.col) for m in whole}) == 200, "one mutant per site"
        for count in (1, 13, 100):
            assert draw(mutants, count, seed) == whole[:count]
    assert draw(mutants, 50, 1) != draw(mutants, 50, 7)
    assert {m.operator for m in draw(mutants, 240, 3)} == {"a", "b", "c"}


def test_a_mutant_cosmic_ray_cannot_build_counts_as_incompetent_and_stops_nothing():
    """Cosmic Ray enumerates an ExceptionReplacer site at a dotted name in an except
    tuple but fails to build it; the run must go on and leave it out of the score."""
    import sys

    import pytest
    pytest.importorskip("cosmic_ray")  # the mutation extra
    sys.path.insert(0, str(ROOT / "tools"))
    from cosmic_ray.plugins import get_operator
    from mutate_sample import UNBUILDABLE, _mutated_line
    text = "import os.path\ntry:\n    pass\nexcept (os.path.Missing, OSError):\n    pass\n"
    operator = get_operator("core/ExceptionReplacer")()
    got = [_mutated_line(text, operator, k, 4)[1] for k in range(2)]
    assert UNBUILDABLE in got
    assert "except (os.path.Missing, CosmicRayTestingException):" in got


def test_a_run_drawn_from_many_files_gets_a_results_file_name_the_system_takes():
    """--only with many paths names the results file by a hash of them: the paths
    themselves made a name past the 255 bytes a file name may have."""
    from mutate_sample import _only_suffix
    many = [f"tinygrad_bn/optim/lr_scheduler_cyclic_{i}.py" for i in range(12)]
    assert len(f"seed-4294967295{_only_suffix(many)}.jsonl") <= 255
    assert _only_suffix(many) != _only_suffix(many[:-1])  # distinct draws keep distinct files
    assert _only_suffix(["kernels/"]) == "-kernels_" and _only_suffix(None) == _only_suffix([]) == ""


def test_a_file_whose_mutants_survived_before_gets_a_hang_limit_from_those_runs(tmp_path):
    """A mutant that loops forever once took a worker for all of TIME_LIMIT: where an
    earlier run shows how long a file's mapped tests take (a survivor's time), a
    mutant of it gets HANG_FACTOR times the longest, within [MIN_LIMIT, TIME_LIMIT]."""
    import json
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    from mutate_sample import HANG_FACTOR, MIN_LIMIT, TIME_LIMIT, mapped_seconds, time_limit
    runs = [
        {"path": "a.py", "status": "survived", "stage": "mapped", "seconds": 80.0},
        {"path": "a.py", "status": "survived", "stage": "mapped", "seconds": 100.0},
        {"path": "a.py", "status": "killed", "stage": "mapped", "seconds": 500.0},     # -x: a part of the tests
        {"path": "b.py", "status": "survived", "stage": "suite", "seconds": 700.0},    # the whole suite's time
        {"path": "c.py", "status": "survived", "stage": "mapped", "seconds": 10.0},
        {"path": "d.py", "status": "survived", "stage": "mapped", "seconds": 600.0},
    ]
    (tmp_path / "seed-1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs[:3]) + '{"path": "a.p')
    (tmp_path / "seed-2.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs[3:]))
    longest = mapped_seconds(tmp_path)
    assert longest == {"a.py": 100.0, "c.py": 10.0, "d.py": 600.0}
    assert time_limit("a.py", longest) == HANG_FACTOR * 100.0
    assert time_limit("c.py", longest) == MIN_LIMIT
    assert time_limit("d.py", longest) == TIME_LIMIT
    assert time_limit("b.py", longest) == time_limit("e.py", longest) == TIME_LIMIT
    assert MIN_LIMIT < HANG_FACTOR * 100.0 < TIME_LIMIT


def test_a_kill_by_a_test_that_fails_without_the_mutant_does_not_count(monkeypatch):
    """A test that fails on the checkout as it is (one that depends on the machine)
    would kill every mutant that reaches it: a kill counts only when its test passes
    unmutated; a test found failing is deselected from then on, and the mutant runs
    again without it. A hang counts as a kill without that check."""
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    import mutate_sample
    clean = mutate_sample.CleanTests()
    monkeypatch.setattr(mutate_sample, "CLEAN", clean)
    broken, real = "tests/a.py::test_broken[x]", "tests/b.py::test_real"

    class FakeWorker(mutate_sample.Worker):
        def __init__(self, catches):
            self.catches, self.clean_runs, self.runs = catches, [], []

        def pytest(self, targets, scratch, python=None, limit=None):  # the unmutated copy
            self.clean_runs.append(targets)
            return (1 if targets == [broken] else 0), "", 0.1

        def _run_once(self, mutant, tests, confirm, mapped, limit, deselected):
            self.runs.append(list(deselected))
            if broken not in deselected:
                return {"status": "killed", "by": broken}
            if self.catches:
                return {"status": "killed", "by": "error: " + real}
            return {"status": "survived", "by": ""}

    w = FakeWorker(catches=True)
    r = w.run(None, ["tests/a.py"], confirm=True)
    assert r["status"] == "killed" and r["by"] == "error: " + real and r["deselected"] == [broken]
    assert w.runs == [[], ["--deselect", broken]] and w.clean_runs == [[broken], [real]]
    assert clean.failing == [broken]
    w = FakeWorker(catches=False)  # the next mutant: the broken test is left out from the start, no more checks
    r = w.run(None, ["tests/a.py"], confirm=True)
    assert r["status"] == "survived" and r["deselected"] == [broken]
    assert w.runs == [["--deselect", broken]] and w.clean_runs == []
    w = FakeWorker(catches=True)  # a kill by a test known to pass is not checked again
    assert w.run(None, ["tests/a.py"], confirm=True)["status"] == "killed" and w.clean_runs == []
    assert clean.check(w, "timed out after 240 s") and clean.check(w, "pytest exit status 3") and w.clean_runs == []


def test_a_kill_whose_test_deselection_does_not_remove_stands(monkeypatch):
    """A failing test whose id --deselect does not match (say, cut short in pytest's
    summary line) kills the mutant again: the kill stands instead of a loop."""
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    import mutate_sample
    monkeypatch.setattr(mutate_sample, "CLEAN", mutate_sample.CleanTests())
    cut = "tests/a.py::test_x[a"

    class FakeWorker(mutate_sample.Worker):
        def __init__(self):
            self.runs = 0

        def pytest(self, targets, scratch, python=None, limit=None):
            return 4, "", 0.1  # the id selects nothing: pytest's usage error

        def _run_once(self, mutant, tests, confirm, mapped, limit, deselected):
            self.runs += 1
            return {"status": "killed", "by": cut}

    w = FakeWorker()
    r = w.run(None, ["tests/a.py"], confirm=True)
    assert r["status"] == "killed" and r["by"] == cut and w.runs == 2
