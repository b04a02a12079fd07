"""The Hypothesis profiles are what the README says: ``ci`` derandomized with 30
examples, ``dev`` 10 random ones, ``thorough`` 500 random ones, none with a deadline
(the first call of a kernel may compile it) and none failing a test for a slow or large
draw; ``load_profile()`` takes $HYPOTHESIS_PROFILE and ``ci`` without it, and refuses an
unknown name listing the known ones. ``tinygrad_bn.testing`` loads ``strategies`` on
first use and has no other lazy names."""
import pytest
from conftest import PROFILE
from hypothesis import HealthCheck, settings

from tinygrad_bn import testing
from tinygrad_bn.testing import load_profile

DOCUMENTED = {"ci": (30, True), "dev": (10, False), "thorough": (500, False)}


@pytest.fixture
def restore_profile():
    yield
    load_profile(PROFILE)


@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_each_profile_as_documented(name, restore_profile):
    assert load_profile(name) == name
    s = settings.get_profile(name)
    assert (s.max_examples, s.derandomize) == DOCUMENTED[name]
    assert s.deadline is None
    assert set(s.suppress_health_check) >= {HealthCheck.too_slow, HealthCheck.data_too_large}
    assert settings().max_examples == DOCUMENTED[name][0]


@pytest.mark.parametrize("before", list(DOCUMENTED))
@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_a_profile_is_the_same_whichever_was_loaded_before(name, before, restore_profile):
    """dev and thorough draw random examples even after ci (derandomized) was loaded, and only ci prints
    the reproduction blob: no profile inherits the settings of the one loaded when it was registered."""
    load_profile(before)
    load_profile(name)
    s = settings()
    assert (s.max_examples, s.derandomize, s.print_blob) == DOCUMENTED[name] + (name == "ci",)


def test_ci_prints_the_blob_to_reproduce_a_failure():
    assert settings.get_profile("ci").print_blob


@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_the_environment_variable_chooses_the_profile(name, monkeypatch, restore_profile):
    monkeypatch.setenv("HYPOTHESIS_PROFILE", name)
    assert load_profile() == name
    assert settings().max_examples == DOCUMENTED[name][0]
    other = "dev" if name != "dev" else "thorough"
    assert load_profile(other) == other  # a name given wins over the variable


def test_ci_is_the_default(monkeypatch, restore_profile):
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    load_profile("dev")
    assert load_profile() == "ci" and settings().derandomize and settings().max_examples == 30


def test_an_unknown_profile_is_refused_with_the_choices(monkeypatch, restore_profile):
    with pytest.raises(ValueError, match=r"^load_profile: unknown Hypothesis profile 'fast'; "
                                         r"choose one of \['ci', 'dev', 'thorough'\]$"):
        load_profile("fast")
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "quick")
    with pytest.raises(ValueError, match="unknown Hypothesis profile 'quick'"):
        load_profile()


def test_the_namespace_loads_strategies_lazily_and_nothing_else():
    assert testing.strategies.__name__ == "tinygrad_bn.testing.strategies"
    assert hasattr(testing.strategies, "normalization_inputs")
    with pytest.raises(AttributeError):
        getattr(testing, "no_such_tool")  # noqa: B009
    assert not hasattr(testing, "shapes")
    assert set(testing.__all__) == {"gradcheck", "gradgradcheck", "check_grads", "GradcheckError", "load_profile",
                                    "strategies"}
    assert all(hasattr(testing, name) for name in testing.__all__)
