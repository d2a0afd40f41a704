"""Fast figure plumbing for the request path: a slim template, figures without plotly's
per-property validation, and plain-JSON forms of figures and tables.

Building a `go.Figure` the usual way validates every property and copies the whole
"plotly_white" template (7 KB) into every figure: 20–60 ms a chart, most of a callback.
Here the same look costs well under a millisecond:

- `TEMPLATE` is plotly_white without the parts 2-D charts never use (geo, polar, 3-D, ...).
  It is registered with plotly and made the default, so every figure carries it, smaller.
- `fast_figure(data, layout)` builds a figure from plain dicts without validation (the
  builders in `components/figures.py` use it); `unvalidated(fig)` switches validation off
  on an existing figure (`base_layout` does, so later `update_layout` calls are cheap too).
- `plain(...)` turns a figure or a Dash component tree into the JSON-able dicts Dash sends,
  and `table_json(...)` writes `charts.data_table`'s output directly in that form, so a
  page callback's result can be cached and served without rebuilding anything.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from dash.development.base_component import Component
from plotly.basedatatypes import BasePlotlyType
from plotly.io.json import to_json_plotly

TEMPLATE = "eujp_white"
# Trace types of 2-D dashboards; the template's entries for other types (3-D, maps, polar,
# carpet, ...) only add bytes to every figure.
_TRACE_TYPES = ("bar", "scatter", "scattergl", "heatmap", "histogram", "pie", "table")
_LAYOUT_DROP = ("geo", "mapbox", "polar", "scene", "ternary")
# (`components/figures.heatmap` passes its scale explicitly; see _slim_template)


def _slim_template() -> dict[str, Any]:
    full = pio.templates["plotly_white"].to_plotly_json()
    layout = {k: v for k, v in full["layout"].items() if k not in _LAYOUT_DROP}
    data = {k: v for k, v in full["data"].items() if k in _TRACE_TYPES}
    # Default colour scales (plasma & co.) are dropped too: every chart that colours by value
    # names its own colour-blind-safe scale (the heatmap uses Cividis).
    layout.pop("colorscale", None)
    for k, traces in data.items():
        data[k] = [{p: v for p, v in tr.items() if p != "colorscale"} for tr in traces]
    return {"layout": layout, "data": data}


TEMPLATE_JSON: dict[str, Any] = _slim_template()
pio.templates[TEMPLATE] = go.layout.Template(TEMPLATE_JSON)
pio.templates.default = TEMPLATE


def template_json() -> dict[str, Any]:
    """The slim template, shared by every figure (read-only: nothing merges into a figure's
    template, and `to_dict`/exports copy it; a deep copy per figure cost more than the
    figure's own data)."""
    return TEMPLATE_JSON


def unvalidated(fig: go.Figure) -> go.Figure:
    """Switch off per-property validation on `fig`, its layout and its traces (in place)."""
    fig._validate = False  # noqa: SLF001 - plotly's own switch, as go.Figure(_validate=False)
    fig._layout_obj._validate = False  # noqa: SLF001
    for tr in fig.data:
        tr._validate = False  # noqa: SLF001
    return fig


def _merge(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    """Merge `src` into `dst` as `update_layout` does: nested dicts merge, a list of dicts
    merges element-wise into an existing non-empty list (extra items appended)."""
    for k, v in src.items():
        cur = dst.get(k)
        if isinstance(v, Mapping) and isinstance(cur, dict):
            _merge(cur, v)
        elif (isinstance(v, (list, tuple)) and cur and isinstance(cur, list)
              and all(isinstance(x, dict) for x in cur)
              and all(isinstance(x, Mapping) for x in v)):
            for old, new in zip(cur, v, strict=False):
                _merge(old, new)
            cur.extend(copy.deepcopy(list(v[len(cur):])))
        else:
            dst[k] = copy.deepcopy(v) if isinstance(v, (dict, list)) else v


def merge_layout(fig: go.Figure, layout: Mapping[str, Any]) -> go.Figure:
    """`fig.update_layout(layout)` without plotly's update machinery (~0.01 ms, not ~1 ms).

    Only for layout values known to be valid (they are not checked)."""
    lay = fig._layout_obj  # noqa: SLF001
    for key in layout:  # a new subplot axis (yaxis2, ...): plotly's Layout must know it
        if key not in lay._subplotid_props:  # noqa: SLF001
            m = lay._subplot_re_match(key)  # noqa: SLF001
            if m and int(m.group(2)) > 1:
                lay._set_subplotid_prop(key, {})  # noqa: SLF001
    _merge(fig._layout, layout)  # noqa: SLF001 - the dict plotly serialises
    return fig


def merge_axes(fig: go.Figure, axis: str, props: Mapping[str, Any]) -> go.Figure:
    """`fig.update_xaxes(props)` (axis "x") / `update_yaxes` for every such axis, directly."""
    lay = fig._layout  # noqa: SLF001
    names = {k for k in lay if k.startswith(f"{axis}axis")
             and k[len(axis) + 4:].isdigit() or k == f"{axis}axis"}
    for name in sorted(names | {f"{axis}axis"}):
        cur = lay.get(name)
        if not isinstance(cur, dict):
            cur = lay[name] = {}
        _merge(cur, props)
    return fig


def column(values: Any) -> Any:
    """A trace value as a figure stores it: numbers and dates of a pandas column as a numpy
    array (sent as numbers / ISO strings), anything else in a column as a plain list."""
    if isinstance(values, (pd.Series, pd.Index)):
        if values.dtype.kind in "biufM":
            return np.ascontiguousarray(values.to_numpy())
        return values.tolist()
    if isinstance(values, np.ndarray) and values.dtype.kind == "O":
        return values.tolist()
    return values


def trace(kind: str, **props: Any) -> dict[str, Any]:
    """A plain trace dict (`trace("bar", x=..., y=...)` for `go.Bar(x=..., y=...)`), pandas
    columns turned into arrays or lists."""
    return {"type": kind, **{k: column(v) for k, v in props.items()}}


def _trace_class(kind: str) -> type:
    cls = _TRACE_CLASSES.get(kind)
    if cls is None:
        cls = _TRACE_CLASSES[kind] = getattr(go, go.Figure()._data_validator  # noqa: SLF001
                                             .class_strs_map[kind])
    return cls


_TRACE_CLASSES: dict[str, type] = {}


def fast_figure(data: Sequence[Mapping[str, Any]] = (),
                layout: Mapping[str, Any] | None = None) -> go.Figure:
    """A go.Figure from plain trace and layout dicts, not validated (the hot path).

    The trace dicts become the figure's own trace data as they are: plotly's constructor
    would deep-copy every value list (most of the cost of a figure). Trace objects
    (`fig.data[i]`) read and write those dicts, as in any figure; the template is the shared
    slim one (see `template_json`)."""
    lay = dict(layout or {})
    template = lay.pop("template", None)
    # an empty template for the constructor (else it converts the default one into plotly
    # objects), then the shared slim one put in place directly
    fig = go.Figure(layout={**lay, "template": {}}, _validate=False)
    fig._layout["template"] = TEMPLATE_JSON if template is None else template  # noqa: SLF001
    dicts = [d.to_plotly_json() if isinstance(d, BasePlotlyType)
             else {k: column(v) for k, v in d.items()} for d in data]
    for d in dicts:
        d.setdefault("type", "scatter")
    objs = tuple(_trace_class(d["type"])(_validate=False) for d in dicts)
    fig._data_objs = objs  # noqa: SLF001 - what BaseFigure.__init__ sets, without the copy
    fig._data = dicts  # noqa: SLF001
    fig._data_defaults = [{} for _ in dicts]  # noqa: SLF001
    for i, obj in enumerate(objs):
        obj._orphan_props.clear()  # noqa: SLF001
        obj._parent = fig  # noqa: SLF001
        obj._trace_ind = i  # noqa: SLF001
    return fig


_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def to_json_bytes(value: Any) -> bytes:
    """JSON text of a plain value (see `plain`), as Dash's serialiser writes it."""
    return orjson.dumps(value, option=_ORJSON)


def figure_json(fig: go.Figure) -> bytes:
    """The JSON text Dash sends for a figure (`to_json_bytes(plain(fig))`, in one step)."""
    try:
        return orjson.dumps({"data": fig._data, "layout": fig._layout},  # noqa: SLF001
                            option=_ORJSON)
    except TypeError:
        return to_json_bytes(plain(fig))


def plain(obj: Any) -> Any:
    """The JSON-able form of a figure, component tree or value, as Dash would send it.

    A figure is read from its own dicts (no deep copy: it is about to be dropped), numpy
    arrays becoming plain lists; whatever orjson cannot encode directly (pandas objects,
    Dash components) goes through plotly's encoder, which Dash itself uses.
    """
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, go.Figure):
        raw = {"data": obj._data, "layout": obj._layout}  # noqa: SLF001
        try:
            return orjson.loads(orjson.dumps(raw, option=_ORJSON))
        except TypeError:
            return orjson.loads(to_json_plotly(obj))
    try:  # a component tree: each component's own JSON form, then orjson
        return orjson.loads(orjson.dumps(_components(obj), option=_ORJSON))
    except TypeError:
        return orjson.loads(to_json_plotly(obj))


def _components(obj: Any) -> Any:
    """A Dash component tree as nested dicts (what plotly's encoder makes of it, without
    inspecting every value on the way)."""
    if isinstance(obj, Component):
        d = obj.to_plotly_json()
        return {**d, "props": {k: _components(v) for k, v in d["props"].items()}}
    if isinstance(obj, (list, tuple)):
        return [_components(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _components(v) for k, v in obj.items()}
    return obj


def values(series: pd.Series | Sequence[Any]) -> list[Any]:
    """A column as a plain list (what a trace needs; no pandas objects in figures)."""
    if isinstance(series, pd.Series):
        if series.dtype.kind == "M":
            return [None if pd.isna(v) else v.isoformat() for v in series]
        return series.tolist()
    return list(series)


def ordered(df: pd.DataFrame, count: str, name: str, *, most_first: bool) -> pd.DataFrame:
    """`df.sort_values([count, name], ascending=[not most_first, most_first])` (names with
    no value last), sorted in Python: a multi-key pandas sort costs more than the figure."""
    counts, names = df[count].tolist(), df[name].tolist()
    order = sorted(range(len(df)), key=lambda i: (names[i] is None, names[i] or ""),
                   reverse=not most_first)
    if not most_first:  # (reversed: names with no value came first)
        order = [i for i in order if names[i] is not None] + \
                [i for i in order if names[i] is None]
    order.sort(key=lambda i: counts[i], reverse=most_first)  # stable: names stay in order
    return df.take(order)


def _cell(v: Any, fmt: str | None) -> str:
    try:
        missing = v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        missing = False
    if missing:
        return "–"  # never "nan" / "NaT" in a table a person reads
    if fmt:
        try:
            v = fmt.format(v)
        except (ValueError, TypeError):
            pass
    return str(v)


def _el(tag: str, children: Any, **props: Any) -> dict[str, Any]:
    return {"props": {"children": children, **props}, "type": tag,
            "namespace": "dash_html_components"}


def table_json(df: pd.DataFrame | None, columns: Sequence[tuple[str, str]],
               formats: Mapping[str, str] | None = None, max_rows: int = 500,
               empty_text: str = "No data for these filters",
               more_text: str = "Showing the first {n:,} of {total:,} rows; the downloads "
                                "hold them all.") -> dict[str, Any]:
    """Exactly `plain(charts.data_table(df, columns, formats, max_rows))`, built directly:
    a 500-row table costs ~1 ms instead of ~60 ms of component objects."""
    formats = formats or {}
    if df is None or df.empty:
        return _el("P", empty_text, className="text-muted small mb-0")
    head = _el("Thead", _el("Tr", [_el("Th", h, scope="col") for _, h in columns]))
    d = df.head(max_rows)
    cols = []
    for col, _ in columns:
        if col in d.columns:
            cols.append(d[col].astype(object).tolist())
        else:
            cols.append([None] * len(d))
    fmts = [formats.get(col) for col, _ in columns]
    body = [_el("Tr", [_el("Td", _cell(c[r], f)) for c, f in zip(cols, fmts, strict=True)])
            for r in range(len(d))]
    if len(df) > max_rows:  # say so, rather than cutting silently
        note = more_text.format(n=max_rows, total=len(df))
        body.append(_el("Tr", [_el("Td", note, colSpan=len(columns),
                                   className="text-muted fst-italic")]))
    table = {"props": {"children": [head, _el("Tbody", body)], "size": "sm", "striped": True,
                       "hover": True, "className": "mb-0 chart-table"},
             "type": "Table", "namespace": "dash_bootstrap_components"}
    return _el("Div", table, className="table-responsive")
