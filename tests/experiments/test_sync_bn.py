"""sync-bn in its --quick form under mpiexec -n 2: SyncBN + DDP takes the same
steps as one process at the global batch (same weights after the first step,
the same accuracy at the end), the JSON holds what the README and the verdicts
need, the summary's numbers come from it, only rank 0 writes; and without MPI
the experiment says so and returns results marked skipped."""
import json
import math
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_bn import experiments
from tinygrad_bn.experiments import sync_bn
from tinygrad_bn.experiments.common import QUICK_OUTCOME
from json_numbers import numbers_in
from quick_runs import quick_run

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))


def _mpi():
    exe, why = sync_bn._mpiexec()
    if exe is None:
        return None, why
    probe = subprocess.run([exe, "-n", "2", sys.executable, "-c", "from mpi4py import MPI; MPI.COMM_WORLD.Barrier()"],
                           capture_output=True, text=True, timeout=60, check=False)
    if probe.returncode != 0:
        return None, f"mpiexec -n 2 cannot start here: {probe.stderr.strip()[:200]}"
    return exe, ""


MPIEXEC, WHY_NOT = _mpi()
needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason=f"MPI cannot start: {WHY_NOT}")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The quick run as the runner starts it from one process: under mpiexec -n 2, as a subprocess."""
    run = quick_run(tmp_path_factory, "sync-bn")
    return run.out, run.result, json.loads((run.out / "sync-bn.json").read_text())


def _runs(doc, variant):
    return sorted((r for r in doc["runs"] if r["variant"] == variant), key=lambda r: (r["per_process_batch"], r["seed"]))


@needs_mpi
def test_syncbn_with_ddp_takes_the_steps_of_one_process_at_the_global_batch(quick):
    _, _, doc = quick
    sync, ref = _runs(doc, "syncbn"), _runs(doc, "global")
    assert len(sync) == len(ref) == 2
    for s, g in zip(sync, ref):
        assert (s["seed"], s["per_process_batch"]) == (g["seed"], g["per_process_batch"])
        assert s["steps"] == g["steps"] == 1000 // 8  # quick: 1000 digits in global batches of 2 x 4
        diff = g["max_abs_diff_to_syncbn"]
        assert diff["after_step_1"]["weights"] < 1e-6 and diff["after_step_1"]["running_stats"] < 1e-5  # rounding
        assert diff["at_end"]["weights"] < 1e-3 and diff["at_end"]["running_stats"] < 1e-2
        assert s["final_acc"] == g["final_acc"]  # the same 1000 held-out answers
        assert math.isclose(s["loss"][0], g["loss"][0], rel_tol=1e-4)
    # the other variants are different models: their accuracies are not all the reference's
    assert [r["final_acc"] for r in _runs(doc, "bn")] != [r["final_acc"] for r in ref]


@needs_mpi
def test_the_json_records_the_design_every_run_setup_and_the_verdicts(quick):
    out, returned, doc = quick
    d = doc["design"]
    assert d["world_size"] == 2 and d["per_process_batches"] == [4] and d["global_batches"] == [8]
    assert d["momentum"] == 0.9 and d["lr"] == {"8": 0.05 * 8 / 64} and "mpiexec -n 2" in d["launch"]
    assert doc["quick"] is True and doc["seeds"] == 2 and doc["epochs"] == 1 and doc["seconds"] > 0
    assert sorted({r["variant"] for r in doc["runs"]}) == ["bn", "global", "gn", "syncbn"]
    assert len(doc["runs"]) == 4 * 2
    for r in doc["runs"]:
        s = r["setup"]
        assert s["momentum"] == 0.9 and s["lr"] == 0.05 * 8 / 64 and s["global_batch"] == 8 and s["epochs"] == 1
        # each run's setup says how that variant ran: one process, or two under DistributedDataParallel
        shuffle = "DistributedSampler(shuffle=True, seed=seed, drop_last=True{}), set_epoch(epoch)"
        if r["variant"] == "global":
            assert s["world_size"] == 1 and s["batch_size"] == s["per_process_batch"] == 8
            assert s["shuffle"] == shuffle.format(", num_replicas=1") and s["gradients"] == "one process"
            assert s["init"] == "mlp after manual_seed(seed)"
        else:
            assert s["world_size"] == 2 and s["batch_size"] == s["per_process_batch"] == 4
            assert s["shuffle"] == shuffle.format("") and "DistributedDataParallel" in s["gradients"]
            assert s["init"] == "mlp after manual_seed(seed); DDP copies rank 0's"
        assert s["norm"] == {"bn": "BatchNorm1d", "global": "BatchNorm1d", "syncbn": "SyncBatchNorm",
                             "gn": f"GroupNorm({sync_bn.GROUPS}, features)"}[r["variant"]]
        assert 0.1 < r["final_acc"] <= 1.0 and r["loss"][0] > 0 and not r["diverged"]
    claims = [v["claim"] for v in doc["verdicts"]]
    assert len(claims) == 3 and all(v["outcome"] == QUICK_OUTCOME for v in doc["verdicts"])
    # accuracies on 1,000 held-out digits carry each side's binomial error
    assert all(v["unit"] == "accuracy" and len(v["binomial_se"]) == 2 for v in doc["verdicts"])
    assert any("SyncBN beats per-process BN" in c for c in claims)
    assert any("SyncBN is within noise of one process at the global batch 8" in c for c in claims)
    assert any("GroupNorm beats per-process BN" in c for c in claims)
    match = next(v for v in doc["verdicts"] if "within noise of" in v["claim"])
    assert match["diffs"] == [0.0, 0.0] and match["ci95"] == [0.0, 0.0]
    assert [Path(p).name for p in returned["plots"]] == ["sync-bn.png"]
    assert (out / "sync-bn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(doc["plot_sha256"]) == {"sync-bn.png"}


@needs_mpi
def test_the_summary_takes_every_number_from_the_json(quick):
    _, _, doc = quick
    text = sync_bn.summary(doc)
    assert 3 <= len(re.findall(r"[.!?](?:\s|$)", text)) <= 6
    for variant in sync_bn.VARIANTS:
        assert f"{100 * doc['accuracy'][variant]['4']['mean']:.1f}%" in text
    for v in doc["verdicts"]:
        if "within noise of" not in v["claim"]:
            assert f"{100 * v['mean_diff']:+.1f} points ({v['outcome']}, {v['wins']} of {v['pairs']} seeds)" in text
    assert "same accuracy on all 2 seeds" in text  # computed: the two runs agree on each seed
    numbers = re.findall(r"\d+(?:\.\d+)?(?:e-\d+)?", text)
    derived = json.dumps(doc)
    for n in numbers:  # every number is a setting or count in the JSON, or one of its values rounded
        assert n in derived or any(n in (f"{100 * x:.1f}", f"{100 * x:.2f}", f"{x:.1g}", f"{x:.2g}")
                                   for x in map(abs, numbers_in(doc))), n



@needs_mpi
def test_inside_an_mpi_job_rank_0_alone_writes_and_prints(tmp_path):
    job = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "tinygrad_bn.experiments", "sync-bn", "--quick",
                          "--seeds", "1", "--out", str(tmp_path), "--no-progress"],
                         capture_output=True, text=True, timeout=300, env=ENV, check=False)
    assert job.returncode == 0, job.stderr[-2000:]
    assert job.stdout.count("SyncBN: small per-process batches") == 1 and job.stdout.count("wrote ") == 1
    assert "sync-bn:" not in job.stderr and "it/s" not in job.stderr  # --no-progress: no bar on any rank
    assert sorted(os.listdir(tmp_path)) == ["sync-bn.json", "sync-bn.png"]  # no temporaries from rank 1
    doc = json.loads((tmp_path / "sync-bn.json").read_text())
    assert doc["design"]["launch"] == "inside the caller's MPI job of 2 processes" and doc["seeds"] == 1
    ref, sync = _runs(doc, "global")[0], _runs(doc, "syncbn")[0]
    assert ref["final_acc"] == sync["final_acc"] and ref["rank"] == 0


def test_without_mpi_it_says_what_to_do_and_returns_skipped_results(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sync_bn, "_mpiexec", lambda: (None, "mpi4py is not installed"))
    r = experiments.run("sync-bn", out=str(tmp_path), quick=True, progress=False)
    printed = capsys.readouterr().out
    assert ("sync-bn needs MPI: pip install 'tinygrad_bn[mpi]' and run mpiexec -n 4 tinygrad-bn experiment sync-bn"
            in printed)
    doc = json.loads((tmp_path / "sync-bn.json").read_text())
    assert doc["skipped"] == r["skipped"] == "mpi4py is not installed"
    assert doc["runs"] == [] and doc["verdicts"] == [] and r["plots"] == []
    assert sync_bn.summary(doc).startswith("Not run: mpi4py is not installed")


def _fake_mpiexec(tmp_path, body):
    """A stand-in for mpiexec: a script that gets mpiexec's arguments."""
    path = tmp_path / "fake-mpiexec"
    path.write_text(f"#!{sys.executable}\nimport sys, json\nargs = sys.argv[1:]\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_an_mpiexec_that_cannot_start_a_job_skips_but_a_failed_job_raises(tmp_path, monkeypatch, capsys):
    cannot = _fake_mpiexec(tmp_path, "sys.stderr.write('no network interface\\n'); sys.exit(7)")
    monkeypatch.setattr(sync_bn, "_mpiexec", lambda: (cannot, ""))
    r = sync_bn.run(str(tmp_path), seeds=1, epochs=1, progress=False, quick=True)
    assert r["skipped"].startswith("mpiexec -n 2 could not start a job (exit status 7)") and r["runs"] == []
    # mpiexec's own words, as text
    assert r["skipped"].endswith("(exit status 7): no network interface")
    assert "sync-bn needs MPI" in capsys.readouterr().out
    # a job whose rank 0 got going (the result file says "started") and then failed is an error, not a skip
    failed = _fake_mpiexec(tmp_path, "path = next(a for a in args if a.endswith('rank0.json'))\n"
                                     "json.dump({'state': 'started'}, open(path, 'w'))\n"
                                     "sys.stderr.write('rank 1 failed with ValueError\\n'); sys.exit(1)")
    monkeypatch.setattr(sync_bn, "_mpiexec", lambda: (failed, ""))
    with pytest.raises(RuntimeError,
                       match=r"job under mpiexec -n 2 failed \(exit status 1\):\nrank 1 failed with ValueError$"):
        sync_bn.run(str(tmp_path), seeds=1, epochs=1, progress=False, quick=True)


def test_an_mpiexec_the_system_cannot_run_skips_with_the_systems_reason(tmp_path, monkeypatch):
    not_executable = tmp_path / "mpiexec"
    not_executable.write_text("#!/bin/sh\n")  # no execute bit: starting it raises PermissionError
    monkeypatch.setattr(sync_bn, "_mpiexec", lambda: (str(not_executable), ""))
    r = sync_bn.run(str(tmp_path), seeds=1, epochs=1, progress=False, quick=True)
    assert r["skipped"].startswith("mpiexec could not start: [Errno 13] Permission denied") and r["runs"] == []


def test_the_process_count_comes_from_the_environment_and_quick_uses_two(monkeypatch):
    monkeypatch.setenv(sync_bn.PROCESSES_ENV, "4")
    assert sync_bn.processes(quick=False) == 4 and sync_bn.processes(quick=True) == 2
    monkeypatch.setenv(sync_bn.PROCESSES_ENV, "1")
    with pytest.raises(ValueError, match="must be a whole number of processes >= 2, got '1'"):
        sync_bn.processes(quick=False)


def test_differences_take_the_weights_and_the_running_statistics_apart():
    mine = {"0.weight": np.zeros(3), "0.bias": np.zeros(2), "1.running_mean": np.zeros(3), "1.running_var": np.ones(3)}
    theirs = {"0.weight": np.array([0.0, -0.25, 0.0]), "0.bias": np.array([0.125, 0.0]),
              "1.running_mean": np.array([0.0, 0.0, 2.0]), "1.running_var": np.array([1.0, 1.5, 1.0])}
    assert sync_bn._differences(mine, theirs) == {"weights": 0.25, "running_stats": 2.0}


def test_a_full_run_trains_on_every_training_digit_and_a_quick_one_on_the_first_thousand():
    """The bundled split is 4,000 training and 1,000 held-out digits: a full run trains on the
    4,000 (not on as many as are held out), --quick on 1,000."""
    from tinygrad_bn.experiments import common
    x_train, y_train, x_test, y_test = common.data()
    assert (len(x_train), len(y_train), len(x_test), len(y_test)) == (4000, 4000, 1000, 1000)
    assert sync_bn.training_digits(False) == 4000
    assert sync_bn.training_digits(True) == sync_bn.QUICK_DIGITS == 1000


class _BarMade(Exception):
    """Raised by the stand-in bar as it is made: the run stops before any training."""


@pytest.mark.parametrize("world", [2, 3])
def test_in_an_mpi_job_rank_0_alone_shows_the_bar_and_the_reference_runs_are_shared_out(monkeypatch, world):
    """Every process runs the distributed variants of every (seed, batch); the
    one-process reference runs are shared out, each to one process: so the bars'
    totals add up to world x the variants' runs + the references, and only rank 0
    draws its bar (the others would print over it)."""
    from tinygrad_bn import distributed as dist
    made = []

    class Bar:
        def __init__(self, total, name, enabled=True):
            made.append((total, name, enabled))
            raise _BarMade

    monkeypatch.setattr(sync_bn, "Progress", Bar)
    monkeypatch.setattr(dist, "world_size", lambda: world)
    seeds = 3
    for progress in (True, False):
        made.clear()
        for rank in range(world):
            monkeypatch.setattr(dist, "init", lambda rank=rank: rank)
            with pytest.raises(_BarMade):
                sync_bn._distributed(seeds=seeds, epochs=1, quick=True, progress=progress)
        assert [enabled for _, _, enabled in made] == [progress] + [False] * (world - 1)
        references = seeds * len(sync_bn.QUICK_PER_PROCESS)
        assert sum(total for total, _, _ in made) == world * references * len(sync_bn.DISTRIBUTED) + references
        assert {name for _, name, _ in made} == {"sync-bn"}


@pytest.mark.parametrize("missing", ["--seeds", "--epochs"])
def test_the_mpi_worker_refuses_a_command_line_without_seeds_or_epochs(missing, tmp_path, capsys):
    """The worker's arguments come from _launch; a command line without one of them
    stops in argparse (exit status 2, naming it), before MPI is touched."""
    argv = [str(tmp_path / "r.json"), "--seeds", "1", "--epochs", "1"]
    at = argv.index(missing)
    del argv[at:at + 2]
    with pytest.raises(SystemExit) as stop:
        sync_bn._worker(argv)
    assert stop.value.code == 2 and f"the following arguments are required: {missing}" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("returncode, doc, outcome", [
    (0, {"state": "done", "design": {}}, "results"), (0, {"state": "started"}, "failed"),
    (1, {"state": "done", "design": {}}, "failed"), (0, None, "skipped"), (3, None, "skipped")])
def test_the_runner_takes_results_only_from_a_job_that_exited_0_and_finished(monkeypatch, capsys, returncode, doc,
                                                                            outcome):
    """Rank 0 writes "started" once it joins and "done" with the results; the runner
    returns them only after exit status 0 and "done". A job that ran but did not finish,
    or finished and then failed, is an error; one no rank joined means MPI cannot run."""
    monkeypatch.setattr(sync_bn, "_mpiexec", lambda: ("mpiexec", ""))

    def job(cmd, **kw):
        if doc is not None:
            with open(cmd[6], "w") as f:
                json.dump(doc, f)
        return subprocess.CompletedProcess(cmd, returncode, stdout="", stderr="a rank's error")

    monkeypatch.setattr(sync_bn.subprocess, "run", job)
    if outcome == "failed":
        with pytest.raises(RuntimeError, match=rf"the job under mpiexec -n \d+ failed \(exit status {returncode}\)"):
            sync_bn._launch(1, 1, True, False)
        return
    found = sync_bn._launch(1, 1, True, False)
    if outcome == "results":
        assert found["state"] == "done" and found["design"]["launch"].startswith("started by the runner as mpiexec")
    else:
        assert found["skipped"].startswith(f"mpiexec -n 2 could not start a job (exit status {returncode})")
