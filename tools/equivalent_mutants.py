"""Mutants of tools/mutate_sample.py that change no behaviour a test could see,
each with the reason. The sampled run reads this list and counts these
mutants as "equivalent", not as killed or survived.

An entry is (path, operator, line before, line after, reason): the lines as
the run prints them (stripped), so an entry follows its code when lines move
and lapses when the line itself changes. Add one only with a reason a
reviewer can check by reading the line; a mutant that changes only speed or
memory is not equivalent (a benchmark, not a test, should catch it, and the
run counts it as a survivor).
"""

EQUIVALENT = [
]
