"""Inside an MPI job every rank runs sync-bn, and rank 0 alone writes: another
rank's results come back marked ``written_by_rank_0`` (or, with a runner that
would write them, its process ends with status 0), and ``experiments.run``
writes and prints nothing for results so marked. Checked without MPI."""
import types

import pytest

from tinygrad_bn import experiments
from tinygrad_bn.experiments import sync_bn


def test_another_ranks_results_are_marked_and_carry_no_verdicts_or_plots():
    found = {"runs": [{"seed": 0}], "design": {"world_size": 2}, "run_seconds": 1.0}
    r = sync_bn._other_rank(found)
    assert r == {**found, "written_by_rank_0": True, "verdicts": [], "plots": []}


def test_with_a_runner_that_would_write_them_another_rank_ends_its_process(monkeypatch):
    monkeypatch.setattr(experiments, "RANK_ZERO_WRITES", False)
    with pytest.raises(SystemExit) as stop:
        sync_bn._other_rank({"runs": []})
    assert stop.value.code == 0


def test_the_runner_writes_and_prints_nothing_for_results_rank_0_writes(monkeypatch, tmp_path):
    mod = types.SimpleNamespace(TITLE="t", DEFAULT_EPOCHS=1,
                                run=lambda out, **kw: {"written_by_rank_0": True, "verdicts": [], "plots": []})
    monkeypatch.setattr(experiments, "module", lambda name: mod)
    monkeypatch.setattr(experiments, "environment", dict)
    lines = []
    r = experiments.run("sync-bn", out=str(tmp_path / "out"), quick=True, progress=False, log=lines.append)
    assert r["written_by_rank_0"] is True and "seconds" not in r
    assert lines == [] and list((tmp_path / "out").iterdir()) == []
