"""A stand-in for an experiment's progress bar (``Progress``): it keeps its total and each
tick's label, and its ``close()`` stops the experiment, so a test sees how many runs were
ticked and how each was named without the work that follows them."""


class StopAtClose(Exception):
    """Raised by the bar's ``close()``: the experiment ends there."""


MADE = []  # every bar made, in order (a test clears it first)


class RecordingBar:
    def __init__(self, total, name, enabled=True):
        self.total, self.name, self.ticks, self.labels = total, name, 0, []
        MADE.append(self)

    def tick(self, label=""):
        self.ticks += 1
        self.labels.append(label)

    def close(self):
        raise StopAtClose


def bar_of_a_stand_in_run(monkeypatch, module, runner, stand_in, seeds, quick):
    """Run experiment ``module`` with ``module.<runner>`` replaced by ``stand_in`` and its
    bar by a RecordingBar, until the bar closes; returns that one bar."""
    import pytest
    monkeypatch.setattr(module, "Progress", RecordingBar)
    monkeypatch.setattr(module, runner, stand_in)
    MADE.clear()
    with pytest.raises(StopAtClose):
        module.run("unused", seeds=seeds, epochs=1, progress=False, quick=quick)
    (bar,) = MADE
    return bar
