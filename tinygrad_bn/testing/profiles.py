"""Hypothesis profiles for tinygrad_bn's suite and a user's own.

    # conftest.py
    from tinygrad_bn.testing import load_profile
    load_profile()          # HYPOTHESIS_PROFILE = ci (default) | dev | thorough

ci:        derandomized (the same examples every run), 30 examples per test,
           no deadline (the first call of a kernel may compile it).
dev:       10 random examples per test, for a fast edit-run loop.
thorough:  500 random examples per test, for a long run before a release.
"""
import os

from hypothesis import HealthCheck, settings

PROFILES = {
    "ci": dict(derandomize=True, max_examples=30, deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
    "dev": dict(max_examples=10, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
    "thorough": dict(max_examples=500, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
}


def register_profiles():
    # each on Hypothesis' defaults: with no parent a profile inherits whatever is loaded now,
    # so dev and thorough registered after ci would be derandomized ("the same examples every run")
    base = settings.get_profile("default")
    for name, kw in PROFILES.items():
        settings.register_profile(f"{name}", parent=base, **kw)


def load_profile(name=None):
    """Register the profiles and load ``name``, or $HYPOTHESIS_PROFILE, or "ci"."""
    register_profiles()
    name = name or os.environ.get("HYPOTHESIS_PROFILE", "ci")
    if name not in PROFILES:
        raise ValueError(f"load_profile: unknown Hypothesis profile {name!r}; choose one of {sorted(PROFILES)}")
    settings.load_profile(name)
    return name
