"""A figure as the plain data its code set: every axes' titles, labels,
scales, limits and ticks, every line, text, patch and collection with its
data and style, the legends and the shared axes. Two figures drawn by the
same code from the same runs give the same fingerprint; a label on the wrong
panel, a marker size, an alignment or a filter that drops a point change it.

It reads what the plotting code set, never what drawing computes (pixel
positions, tight_layout's margins, rendered tick labels), so it does not move
with fonts or the renderer. Floats keep 9 significant digits, so a sum taken
in another order in another NumPy still matches."""
import hashlib
import json

import numpy as np

INLINE = 12  # longer arrays are stored as their length and a hash of their values


def _num(v):
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    return float(f"{v:.9g}")


def _maybe(v):
    return None if v is None else _array(v) if np.ndim(v) else _num(v)


def _array(values):
    a = np.asarray(values, dtype=float).ravel() if _numeric(values) else None
    if a is None:
        return [str(v) for v in np.asarray(values, dtype=object).ravel()]
    rounded = [_num(v) for v in a]
    if len(rounded) <= INLINE:
        return rounded
    digest = hashlib.sha1(json.dumps(rounded).encode()).hexdigest()[:16]
    return {"n": len(rounded), "sha1": digest}


def _numeric(values):
    try:
        np.asarray(values, dtype=float)
        return True
    except (TypeError, ValueError):
        return False


def _color(c):
    from matplotlib.colors import to_hex
    if c is None or (isinstance(c, str) and c == "none"):
        return "none"
    arr = np.asarray(c, dtype=object)
    if arr.ndim == 2:  # a collection's colours, one row each
        return sorted({to_hex(tuple(row), keep_alpha=True) for row in np.asarray(c, float)})
    return to_hex(c, keep_alpha=True)


def _where(artist, ax):
    """Which coordinates an artist was placed in: the code chooses these."""
    t = artist.get_transform()
    if ax is not None and t == ax.transData:
        return "data"
    if ax is not None and t == ax.transAxes:
        return "axes"
    if t == artist.figure.transFigure:
        return "figure"
    return "other"


def _text(t, ax):
    out = {"text": t.get_text(), "at": _array(t.get_position()), "coords": _where(t, ax),
           "ha": t.get_horizontalalignment(), "va": t.get_verticalalignment(),
           "size": _num(t.get_fontsize()), "weight": str(t.get_fontweight()), "color": _color(t.get_color()),
           "rotation": _num(t.get_rotation()), "visible": t.get_visible()}
    if hasattr(t, "xyann"):  # an annotation: the point it marks and how
        out.update(xy=_array(t.xy), xycoords=str(t.xycoords), textcoords=str(t.anncoords),
                   arrow=t.arrow_patch is not None)
    if t.get_bbox_patch() is not None:
        out["box"] = _color(t.get_bbox_patch().get_facecolor())
    return out


def _line(line):
    return {"label": str(line.get_label()), "x": _array(line.get_xdata()), "y": _array(line.get_ydata()),
            "color": _color(line.get_color()), "ls": str(line.get_linestyle()), "lw": _num(line.get_linewidth()),
            "marker": str(line.get_marker()), "ms": _num(line.get_markersize()),
            "mfc": _color(line.get_markerfacecolor()), "mec": _color(line.get_markeredgecolor()),
            "mew": _num(line.get_markeredgewidth()), "alpha": _maybe(line.get_alpha()), "z": _num(line.get_zorder()),
            "drawstyle": line.get_drawstyle(), "visible": line.get_visible()}


def _patch(p):
    out = {"type": type(p).__name__, "label": str(p.get_label()), "face": _color(p.get_facecolor()),
           "edge": _color(p.get_edgecolor()), "lw": _num(p.get_linewidth()), "alpha": _maybe(p.get_alpha()),
           "hatch": p.get_hatch(), "z": _num(p.get_zorder()), "fill": p.get_fill()}
    if hasattr(p, "get_width") and hasattr(p, "get_x"):  # a bar
        out.update(x=_num(p.get_x()), y=_num(p.get_y()), w=_num(p.get_width()), h=_num(p.get_height()))
    elif hasattr(p, "get_data") and type(p).__name__ == "StepPatch":
        values, edges, baseline = p.get_data()
        out.update(values=_array(values), edges=_array(edges), baseline=_array(np.atleast_1d(baseline)))
    elif hasattr(p, "get_xy"):
        out["xy"] = _array(p.get_xy())
    return out


def _collection(c):
    out = {"type": type(c).__name__, "label": str(c.get_label()), "face": _color(c.get_facecolor()),
           "edge": _color(c.get_edgecolor()), "lw": _array(c.get_linewidth()), "alpha": _maybe(c.get_alpha()),
           "z": _num(c.get_zorder()), "offsets": _array(c.get_offsets())}
    if hasattr(c, "get_sizes") and len(c.get_sizes()):
        out["sizes"] = _array(c.get_sizes())
    if hasattr(c, "get_segments"):
        out["segments"] = _array(np.concatenate([np.ravel(s) for s in c.get_segments()] or [[]]))
    else:
        out["paths"] = _array(np.concatenate([np.ravel(p.vertices) for p in c.get_paths()] or [[]]))
    return out


