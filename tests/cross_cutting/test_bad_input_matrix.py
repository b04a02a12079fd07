"""The bad-input matrix (bad_input_cases.py) over every public entry point: each
case must end in a clear error, never a crash, a hang, silence or changed state.
``python tests/cross_cutting/bad_input_matrix.py`` prints the same counts and every failure."""
import os

import pytest

import tinygrad_bn as tg

from bad_input_cases import all_cases
from bad_input_matrix import judge, run_matrix, summary

CASES = all_cases()


def test_every_bad_input_gets_a_clear_error_and_changes_nothing(capsys):
    results = run_matrix(CASES)
    counts = summary(results)
    entries = {c.entry for c, *_ in results}
    with capsys.disabled():
        print(f"\nbad-input matrix: {len(results)} cases over {len(entries)} entry points: "
              + ", ".join(f"{k} {v}" for k, v in counts.items()))
    failures = [f"[{verdict}] {case.name}: {detail}" for case, verdict, detail, _ in results if verdict != "clear"]
    assert not failures, "\n".join(failures)
    assert len(results) > 900 and len(entries) > 200  # the matrix covers the API, not a sample of it


@pytest.mark.parametrize("name", ["F.relu: input is None", "nn.BatchNorm1d.forward: an empty batch",
                                  "tg.load: a decompression bomb"])
def test_the_judge_fails_what_it_should(name, monkeypatch, tmp_path):
    """The judge itself: a planted defect in a case is reported, not passed."""
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the cases write their files
    case = next(c for c in CASES if c.name == name)
    assert judge(case)[0] == "clear"
    call, watched = case.make()
    quiet = type(case)(case.entry, case.bad, lambda: ((lambda: None), watched), case.says)
    assert judge(quiet)[0] == "accepted"
    vague = type(case)(case.entry, case.bad, lambda: ((lambda: _raise(ValueError("bad input"))), []), case.says)
    assert judge(vague)[0] == "unclear"
    internal = type(case)(case.entry, case.bad, lambda: ((lambda: None.missing), []), case.says)
    assert judge(internal)[0] == "unclear"  # AttributeError is never a clear error


def test_the_judge_sees_changed_state():
    case = next(c for c in CASES if c.name == "Tensor.add_: on a leaf that requires grad")

    def make():
        call, watched = case.make()
        x = watched[0]

        def change_then_raise():
            x._write("fill", 7.0)
            call()
        return change_then_raise, watched
    assert judge(type(case)(case.entry, case.bad, make, case.says))[0] == "state"


def test_the_judge_sees_a_changed_global_setting():
    case = next(c for c in CASES if c.name == "tg.set_printoptions: a negative precision")

    def make():
        call, watched = case.make()

        def change_then_raise():
            tg.set_printoptions(edgeitems=1)
            call()
        return change_then_raise, watched
    try:
        verdict, detail = judge(type(case)(case.entry, case.bad, make, case.says))
    finally:
        tg.set_printoptions(profile="default")
    assert verdict == "state" and "global setting" in detail


def test_a_crash_in_a_case_is_counted_not_suffered():
    from bad_input_matrix import Case, run_isolated, run_matrix

    def abort_quietly():
        import faulthandler
        faulthandler.disable()  # (no traceback dump from the planted crash)
        os.abort()

    crash = Case("os.abort", "a crash", lambda: (abort_quietly, []))
    assert run_isolated(crash)[0] == "crash"
    hang = Case("time.sleep", "a hang", lambda: ((lambda: __import__("time").sleep(30)), []))
    assert run_isolated(hang, seconds=1)[0] == "hang"
    # in a run of cases, the child that crashed is replaced and the cases after it are judged
    clear = next(c for c in CASES if c.name == "F.relu: input is None")
    exits = Case("os._exit", "an exit", lambda: ((lambda: os._exit(3)), []))
    results = run_matrix([clear, crash, clear, exits, clear])
    assert [verdict for _, verdict, *_ in results] == ["clear", "crash", "clear", "crash", "clear"]
    assert "SIGABRT" in results[1][2] and "status 3" in results[3][2]


def _raise(exc):
    raise exc
