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