def _ticks(axis):
    from matplotlib.ticker import FixedFormatter
    fmt, at = axis.get_major_formatter(), axis.get_majorticklocs()
    # the labels the formatter gives the ticks, asked for directly rather than drawn
    labels = list(fmt.seq) if isinstance(fmt, FixedFormatter) else fmt.format_ticks(at)
    return {"at": _array(at), "labels": labels, "minor": type(axis.get_minor_locator()).__name__,
            "visible": bool(axis.get_visible())}


def _legend(legend):
    if legend is None:
        return None
    return {"texts": [t.get_text() for t in legend.get_texts()], "loc": str(legend._loc),
            "ncols": int(legend._ncols), "columnspacing": _num(legend.columnspacing),
            "handlelength": _num(legend.handlelength), "size": _num(legend.get_texts()[0].get_fontsize())
            if legend.get_texts() else None,
            "title": legend.get_title().get_text(), "frame": legend.get_frame_on(),
            # bbox_to_anchor as the code gave it (in its own coordinates), not where it lands in pixels
            "anchor": _array(legend._bbox_to_anchor._bbox.bounds) if legend._bbox_to_anchor is not None else None}


def _axes(ax, index):
    spec = ax.get_subplotspec()
    return {
        "grid": [int(v) for v in spec.get_geometry()] if spec is not None else None,
        # the titles' and labels' font sizes as well: rcParams set them for every figure
        "titles": [[t.get_text(), _num(t.get_fontsize())] for t in (ax._left_title, ax.title, ax._right_title)],
        "xlabel": [ax.get_xlabel(), _num(ax.xaxis.label.get_fontsize())],
        "ylabel": [ax.get_ylabel(), _num(ax.yaxis.label.get_fontsize())],
        "scales": [ax.get_xscale(), ax.get_yscale()],
        "xlim": _array(ax.get_xlim()), "ylim": _array(ax.get_ylim()),
        "xticks": _ticks(ax.xaxis), "yticks": _ticks(ax.yaxis),
        "shared": [sorted(index[id(a)] for a in ax.get_shared_x_axes().get_siblings(ax)),
                   sorted(index[id(a)] for a in ax.get_shared_y_axes().get_siblings(ax))],
        "axis_on": ax.axison, "spines": sorted(k for k, s in ax.spines.items() if s.get_visible()),
        "lines": [_line(line) for line in ax.get_lines()],
        "texts": [_text(t, ax) for t in ax.texts],
        "patches": [_patch(p) for p in ax.patches],
        "collections": [_collection(c) for c in ax.collections],
        "containers": [[type(c).__name__, str(c.get_label()), len(c)] for c in ax.containers],
        "legend": _legend(ax.get_legend()),
    }


def fingerprint(fig):
    """The figure's fingerprint: plain lists, dicts, strings and numbers."""
    import matplotlib
    index = {id(ax): i for i, ax in enumerate(fig.axes)}
    suptitle = fig._suptitle
    return {
        "matplotlib": ".".join(matplotlib.__version__.split(".")[:2]),
        "size": _array(fig.get_size_inches()),
        "suptitle": None if suptitle is None else _text(suptitle, None),
        "texts": [_text(t, None) for t in fig.texts],
        "legends": [_legend(legend) for legend in fig.legends],
        "axes": [_axes(ax, index) for ax in fig.axes],
    }


def first_difference(got, want, where="figure"):
    """The path to the first place two fingerprints differ, and both values there."""
    if isinstance(got, dict) and isinstance(want, dict):
        for key in list(want) + [k for k in got if k not in want]:
            if key not in got or key not in want:
                return f"{where}.{key}", got.get(key, "(missing)"), want.get(key, "(missing)")
            found = first_difference(got[key], want[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(got, list) and isinstance(want, list):
        for i, (g, w) in enumerate(zip(got, want)):
            named = f" {w['label']!r}" if isinstance(w, dict) and w.get("label") else ""
            found = first_difference(g, w, f"{where}[{i}{named}]")
            if found:
                return found
        if len(got) != len(want):
            return f"{where} (length)", len(got), len(want)
        return None
    return None if got == want else (where, got, want)


def dumps(value, indent=0):
    """JSON with one key per line but every list of plain values on one line, so a
    snapshot reads (and diffs) by line without a line per number."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f'{pad} {json.dumps(k)}: {dumps(v, indent + 1)}' for k, v in sorted(value.items())]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(f"{pad} {dumps(v, indent + 1)}" for v in value) + "\n" + pad + "]"
    return json.dumps(value)
