"""The README's experiments section, written from results: every number in it
comes from the JSON files of one run of the experiments (and a second run at
more seeds, for the stability column), so it cannot go stale without a test
noticing.

    python -m tinygrad_bn.experiments.report                 # rewrite README.md's section
    python -m tinygrad_bn.experiments.report --check         # exit 1 if it differs

Defaults: results in ``docs/experiments`` (5 seeds, with the PNGs the README
shows) and ``docs/experiments/seeds10`` (10 seeds, JSON only). A verdict that
differs between the two runs is reported as not established.
"""
import argparse
import hashlib
import json
import math
import os
import sys

from . import EXPERIMENTS, module
from .common import QUICK_OUTCOME, counted, join_words

START = "<!-- experiments: written by python -m tinygrad_bn.experiments.report; do not edit by hand -->"
END = "<!-- experiments: end -->"
RESULTS = os.path.join("docs", "experiments")
STABILITY = os.path.join(RESULTS, "seeds10")


def load(folder):
    """``{name: results}`` for every experiment with a JSON in ``folder``."""
    found = {}
    for name in EXPERIMENTS:
        path = os.path.join(folder, f"{name}.json")
        if os.path.exists(path):
            with open(path) as f:
                found[name] = json.load(f)
    return found


def stale_plots(folder, results):
    """The PNGs in ``folder`` that are not the bytes their JSON names (or are missing)."""
    stale = []
    for name, doc in results.items():
        for png, digest in doc.get("plot_sha256", {}).items():
            path = os.path.join(folder, png)
            if not os.path.exists(path):
                stale.append(f"{png} (missing)")
                continue
            with open(path, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != digest:
                    stale.append(f"{png} (not the plot {name}.json was written with)")
    return stale


def _amount(value, unit):
    if value is None or not math.isfinite(value):
        return "-"
    if unit == "accuracy":
        return f"{100 * value:+.1f}"
    return f"{value:+.3g}"


def _unit_words(verdict):
    unit = verdict.get("unit", "")
    return {"accuracy": "points", "": ""}.get(unit, unit)


def outcome_with_stability(verdict, other):
    """The outcome, or "not established" when the run at more seeds disagrees."""
    here = verdict["outcome"]
    if other is None:
        return f"{here} (not rerun)"
    if other["outcome"] != here:
        return f"**not established** ({verdict['pairs']} seeds: {here}; {other['pairs']}: {other['outcome']})"
    return f"**{here}**"


def verdict_rows(doc, more_seeds):
    """A Markdown table of ``doc``'s verdicts beside the same claims at more seeds."""
    others = {v["claim"]: v for v in (more_seeds or {}).get("verdicts", [])}
    seeds_more = (more_seeds or {}).get("seeds")
    lines = ["| claim | verdict | difference [95% CI] | seeds won | " +
             (f"at {seeds_more} seeds |" if seeds_more else "at more seeds |"),
             "|---|---|---|---|---|"]
    for v in doc["verdicts"]:
        low, high = v["ci95"]
        unit = _unit_words(v)
        diff = f"{_amount(v['mean_diff'], v.get('unit'))} [{_amount(low, v.get('unit'))}, " \
               f"{_amount(high, v.get('unit'))}]" + (f" {unit}" if unit else "")
        other = others.get(v["claim"])
        if other is None:
            again = "not rerun"
        else:
            o_low, o_high = other["ci95"]
            again = f"{other['outcome']}, {_amount(other['mean_diff'], other.get('unit'))} " \
                    f"[{_amount(o_low, other.get('unit'))}, {_amount(o_high, other.get('unit'))}]"
        if v.get("binomial_se"):  # the test set's own sampling error of each side's mean accuracy
            diff += " (each accuracy &plusmn;" + " / ".join(f"{100 * se:.1f}" for se in v["binomial_se"]) + ")"
        lines.append(f"| {v['claim']} | {outcome_with_stability(v, other)} | {diff} | "
                     f"{v['wins']} of {v['pairs']} | {again} |")
    return "\n".join(lines)


def _problems(name, doc, more):
    problems = []
    if doc.get("quick") or any(v["outcome"] == QUICK_OUTCOME for v in doc.get("verdicts", [])):
        problems.append(f"{name}: the results are from a --quick run")
    if more is not None and more.get("quick"):
        problems.append(f"{name}: the rerun at more seeds is a --quick run")
    return problems


def render(results_folder=RESULTS, stability_folder=STABILITY, image_prefix="docs/experiments"):
    """The experiments section (between the markers) from the two folders."""
    results, again = load(results_folder), load(stability_folder) if stability_folder else {}
    problems = [p for name, doc in results.items() for p in _problems(name, doc, again.get(name))]
    if problems:
        raise ValueError("report: " + "; ".join(problems))
    seeds = sorted({doc["seeds"] for doc in results.values()})
    more = sorted({doc["seeds"] for doc in again.values()})
    timed = {name: doc["seconds"] for name, doc in results.items()}
    parts = [START, "",
             f"The numbers and pictures below are from one run of every experiment at {join_words(seeds) or 'no'} seeds "
             f"(`docs/experiments/*.json`, which also record every hyperparameter, the package version and "
             f"commit, the library versions and thread counts), with each verdict checked against a second run "
             f"at {join_words(more) or 'more'} seeds (`docs/experiments/seeds10/`). "
             f"At {join_words(seeds) or 'no'} seeds the runs took {_duration(sum(timed.values()))} in all on a 2-core machine "
             f"({', '.join(f'{name} {_duration(s)}' for name, s in timed.items())}).", ""]
    for name in EXPERIMENTS:
        if name not in results:
            continue
        doc = results[name]
        if doc.get("skipped"):
            parts += [f"**{name}**: not run ({doc['skipped']}).", ""]
            continue
        mod = module(name)
        epochs = counted(doc['epochs'], 'epoch')
        parts += [f"**{name}** ({doc['title']}; {doc['seeds']} seeds, {epochs}): "
                  + mod.summary(doc).strip(), "", verdict_rows(doc, again.get(name)), ""]
        for png in doc.get("plot_sha256", {}):
            parts += [f'<img src="{image_prefix}/{png}" width="600" alt="{png[:-4]}">', ""]
    parts.append(END)
    return "\n".join(parts)



def _duration(seconds):
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def section_of(text):
    """The experiments section of a README's text (markers included), or None."""
    if START not in text or END not in text:
        return None
    start = text.index(START)
    return text[start:text.index(END, start) + len(END)]


def update(readme_path, section):
    with open(readme_path) as f:
        text = f.read()
    old = section_of(text)
    if old is None:
        raise ValueError(f"report: {readme_path} has no experiments section; put the two lines\n{START}\n{END}\n"
                         "where it belongs")
    with open(readme_path, "w") as f:
        f.write(text.replace(old, section))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tinygrad_bn.experiments.report", description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default=RESULTS, help="the run the README shows (default: %(default)s)")
    p.add_argument("--again", default=STABILITY, help="the rerun at more seeds (default: %(default)s)")
    p.add_argument("--readme", default="README.md")
    p.add_argument("--check", action="store_true", help="exit 1 if the README's section or a PNG is stale")
    args = p.parse_args(argv)
    section = render(args.results, args.again)
    stale = stale_plots(args.results, load(args.results))
    if args.check:
        with open(args.readme) as f:
            current = section_of(f.read())
        if current != section or stale:
            print("the README's experiments section is stale" if current != section else "", *stale, sep="\n")
            return 1
        print("the README's experiments section matches the results")
        return 0
    update(args.readme, section)
    print(f"wrote the experiments section of {args.readme}" + (f"; stale plots: {', '.join(stale)}" if stale else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
