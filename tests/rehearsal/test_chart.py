"""The rehearsal's chart and text say what a reader needs, and nothing collides (issue 22)."""

from __future__ import annotations

import re

import pytest

from rehearsal import chart
from tests import chromium
from tests.rehearsal import charts


def _svg(page: str) -> str:
    return page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_labels_at_the_right_edge_never_touch_and_stay_inside() -> None:
    right = chart.WIDTH - chart.RIGHT
    marks = [(right - 30, "d-1 succeeded"), (right - 5, "end"), (right, "rollback to AWS 5%")]
    marks += [(right - 12, "step 2 breached")]
    placed = chart.place_labels(marks)
    for label in placed:
        assert label.span[0] >= chart.LEFT and label.span[1] <= right
    for a in placed:
        for b in placed:
            if a is not b and a.row == b.row:
                assert a.span[1] + 8 <= b.span[0] or b.span[1] + 8 <= a.span[0]


def test_every_colour_drawn_is_in_the_legend_and_means_one_thing() -> None:
    for verdict in (charts.deployment(), charts.shift_rollback()):
        page = chart.render("t", verdict)
        svg, legend = _svg(page), page.split("<ul class='l'>", 1)[1]
        drawn = set(re.findall(r'(?:stroke|fill)="(#[0-9a-f]{6})"', svg))
        drawn -= {"#fafafa", "#cccccc", "#e4e4e4", "#999999", "#666666", "#444444", "#b35900"}
        drawn -= {"#ccc", "#999", "#666", "#444"}
        for colour in drawn:
            assert colour in legend, colour
    minimum = next(c for _, label, c, _, _ in chart.CAPACITY if label == "MinSize")
    assert minimum not in (chart.OUT_OF_SERVICE, chart.MARK_COLOURS["failed"])


def test_the_bars_have_a_legend() -> None:
    page = chart.render("t", charts.deployment())
    assert "out of service, in Standby" in page and "out of service, not in Standby" in page


def test_the_shift_rollback_chart_plots_the_5xx_ratio_that_rolled_it_back() -> None:
    page = chart.render("t", charts.shift_rollback())
    assert "5xx ratio of the requests" in page and "0.3333 breached" in page
    assert "0.0000 held" in page and "5xx limit" in page


def test_the_time_axis_shows_aws_time_beside_real_seconds() -> None:
    page = chart.render("t", charts.deployment())
    assert "2.5 min" in _svg(page) and "5 s" in _svg(page)
    assert "time scale 30: 1 real second = 30 AWS seconds" in page
    assert "= 19.4 min of AWS time" in page


def test_the_text_explains_the_bound_and_shows_aws_minutes() -> None:
    text = charts.deployment().render()
    assert "longest 7.9 s real = 3.9 min AWS time" in text
    assert "expected at least 5.3 s real = 2.6 min AWS" in text
    assert "goal (not a PASS criterion)" in text
    assert "bound 5.3 s" not in text


def test_the_chart_text_is_readable_and_scales_with_the_window() -> None:
    page = chart.render("t", charts.deployment())
    assert chart.FONT >= 13 and 'style="width:100%' in page


@pytest.mark.skipif(chromium.missing(), reason="no Chromium on this machine (CI requires it)")
@pytest.mark.parametrize("name", ["deployment", "shift_rollback"])
def test_in_a_real_browser_nothing_collides_or_is_too_small(name: str, tmp_path) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(chart.render(f"Rehearsal {name}", getattr(charts, name)()))
    chromium.screenshot(page, tmp_path / f"{name}.png")
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    found = chromium.layout(page)
    assert found["texts"] > 20
    assert chromium.problems(found) == []


def test_a_tall_axis_keeps_its_ticks_apart() -> None:
    verdict = charts.deployment()
    verdict.samples = [s.__class__(**{**s.__dict__, "max_size": 10}) for s in verdict.samples]
    svg = _svg(chart.render("t", verdict))
    capacity = svg.split("Auto Scaling group capacity", 1)[1].split("Per instance", 1)[0]
    ticks = re.findall(r'text-anchor="end">(\d+)</text>', capacity)
    assert ticks == ["0", "2", "4", "6", "8", "10"]
