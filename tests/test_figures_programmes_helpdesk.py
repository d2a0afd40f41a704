"""Figure builders of the Programmes and Help desks pages, called as plain functions."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from components.charts import FigureContext, base_layout
from components.figures_helpdesk import (
    change_bars,
    monthly_stacked,
    percentile_lines,
    share_stacked,
)
from components.figures_programmes import (
    applicants_and_selected,
    legend_under_title,
    selection_by_year,
    tidy_footer,
    wrap_label,
)
from components.formats import NEGATIVE, NEUTRAL, PALETTE, POSITIVE
from components.i18n import JA

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "Source: EU–Japan Centre · data as of 2026-06-30"


def _ctx(demo: bool = True, subtitle: str = "2014–2026 · Sectors: All sectors") -> FigureContext:
    return FigureContext(title="A chart", subtitle=subtitle, source=SOURCE, demo=demo,
                         height=400)


def _lay(fig) -> dict:  # noqa: ANN001
    """The layout as it is serialised for the browser (what the reader gets)."""
    return fig.to_plotly_json()["layout"]


def _footer(fig) -> dict:  # noqa: ANN001
    return {("demo" if a.get("bgcolor") else "source"): a for a in _lay(fig)["annotations"]
            if (a.get("yshift") or 0) < 0}


# ---- shared helpers -------------------------------------------------------------------------
def test_wrap_label_breaks_long_labels_only() -> None:
    assert wrap_label("Customs") == "Customs"
    wrapped = wrap_label("SPS (food safety, animal & plant health)")
    assert "<br>" in wrapped
    assert all(len(line) <= 22 for line in wrapped.split("<br>"))
    assert wrapped.replace("<br>", " ") == "SPS (food safety, animal & plant health)"


@pytest.mark.parametrize("demo", [True, False])
def test_footer_stacks_source_and_demo_mark_at_the_right(demo: bool) -> None:
    import plotly.graph_objects as go

    ctx = _ctx(demo=demo)
    fig = base_layout(go.Figure(), ctx)
    tidy_footer(fig, ctx)  # base_layout lays the footer out; tidy_footer leaves it alone
    foot = _footer(fig)
    assert foot["source"]["text"] == "Source: EU–Japan Centre<br>data as of 2026-06-30"
    assert (foot["source"]["x"], foot["source"]["xanchor"]) == (1, "right")
    if demo:
        assert foot["demo"]["yshift"] < foot["source"]["yshift"]  # under it, not beside it
        assert foot["demo"]["xanchor"] == "right"
    else:
        assert "demo" not in foot
    assert _lay(fig)["margin"]["b"] >= (130 if demo else 104)  # room for the footer lines


def test_legend_under_title_is_anchored_to_the_container() -> None:
    import plotly.graph_objects as go

    ctx = _ctx()
    legend = _lay(legend_under_title(base_layout(go.Figure(), ctx), ctx))["legend"]
    assert legend["yref"] == "container"
    assert legend["yanchor"] == "top"
    assert 0.8 < legend["y"] < 1


# ---- Programmes -----------------------------------------------------------------------------
YEARS = pd.DataFrame({"year": [2019, 2020, 2021], "applications": [900, 760, 820],
                      "shortlisted": [120, 110, 125], "selected": [36, 24, 35]})
YEARS["selection_rate"] = YEARS.selected / YEARS.applications


def _by_year(df: pd.DataFrame):  # noqa: ANN202
    return selection_by_year(df, _ctx(), names=["Applications", "Shortlisted", "Selected"],
                             rate_name="Selection rate", x_title="Cycle year",
                             y_title="Applications (number)",
                             rate_title="Selection rate (% of applications)")


def test_selection_by_year_bars_and_rate_on_second_axis() -> None:
    fig = _by_year(YEARS)
    bars = [tr for tr in fig.data if tr.type == "bar"]
    assert [tr.name for tr in bars] == ["Applications", "Shortlisted", "Selected"]
    assert list(bars[2].y) == [36, 24, 35]
    assert list(bars[0].x) == ["2019", "2020", "2021"]  # years as categories, no 2019.5
    rate = next(tr for tr in fig.data if tr.type == "scatter")
    assert rate.yaxis == "y2"
    assert list(rate.y) == pytest.approx([0.04, 24 / 760, 35 / 820])
    assert "%{y:.1%}" in rate.hovertemplate
    assert fig.layout.yaxis2.tickformat == ".0%"
    assert fig.layout.yaxis2.title.text == "Selection rate (% of applications)"
    assert fig.layout.yaxis.title.text == "Applications (number)"
    assert fig.layout.xaxis.title.text == "Cycle year"
    assert fig.layout.yaxis2.range[1] > max(rate.y)  # head-room above the line
    assert "A chart" in fig.layout.title.text


def test_selection_by_year_empty() -> None:
    fig = _by_year(YEARS.iloc[:0])
    assert all(len(tr.x) == 0 for tr in fig.data)


FIELDS = pd.DataFrame({"field": ["mechanical", "electrical", "business"],
                       "applications": [300, 250, 20], "selected": [12, 9, 0]})
FIELDS["selection_rate"] = FIELDS.selected / FIELDS.applications
NAMES = {"mechanical": "Mechanical engineering",
         "electrical": "Electrical & electronic engineering", "business": "Business"}


def _two_panel(df: pd.DataFrame, top: int | None = None):  # noqa: ANN202
    return applicants_and_selected(df, _ctx(), category="field", label=NAMES.get,
                                   names=["Applicants", "Selected"],
                                   axis_titles=["Applicants (number)", "Selected (number)"],
                                   top=top)


def test_applicants_and_selected_two_panels_with_codes() -> None:
    fig = _two_panel(FIELDS)
    left, right = fig.data
    assert (left.xaxis, right.xaxis) == ("x", "x2")
    # biggest on top: horizontal bars are drawn bottom-up
    assert left.y[-1] == "Mechanical engineering" and list(left.x) == [20, 250, 300]
    assert list(right.x) == [0, 9, 12]
    assert [c[0] for c in left.customdata] == ["business", "electrical", "mechanical"]
    assert right.customdata[-1] == ["mechanical", 300, 12, pytest.approx(0.04)]
    assert "Electrical &<br>electronic engineering" in left.y  # wrapped for phones
    assert "%{customdata[3]:.1%}" in left.hovertemplate
    assert _lay(fig)["xaxis"]["title"]["text"] == "Applicants<br>(number)"
    assert _lay(fig)["xaxis2"]["title"]["text"] == "Selected<br>(number)"


def test_applicants_and_selected_top_n_and_empty() -> None:
    fig = _two_panel(FIELDS, top=2)
    assert [c[0] for c in fig.data[0].customdata] == ["electrical", "mechanical"]
    empty = _two_panel(FIELDS.iloc[:0])
    assert len(empty.data[0].y) == 0


# ---- Help desks ----------------------------------------------------------------------------
def _months(start: str, n: int, desks=("epa", "ncp")) -> pd.DataFrame:  # noqa: ANN001
    months = pd.date_range(start, periods=n, freq="MS")
    return pd.DataFrame([(m, d, 10 + i) for i, m in enumerate(months) for d in desks],
                        columns=["month", "desk", "enquiries"])


def _monthly(df: pd.DataFrame):  # noqa: ANN202
    return monthly_stacked(df, _ctx(), x="month", stack="desk", value="enquiries",
                           label=str.upper, order=["epa", "procurement", "ncp"],
                           x_title="Month received", y_title="Enquiries per month (number)",
                           marker=(dt.date(2019, 2, 1), "EPA enters into force"),
                           unit="enquiries")


def test_monthly_stacked_marks_the_epa_date_inside_the_range() -> None:
    fig = _monthly(_months("2018-06-01", 18))
    assert [tr.name for tr in fig.data] == ["EPA", "NCP"]  # vocabulary order
    assert fig.layout.barmode == "stack"
    assert set(fig.data[0].customdata) == {"epa"}
    lay = _lay(fig)
    (line,) = lay["shapes"]
    assert str(line["x0"])[:10] == "2019-02-01" and line["yref"] == "paper"
    assert any(a["text"] == "EPA enters into force" for a in lay["annotations"])
    assert "%{x|%b %Y}" in fig.data[0].hovertemplate
    lo, hi = (pd.Timestamp(v) for v in lay["xaxis"]["range"])
    assert lo < pd.Timestamp("2018-06-01") and hi >= pd.Timestamp("2019-11-30")


def test_monthly_stacked_no_marker_outside_the_range_and_empty() -> None:
    lay = _lay(_monthly(_months("2021-01-01", 12)))
    assert not lay.get("shapes")
    assert not any(a["text"] == "EPA enters into force" for a in lay["annotations"])
    empty = _monthly(_months("2021-01-01", 12).iloc[:0])
    assert len(empty.data) == 0 and not _lay(empty).get("shapes")


def _topics(n_topics: int) -> pd.DataFrame:
    rows = [(y, f"t{i}", (n_topics - i) * 10 + y - 2019) for y in (2019, 2020)
            for i in range(n_topics)]
    return pd.DataFrame(rows, columns=["year", "topic", "enquiries"])


def _share(df: pd.DataFrame):  # noqa: ANN202
    return share_stacked(df, _ctx(), x="year", stack="topic", value="enquiries",
                         label=lambda c: f"Topic {c}", x_title="Year received",
                         y_title="Share of the year's enquiries (%)",
                         other_label="All other topics", top=7, unit="enquiries")


def test_share_stacked_groups_small_topics_into_one_grey_band() -> None:
    fig = _share(_topics(9))
    assert len(fig.data) == 8
    assert [tr.name for tr in fig.data[:2]] == ["Topic t0", "Topic t1"]
    other = fig.data[-1]
    assert other.name == "All other topics" and other.marker.color == NEUTRAL
    assert {c[0] for c in other.customdata} == {None}  # clicking it filters nothing
    assert fig.data[0].marker.color == PALETTE[0]
    for j in range(2):  # each year's shares add up to 100%
        assert sum(tr.y[j] for tr in fig.data) == pytest.approx(1.0)
    # 2019: t7 = 20, t8 = 10 enquiries out of 450
    assert other.y[0] == pytest.approx(30 / 450)
    assert other.customdata[0][1] == 30
    assert fig.layout.yaxis.tickformat == ".0%"


def test_share_stacked_few_topics_and_empty() -> None:
    fig = _share(_topics(3))
    assert [tr.name for tr in fig.data] == ["Topic t0", "Topic t1", "Topic t2"]
    assert len(_share(_topics(3).iloc[:0]).data) == 0


TOP = pd.DataFrame({"topic": ["roo", "tariffs", "gi", "trq"], "enquiries": [500, 300, 40, 20],
                    "previous": [400, 600, 0, 20], "change": [0.25, -0.5, None, 0.0],
                    "compared": [True] * 4})


def _change(df: pd.DataFrame, note: str = "Change: A against B"):  # noqa: ANN202
    return change_bars(df, _ctx(), category="topic", value="enquiries", previous="previous",
                       change="change", compared="compared", label=str.title,
                       value_title="Enquiries in the period (number)",
                       previous_word="Period before", change_word="Change", new_word="new",
                       note=note, unit="enquiries")


def test_change_bars_label_each_topic_with_its_change() -> None:
    fig = _change(TOP)
    (bar,) = fig.data
    assert list(bar.y) == ["Trq", "Gi", "Tariffs", "Roo"]  # biggest on top
    assert list(bar.text) == ["0%", "new", "−50%", "+25%"]
    assert list(bar.textfont.color) == [NEUTRAL, NEUTRAL, NEGATIVE, POSITIVE]
    assert [c[0] for c in bar.customdata] == ["trq", "gi", "tariffs", "roo"]
    assert "Change: A against B" in _lay(fig)["title"]["text"]
    assert _lay(fig)["xaxis"]["range"][1] > 500  # room for the labels


def test_change_bars_small_changes_keep_their_sign_visible() -> None:
    fig = _change(TOP.assign(change=[0.003, -0.004, 0.0, 0.12]))
    assert list(fig.data[0].text) == ["+12%", "0%", "−0.4%", "+0.3%"]


def test_change_bars_without_a_covered_period_before_show_no_change() -> None:
    fig = _change(TOP.assign(compared=False, change=None))
    assert set(fig.data[0].text) == {"–"}


def test_change_bars_empty() -> None:
    fig = _change(TOP.iloc[:0], note="")
    assert len(fig.data[0].y) == 0


DAYS = pd.DataFrame({"period": ["2019-Q1", "2019-Q2"],
                     "period_start": pd.to_datetime(["2019-01-01", "2019-04-01"]),
                     "answered": [286, 283], "median_days": [7.0, 6.0], "p90_days": [16.0, 19.0]})


def _days(df: pd.DataFrame):  # noqa: ANN202
    return percentile_lines(df, _ctx(), x="period_start", period="period",
                            lines=[("median_days", "Median"), ("p90_days", "90th percentile")],
                            count="answered", count_word="answered", x_title="Quarter received",
                            y_title="Days to answer (calendar days)", unit="days")


def test_percentile_lines_median_and_p90() -> None:
    fig = _days(DAYS)
    med, p90 = fig.data
    assert (med.name, p90.name) == ("Median", "90th percentile")
    assert list(p90.y) == [16.0, 19.0]
    assert p90.line.dash == "dash"  # not told apart by colour alone
    assert list(med.customdata[0]) == ["2019-Q1", 286]
    assert "days" in med.hovertemplate
    assert fig.layout.yaxis.title.text == "Days to answer (calendar days)"
    assert len(_days(DAYS.iloc[:0]).data[0].x) == 0


# ---- every user-visible string of the two pages has a Japanese translation ------------------
def _ui_strings(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        args = node.args
        if name == "t" and args and isinstance(args[0], ast.Constant):
            out.add(args[0].value)
        elif name == "register_dim" and len(args) > 1:
            out.add(args[1].value)
        elif name == "ChartSpec":
            out.add(args[2].value)  # the title
            cols = args[6]
            if isinstance(cols, ast.List):
                out.update(e.elts[1].value for e in cols.elts if isinstance(e, ast.Tuple))
    return out


@pytest.mark.parametrize("page", ["programmes", "helpdesks"])
def test_every_page_string_is_translated(page: str) -> None:
    strings = _ui_strings(ROOT / "pages" / f"{page}.py")
    assert len(strings) > 20
    missing = sorted(s for s in strings if s not in JA)
    assert not missing, missing


def test_value_axes_get_a_fixed_margin_category_axes_keep_automargin() -> None:
    """A numeric y axis is drawn once (fixed margin, no automargin second pass); a chart of
    horizontal bars keeps automargin for its long category names."""
    from components.charts import VALUE_AXIS_MARGIN, steady_value_margin
    from components.figures import bar_chart

    fig = steady_value_margin(_monthly(pd.DataFrame({
        "month": pd.to_datetime(["2019-01-01", "2019-02-01"]), "desk": ["epa", "ncp"],
        "enquiries": [120_000, 9]})))
    assert fig.layout.yaxis.automargin is False
    assert fig.layout.margin.l >= VALUE_AXIS_MARGIN
    assert fig.layout.xaxis.automargin is True
    df = pd.DataFrame({"name": ["Research organisation", "SME"], "n": [4, 3]})
    bars = steady_value_margin(bar_chart(df, _ctx(), category="name", value="n",
                                         value_title="Enquiries", horizontal=True))
    assert bars.layout.yaxis.automargin is True
    upright = steady_value_margin(bar_chart(df, _ctx(), category="name", value="n",
                                            value_title="Enquiries", horizontal=False))
    assert upright.layout.yaxis.automargin is False
