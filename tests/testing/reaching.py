"""Whether a strategy can draw an example with a property: a derandomized search of
Hypothesis (the same examples every run, no shrinking)."""
from hypothesis import Phase, find, settings
from hypothesis.errors import NoSuchExample


def reaches(strategy, holds, max_examples=300):
    """Whether ``strategy`` draws an example for which ``holds`` is true within ``max_examples``."""
    try:
        find(strategy, holds, settings=settings(max_examples=max_examples, database=None, derandomize=True,
                                                phases=[Phase.generate]))
        return True
    except NoSuchExample:
        return False
