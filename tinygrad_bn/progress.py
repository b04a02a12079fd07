"""A dependency-free progress bar for training loops."""
import sys
import time


class ProgressBar:
    """``for batch in ProgressBar(loader, desc="epoch 1"):`` draws
    ``epoch 1 [#####.....] 31/63 2.1 it/s loss 0.41`` on stderr. On a terminal it
    redraws in place; otherwise (CI logs) it prints one line when done."""

    def __init__(self, iterable, desc="", width=30, stream=None):
        self.iterable, self.desc, self.width = iterable, desc, width
        self.stream = stream or sys.stderr
        self.total = len(iterable) if hasattr(iterable, "__len__") else None
        self.postfix = ""
        self.interactive = getattr(self.stream, "isatty", lambda: False)()

    def set_postfix(self, text):
        self.postfix = text

    def _draw(self, n, elapsed, final=False):
        rate = n / elapsed if elapsed > 0 else 0.0
        if self.total:
            filled = int(self.width * n / self.total)
            bar = "#" * filled + "." * (self.width - filled)
            line = f"{self.desc} [{bar}] {n}/{self.total} {rate:.1f} it/s {self.postfix}"
        else:
            line = f"{self.desc} {n} it {rate:.1f} it/s {self.postfix}"
        if self.interactive:
            self.stream.write("\r" + line.ljust(100) + ("\n" if final else ""))
        elif final:
            self.stream.write(line + "\n")
        self.stream.flush()

    def __iter__(self):
        start = last = time.perf_counter()
        n = 0
        for item in self.iterable:
            yield item
            n += 1
            now = time.perf_counter()
            if self.interactive and now - last > 0.1:
                self._draw(n, now - start)
                last = now
        self._draw(n, time.perf_counter() - start, final=True)
