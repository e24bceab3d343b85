"""web/charts.py: server-drawn SVG charts: bars proportional to their values, axis and labels,
text escaped, an accessible name and description, and a chart for no data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from mynapoint.web.charts import (
    TICKS,
    BandPoint,
    Bar,
    Pair,
    Projected,
    band_chart,
    bar_chart,
    column_chart,
    paired_bar_chart,
    tick_step,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parsed(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own output


def _bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def test_bars_are_proportional_to_their_values_and_labelled():
    chart = bar_chart("c", "申込数", "説明", [Bar("PayPay", 300), Bar("WAON", 150), Bar("x", 0)])
    root = _parsed(chart)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == "申込数"
    assert root.find(f"{SVG}desc").text == "説明"
    widths = [float(rect.get("width")) for rect in _bars(root)]
    assert widths[0] > 0
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.1)
    assert widths[2] == 0
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert texts == ["PayPay", "300", "WAON", "150", "x", "0"]


def test_values_are_written_as_asked_and_text_is_escaped():
    chart = bar_chart("c", "<b>&", "d", [Bar("<script>", 1234)], lambda v: f"{v:,}件")
    assert "<script>" not in str(chart)
    root = _parsed(chart)
    assert [text.text for text in root.iter(f"{SVG}text")] == ["<script>", "1,234件"]
    assert root.find(f"{SVG}title").text == "<b>&"


def test_a_long_label_is_shortened_on_the_chart():
    root = _parsed(bar_chart("c", "t", "d", [Bar("あ" * 40, 1)]))
    label = next(root.iter(f"{SVG}text")).text
    assert label.endswith("…")
    assert len(label) < 40


def test_no_data_draws_a_chart_that_says_so():
    for chart in (
        bar_chart("c", "t", "d", [], empty="該当なし"),
        column_chart("c", "t", "d", [], empty="該当なし"),
    ):
        root = _parsed(chart)
        assert _bars(root) == []
        assert [text.text for text in root.iter(f"{SVG}text")] == ["該当なし"]
        assert root.get("role") == "img"


@pytest.mark.parametrize(
    ("value", "step"),
    [
        (0, 1),
        (1, 1),
        (4, 1),
        (5, 2),
        (8, 2),
        (9, 5),
        (20, 5),
        (21, 10),
        (399, 100),
        (400, 100),
        (401, 200),
        (12_345, 5_000),
    ],
)
def test_the_value_axis_reaches_the_largest_value_in_round_steps(value, step):
    assert tick_step(value) == step
    assert step * TICKS >= value


def test_a_time_series_has_one_column_per_day_an_axis_and_date_labels():
    first = date(2021, 7, 19)
    days = [(first + timedelta(days=n), value) for n, value in enumerate((10, 0, 40, 20))]
    root = _parsed(column_chart("s", "発行数", "説明", days))
    columns = _bars(root)
    assert len(columns) == 4
    heights = [float(rect.get("height")) for rect in columns]
    assert heights[1] == 0
    assert heights[2] == pytest.approx(heights[0] * 4, abs=0.2)
    assert heights[3] == pytest.approx(heights[0] * 2, abs=0.2)
    # the columns stand on the axis
    bottoms = {round(float(r.get("y")) + float(r.get("height")), 1) for r in columns}
    assert len(bottoms) == 1
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert [t for t in texts if t and t.isdigit()] == ["0", "10", "20", "30", "40"]
    assert "7/19" in texts
    assert "7/22" in texts
    # each column says its day and value when pointed at
    assert [rect.find(f"{SVG}title").text for rect in columns][2] == "7/21: 40"


def test_a_long_series_labels_only_some_days():
    first = date(2021, 7, 1)
    days = [(first + timedelta(days=n), n) for n in range(60)]
    root = _parsed(column_chart("s", "t", "d", days, day_label=lambda d: d.isoformat()))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "day"]
    assert 3 <= len(labels) <= 8
    assert labels[0] == "2021-07-01"
    assert labels[-1] == "2021-08-29"
    assert all(re.fullmatch(r"2021-\d\d-\d\d", label) for label in labels)


def test_the_first_and_last_day_labels_stay_inside_the_drawing():
    """Centred, the last day's label would run past the right edge and be clipped: it ends at
    its column's right edge, and the first starts at its column's left edge."""
    first = date(2021, 7, 1)
    days = [(first + timedelta(days=n), n) for n in range(60)]
    root = _parsed(column_chart("s", "t", "d", days, day_label=lambda d: d.isoformat()))
    width = float(root.get("viewBox").split()[2])
    columns = _bars(root)
    labels = [t for t in root.iter(f"{SVG}text") if t.get("class") == "day"]
    last_edge = float(columns[-1].get("x")) + float(columns[-1].get("width"))
    assert (labels[-1].get("text-anchor"), float(labels[-1].get("x"))) == (
        "end",
        pytest.approx(last_edge, abs=0.1),
    )
    assert last_edge <= width
    assert (labels[0].get("text-anchor"), float(labels[0].get("x"))) == (
        "start",
        pytest.approx(float(columns[0].get("x")), abs=0.1),
    )
    assert {t.get("text-anchor") for t in labels[1:-1]} == {"middle"}


def _series(root: ET.Element, number: int) -> list[float]:
    """The widths of a paired chart's bars of one series, the legend's swatch first."""
    wanted = f"bar series-{number}"
    return [
        float(rect.get("width")) for rect in root.iter(f"{SVG}rect") if rect.get("class") == wanted
    ]


def test_paired_bars_share_one_scale_and_say_which_series_is_which():
    pairs = [Pair("0-2499", 400, 200), Pair("2500+", 100, 0)]
    chart = paired_bar_chart("p", "分布", "説明", pairs, ("実績", "候補"), lambda v: f"{v:,}人")
    root = _parsed(chart)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "分布"
    first, second = _series(root, 1)[1:], _series(root, 2)[1:]
    assert second[0] == pytest.approx(first[0] / 2, abs=0.1)
    assert first[1] == pytest.approx(first[0] / 4, abs=0.1)
    assert second[1] == 0
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert texts[:2] == ["実績", "候補"]  # the legend
    assert texts[2:] == ["0-2499", "400人", "200人", "2500+", "100人", "0人"]


def test_a_paired_chart_escapes_its_text_and_draws_a_negative_value_empty():
    chart = paired_bar_chart("p", "t", "d", [Pair("<b>", -50, 10)], ("<i>", "&"))
    assert "<b>" not in str(chart)
    root = _parsed(chart)
    assert _series(root, 1)[1:] == [0]
    assert [text.text for text in root.iter(f"{SVG}text")] == ["<i>", "&", "<b>", "-50", "10"]
    empty = _parsed(paired_bar_chart("p", "t", "d", [], ("a", "b"), empty="該当なし"))
    assert [text.text for text in empty.iter(f"{SVG}text")] == ["該当なし"]


def _points(markup: str, kind: str) -> list[tuple[float, float]]:
    found = re.search(rf'<{kind} class="[^"]*" points="([^"]+)"', markup)
    assert found, kind
    return [tuple(map(float, pair.split(","))) for pair in found.group(1).split()]  # type: ignore[misc]


def test_a_band_chart_draws_the_record_then_the_projection_over_its_band():
    recorded = [(date(2021, 7, 1) + timedelta(days=i), float(10 * i)) for i in range(11)]
    last = recorded[-1][0]
    ahead = [
        BandPoint(last + timedelta(days=i), 100 + 10 * i, 100 + 8 * i, 100 + 12 * i)
        for i in range(11)
    ]
    svg = str(band_chart("fc", "Yen <so far>", "a desc", recorded, [Projected("candidate", ahead)]))
    assert _parsed(svg).get("role") == "img"  # well-formed, an image
    assert svg.startswith('<svg class="chart" role="img" aria-labelledby="fc-title fc-desc"')
    assert '<title id="fc-title">Yen &lt;so far&gt;</title>' in svg
    line = _points(svg, "polyline")  # the first polyline is the projection, drawn under
    band = _points(svg, "polygon")
    record = re.findall(r'<polyline class="recorded" points="([^"]+)"', svg)[0].split()
    assert 'class="band candidate"' in svg
    assert 'class="projection candidate"' in svg
    # The projection starts where the record ends, and the band holds the expected line.
    assert line[0] == tuple(map(float, record[-1].split(",")))
    assert len(band) == 2 * len(ahead)
    lows, highs = band[: len(ahead)], band[len(ahead) :][::-1]
    for (x, y), (_, low), (_, high) in zip(line, lows, highs, strict=True):
        assert high <= y <= low  # SVG's y grows downwards
        assert x > 0
    # Time is proportional: 10 days recorded and 10 projected span equal widths.
    xs = [float(p.split(",")[0]) for p in record]
    assert round(xs[-1] - xs[0], 1) == round(line[-1][0] - line[0][0], 1)
    # The axis reaches the highest high (220) in round steps of 100.
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)<', svg)
    assert ticks == [str(step * 100) for step in range(TICKS + 1)]


def test_a_limit_is_drawn_only_within_the_values_axis():
    recorded = [(date(2021, 7, 1), 0.0), (date(2021, 7, 2), 50.0)]
    drawn = str(band_chart("a", "t", "d", recorded, [], limit=90))
    assert 'class="limit"' in drawn
    assert ">100<" in drawn  # the axis raised to hold it
    assert 'class="limit"' not in str(band_chart("b", "t", "d", recorded, [], limit=101))


def test_a_band_chart_without_days_says_so():
    svg = str(band_chart("e", "t", "d", [], [], empty="no data"))
    assert "no data" in svg
    assert "polyline" not in svg
