"""Module attribution: which module's forward is running, for observers that
label tape entries (the Tape, anomaly mode). ``Module.__call__`` pushes itself
here; the engine never looks."""

stack: list = []  # modules whose forward is running, innermost last


def current_module():
    return stack[-1] if stack else None
