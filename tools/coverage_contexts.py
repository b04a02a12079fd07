"""A pytest plugin for ``tools/mutate_sample.py --map``: under ``coverage run``,
label what each test executes with the test's file, so the map can say which
test files cover which source lines. (Coverage's own ``test_function`` context
follows function names, and Hypothesis runs every property test inside a
function of its own called ``test_function``.)"""
import coverage


def _switch(item):
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(item.nodeid.split("::")[0])


def pytest_runtest_setup(item):
    _switch(item)


def pytest_runtest_teardown(item):
    _switch(item)
