"""A self-contained HTML chart of a rehearsal (inline SVG, no scripts, no external files).

Panels over one time axis: instances in service against the promised floor; the group's
Min/Desired/Max (each line drawn a little apart, with its own dash, so equal values never hide
one another); for a blue/green release, each colour's in-service count and listener weight
(both colours' capacities added in the capacity panel); for a traffic shift, the Route 53
weights and the 5xx ratio each step's gate read against its limit; and one row per instance
with its out-of-service time as bars. The time axis shows real seconds and, under them, the
AWS time they stand for (real seconds x the time scale).
Marks (deployments, operators' actions, rollbacks) are labelled in a band above the panels, in
as many rows as it takes for no two labels to touch, each kept inside the chart. Every colour
means one thing, and every colour is in the legend. The page is as wide as the window (up to
``WIDTH``), its text at least 13 px."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 1200
LEFT, RIGHT, GAP = 64, 24, 56
PANEL = 170
FONT = 14  # px at full width; the SVG scales with the window, never below 13 px at 1400 px
CHAR = 0.6 * FONT  # a generous average glyph width, to keep labels apart
ROW = FONT + 8  # one row of mark labels
BAR = 20  # one instance's row
OUT_OF_SERVICE, STANDBY = "#e74c3c", "#95a5a6"
IN_SERVICE, FLOOR = "#1b7f3b", "#e67e22"
CAPACITY = (
    # attribute, label, colour, dash, vertical offset (px) so equal values stay visible
    ("max_size", "MaxSize", "#7f8c8d", "8 3 2 3", -3),
    ("desired_capacity", "DesiredCapacity", "#2c6fbb", "", 0),
    ("min_size", "MinSize", "#7d3c98", "6 4", 3),
)
WEIGHTS = (
    # side, label, colour, dash, vertical offset (px): at 50/50 the two lines stay apart
    ("azure", "Azure weight", "#2c6fbb", "", -2),
    ("aws", "AWS weight", "#e67e22", "7 3", 2),
)
MARK_COLOURS = {"failed": "#c0392b", "rollback": "#d35400", "action": "#117a65", "info": "#666"}
MARK_MEANING = {
    "failed": "a deployment or gate failed",
    "rollback": "a rollback",
    "action": "an operator's action or an injected fault",
    "info": "a deployment or step starts or ends",
}
ERROR_OK, ERROR_BAD = "#1b7f3b", "#c0392b"
COLOUR_LINES = (
    # a blue-green stack's colour, line colour, dash, vertical offset (px): equal values apart
    ("blue", "#2e86c1", "", -2),
    ("green", "#239b56", "7 3", 2),
)


def _step_path(points: Sequence[tuple[float, float]]) -> str:
    """An SVG path that holds each value until the next sample (values change in steps)."""
    if not points:
        return ""
    parts = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (_, y0), (x1, y1) in zip(points, points[1:], strict=False):
        parts.append(f"H{x1:.1f}")
        if y1 != y0:
            parts.append(f"V{y1:.1f}")
    return " ".join(parts)


def text_width(text: str, size: float = FONT) -> float:
    """An upper estimate of a label's width in px (sans-serif)."""
    return len(text) * 0.6 * size


def _text(x: float, y: float, text: str, *, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{html.escape(text)}</text>'


def inside(x: float, width: float, low: float = LEFT, high: float = WIDTH - RIGHT) -> tuple:
    """(x, anchor) for a label of ``width`` meant to start at ``x``: it reads leftwards from
    ``x`` when it would leave the chart on the right, and is pushed in at either edge."""
    if x + width <= high:
        return max(x, low), "start"
    return max(min(x, high), low + width), "end"


@dataclass
class _Label:
    x: float
    anchor: str
    row: int
    span: tuple[float, float]


def place_labels(positions: Sequence[tuple[float, str]]) -> list[_Label]:
    """Rows for mark labels: each label goes into the first row where it touches no other
    (8 px apart at least), kept inside the chart."""
    rows: list[list[tuple[float, float]]] = []
    placed = []
    for x, label in positions:
        width = text_width(label)
        at, anchor = inside(x + 4, width)
        if anchor == "end":
            at, anchor = inside(x - 4, width)
        span = (at, at + width) if anchor == "start" else (at - width, at)
        row = next(
            (
                i
                for i, taken in enumerate(rows)
                if all(span[1] + 8 <= a or b + 8 <= span[0] for a, b in taken)
            ),
            len(rows),
        )
        if row == len(rows):
            rows.append([])
        rows[row].append(span)
        placed.append(_Label(at, anchor, row, span))
    return placed


class _Panel:
    def __init__(self, top: float, height: float, maximum: float, x: Callable[[float], float]):
        self.top, self.height, self.maximum, self.x = top, height, max(maximum, 1), x

    def y(self, value: float) -> float:
        return self.top + self.height * (1 - value / (self.maximum * 1.08))

    def frame(self, title: str, ticks: Sequence[float] | None = None, fmt: str = "{:g}") -> list:
        svg = [
            f'<rect x="{LEFT}" y="{self.top}" width="{WIDTH - LEFT - RIGHT}" '
            f'height="{self.height}" fill="#fafafa" stroke="#ccc"/>',
            _text(LEFT, self.top - 8, title, extra=' font-weight="bold"'),
        ]
        if ticks is None:
            raw = max(1, -(-int(self.maximum) // 5))  # at most about 6 ticks, 20 px apart
            step = next((n for n in (1, 2, 5, 10, 20, 25, 50, 100) if n >= raw), raw)
            ticks = range(0, int(self.maximum) + 1, step)
        for v in ticks:
            svg.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{self.y(v):.1f}" y2="{self.y(v):.1f}" '
                f'stroke="#e4e4e4"/>' + _text(LEFT - 8, self.y(v) + 5, fmt.format(v), anchor="end")
            )
        return svg


def _nice_step(end: float, count: int = 8) -> float:
    raw = end / count
    return next((n for n in (0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600) if n >= raw), raw)


def _time_axis(end: float, scale: float, bottom: float, x) -> list[str]:
    """Ticks in real seconds, each with the AWS time it stands for beneath."""
    svg = []
    step = _nice_step(end)
    t = 0.0
    while t <= end + 1e-9:
        aws = t * scale
        under = f"{aws / 60:g} min" if aws >= 60 else f"{aws:g} s"
        svg.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{bottom}" y2="{bottom + 5}" '
            'stroke="#999"/>'
            + _text(x(t), bottom + 5 + FONT, f"{t:g} s", anchor="middle")
            + _text(x(t), bottom + 9 + 2 * FONT, under, anchor="middle", extra=' fill="#666"')
        )
        t += step
    svg.append(
        _text(
            LEFT,
            bottom + 16 + 3 * FONT,
            f"time since the rehearsal began: real seconds, and beneath them the AWS time they "
            f"stand for (time scale {scale:g}: 1 real second = {scale:g} AWS seconds)",
            extra=' fill="#444"',
        )
    )
    return svg


def _legend(items: Sequence[tuple[str, str, str]]) -> str:
    """(colour, kind, label): kind is line, dash, bar or mark."""
    shapes = {
        "line": "<svg width='26' height='12'><line x1='0' x2='26' y1='6' y2='6' "
        "stroke='{c}' stroke-width='3'/></svg>",
        "dash": "<svg width='26' height='12'><line x1='0' x2='26' y1='6' y2='6' "
        "stroke='{c}' stroke-width='3' stroke-dasharray='6 4'/></svg>",
        "bar": "<svg width='26' height='12'><rect width='26' height='12' fill='{c}'/></svg>",
        "mark": "<svg width='10' height='14'><line x1='5' x2='5' y1='0' y2='14' "
        "stroke='{c}' stroke-width='2' stroke-dasharray='2 2'/></svg>",
    }
    return "".join(
        f"<li>{shapes[kind].format(c=colour)} {html.escape(label)}</li>"
        for colour, kind, label in items
    )


def _error_steps(traffic) -> list[tuple[float, float, float, float, bool]]:
    """(from, to, ratio, limit, ok) per step whose gates read the 5xx ratio: from the change
    that set the step to the gate check that judged it."""
    steps = getattr(traffic, "steps", None) or []
    changes = [c["atSeconds"] for c in getattr(traffic, "changes", [])]
    found = []
    for index, step in enumerate(steps):
        gate = next((g for g in step["gates"] if "5xx" in g["name"]), None)
        if gate is None or "atSeconds" not in step:
            continue
        ratio = re.match(r"\s*([0-9.]+)", str(gate["value"]))
        limit = re.search(r"([0-9.]+)\s*$", str(gate.get("limit", "")))
        if ratio is None:
            continue
        start = changes[index] if index < len(changes) else step["atSeconds"]
        found.append(
            (
                start,
                step["atSeconds"],
                float(ratio.group(1)),
                float(limit.group(1)) if limit else 0.0,
                bool(gate["ok"]),
            )
        )
    return found


def render(title: str, verdict) -> str:  # verdict: rehearsal.verdict.Verdict
    samples, marks, floor = verdict.samples, verdict.marks, verdict.floor
    end = max([s.t for s in samples] + [m.t for m in marks] + [1.0])
    scale = verdict.time_scale

    def x(t: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * t / end

    labels = place_labels([(x(m.t), m.label) for m in marks])
    band = 10 + ROW * (max((lab.row for lab in labels), default=-1) + 1)
    rows = sorted({iid for s in samples for iid in s.instances})
    top = band + GAP
    served = _Panel(top, PANEL, max([len(s.instances) for s in samples] + [floor, 1]), x)
    capacity = _Panel(top + PANEL + GAP, PANEL, max([s.max_size for s in samples] + [1]), x)
    traffic = getattr(verdict, "traffic", None)
    below = capacity.top + PANEL + GAP
    weights = errors = colour_served = colour_weights = None
    error_steps = _error_steps(traffic) if traffic is not None else []
    blue_green = getattr(verdict, "blue_green", None)
    if blue_green is not None:
        most = max([n for series in blue_green.in_service.values() for _, n in series] + [1])
        colour_served = _Panel(below, PANEL, most, x)
        colour_weights = _Panel(below + PANEL + GAP, PANEL, 100, x)
        below += 2 * (PANEL + GAP)
    if traffic is not None:
        weights = _Panel(below, PANEL, 100, x)
        below += PANEL + GAP
    if error_steps:
        highest = max(
            [r for _, _, r, _, _ in error_steps] + [2 * lim for *_, lim, _ in error_steps]
        )
        top_tick = next((n for n in (0.02, 0.05, 0.1, 0.2, 0.5, 1.0) if n >= highest), 1.0)
        errors = _Panel(below, PANEL * 0.8, top_tick, x)
        below += PANEL * 0.8 + GAP
    bars_top = below
    bottom = bars_top + BAR * len(rows) + 4
    height = bottom + 30 + 4 * FONT
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'style="width:100%;max-width:{WIDTH}px;height:auto" font-family="sans-serif" '
        f'font-size="{FONT}">'
    ]
    svg += served.frame(
        "Instances in service (InService and healthy in every load balancer), against the "
        "promised floor"
    )
    svg += capacity.frame(
        "Auto Scaling group capacity: MinSize, DesiredCapacity, MaxSize"
        + (" (both colours' groups added)" if blue_green is not None else "")
    )
    if colour_served is not None and colour_weights is not None:
        svg += colour_served.frame("Instances in service per colour (its own group)")
        svg += colour_weights.frame("Listener weights (%) per colour: each change by the release")
        svg += _colour_lines(blue_green, colour_served, colour_weights, end, x)
    if weights is not None:
        svg += weights.frame("Route 53 weights (%): each step set by the shift, rollbacks marked")
        svg += _weight_lines(traffic, weights, end, x)
    if errors is not None:
        svg += _error_panel(error_steps, errors, x)
    svg.append(
        _text(
            LEFT,
            bars_top - 8,
            "Per instance, out of service: in Standby (grey), or otherwise not serving (red: "
            "draining, or back but not yet healthy)",
            extra=' font-weight="bold"',
        )
    )
    svg += _time_axis(end, scale, bottom, x)
    for mark, label in zip(marks, labels, strict=True):
        colour = MARK_COLOURS.get(mark.kind, "#777")
        width = 2 if mark.kind in ("failed", "rollback") else 1
        row_y = 8 + ROW * (label.row + 1) - 6
        svg.append(
            f'<line x1="{x(mark.t):.1f}" x2="{x(mark.t):.1f}" y1="{row_y + 4:.1f}" '
            f'y2="{bottom}" stroke="{colour}" stroke-width="{width}" stroke-dasharray="2 3"/>'
            + _text(label.x, row_y, mark.label, anchor=label.anchor, extra=f' fill="{colour}"')
        )
    svg.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{served.y(floor):.1f}" '
        f'y2="{served.y(floor):.1f}" stroke="{FLOOR}" stroke-width="2" stroke-dasharray="6 4"/>'
    )
    points = [(x(s.t), served.y(s.in_service)) for s in samples]
    svg.append(
        f'<path d="{_step_path(points)}" fill="none" stroke="{IN_SERVICE}" stroke-width="3"/>'
    )
    for attribute, _, colour, dash, offset in CAPACITY:
        points = [(x(s.t), capacity.y(getattr(s, attribute)) + offset) for s in samples]
        svg.append(
            f'<path d="{_step_path(points)}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{dash}"/>'
        )
    # Blue-green: an instance of a colour without users is out of service only when it is out
    # of its own target group (the users' view is the top panel).
    svg += _bars(getattr(blue_green, "instance_samples", None) or samples, rows, bars_top, x)
    svg.append("</svg>")
    legend = [(IN_SERVICE, "line", "in service"), (FLOOR, "dash", f"promised floor ({floor})")]
    legend += [(c, "dash" if dash else "line", label) for _, label, c, dash, _ in CAPACITY]
    if traffic is not None:
        legend += [(c, "dash" if dash else "line", label) for _, label, c, dash, _ in WEIGHTS]
    if blue_green is not None:
        legend += [
            (c, "dash" if dash else "line", f"{name}: in service, weight")
            for name, c, dash, _ in COLOUR_LINES
        ]
    if errors is not None:
        legend += [
            (ERROR_OK, "line", "5xx ratio, gate held"),
            (ERROR_BAD, "line", "5xx ratio, gate breached"),
            (ERROR_BAD, "dash", "5xx limit"),
        ]
    legend += [
        (STANDBY, "bar", "out of service, in Standby"),
        (OUT_OF_SERVICE, "bar", "out of service, not in Standby"),
    ]
    legend += [(MARK_COLOURS[k], "mark", MARK_MEANING[k]) for k in MARK_COLOURS]
    return _page(title, verdict, "".join(svg), _legend(legend), end)


def _page(title: str, verdict, svg: str, legend: str, end: float) -> str:
    colour = "#1b7f3b" if verdict.ok else "#c0392b"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in verdict.reasons)
    deployments = "".join(
        f"<li>{html.escape(d.deployment_id)} {html.escape(d.kind)} {html.escape(d.revision)}: "
        f"<b style='color:{'#c0392b' if d.status == 'Failed' else '#1b7f3b'}'>"
        f"{html.escape(d.status)}</b></li>"
        for d in verdict.deployments
        if d.kind != "launch"
    )
    lines = getattr(verdict, "out_of_service_lines", lambda: [])()
    timing = "".join(f"<li>{html.escape(line.strip())}</li>" for line in lines)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;font-size:16px;margin:1.5em;max-width:1240px}"
        "ul.l{list-style:none;padding:0}ul.l li{display:inline-block;margin:0 1.5em .4em 0}"
        "ul.l svg{vertical-align:middle}h1{font-size:1.3em}"
        ".v{font-size:1.6em;font-weight:bold}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p class='v' style='color:{colour}'>{verdict.word}</p>"
        f"<p>Min/Desired/Max: {verdict.capacity_before} before, {verdict.capacity_after} after "
        f"(expected {verdict.expected_after}); instances {verdict.instances_before} before, "
        f"{verdict.instances_after} after; lowest in service {verdict.lowest_in_service}, "
        f"promised floor {verdict.floor}.</p>"
        f"<ul>{reasons}</ul><ul>{deployments}</ul><ul>{timing}</ul>"
        f"{svg}<ul class='l'>{legend}</ul>"
        f"<p>{len(verdict.samples)} samples over {end:.1f} real seconds = "
        f"{verdict.aws_time(end)} of AWS time (time scale {verdict.time_scale:g}).</p>"
        "</body></html>"
    )


def _weight_lines(traffic, panel: _Panel, end: float, x) -> list[str]:
    """The weights Route 53 held over time (from the change batches it received)."""
    svg = []
    history = [(0.0, traffic.initial)] + [(c["atSeconds"], c["weights"]) for c in traffic.changes]
    for side, _, colour, dash, offset in WEIGHTS:
        points = [(x(t), panel.y(w[side]) + offset) for t, w in history]
        points.append((x(end), points[-1][1]))
        svg.append(
            f'<path d="{_step_path(points)}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{dash}"/>'
        )
    for t, w in history[1:]:
        label = f"{w['aws']}%"
        at, anchor = inside(x(t) + 4, text_width(label))
        svg.append(_text(at, panel.y(w["aws"]) - 7, label, anchor=anchor, extra=' fill="#b35900"'))
    return svg


def _colour_lines(record, served: _Panel, weights: _Panel, end: float, x) -> list[str]:
    """Each colour's in-service count and its listener weight over time (blue-green)."""
    svg = []
    history = [(0.0, record.listener.initial)] + [
        (c.at_real, c.weights) for c in record.listener.changes
    ]
    for name, colour, dash, offset in COLOUR_LINES:
        series = record.in_service.get(name, [])
        if series:
            points = [(x(t), served.y(n) + offset) for t, n in series]
            svg.append(
                f'<path d="{_step_path(points)}" fill="none" stroke="{colour}" '
                f'stroke-width="2.5" stroke-dasharray="{dash}"/>'
            )
        points = [(x(t), weights.y(w.get(name, 0)) + offset) for t, w in history]
        points.append((x(end), points[-1][1]))
        svg.append(
            f'<path d="{_step_path(points)}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{dash}"/>'
        )
    new = record.new
    for t, w in history[1:]:
        label = f"{new} {w.get(new, 0)}%"
        at, anchor = inside(x(t) + 4, text_width(label))
        svg.append(_text(at, weights.y(w.get(new, 0)) - 7, label, anchor=anchor))
    return svg


def _error_panel(steps, panel: _Panel, x) -> list[str]:
    """The 5xx ratio each step's gate read (over the step, from its change to the check), and
    the limit above which the shift rolls back."""
    limit = max(lim for *_, lim, _ in steps)
    # 0 sits just under the limit: the limit and the top are labelled, 0 is the frame's foot.
    ticks = [limit, panel.maximum] if panel.maximum > limit else [limit]
    svg = panel.frame(
        f"5xx ratio of the requests the AWS side answered, read by each step's gate (above "
        f"{limit:g} the shift rolls back)",
        ticks=ticks,
        fmt="{:.2g}",
    )
    svg.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{panel.y(limit):.1f}" '
        f'y2="{panel.y(limit):.1f}" stroke="{ERROR_BAD}" stroke-width="1.5" '
        'stroke-dasharray="6 4"/>'
    )
    for start, check, ratio, _, ok in steps:
        colour = ERROR_OK if ok else ERROR_BAD
        y = panel.y(ratio)
        svg.append(
            f'<line x1="{x(start):.1f}" x2="{x(check):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="4"/>'
            f'<circle cx="{x(check):.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'
        )
        label = f"{ratio:.4f} {'held' if ok else 'breached'}"
        at, anchor = inside(x(check) + 8, text_width(label))
        above = y - 9 if y - 9 - FONT > panel.top else y + FONT + 6
        svg.append(_text(at, above, label, anchor=anchor, extra=f' fill="{colour}"'))
    return svg


def _bars(samples, rows: list[str], top: float, x) -> list[str]:
    svg = []
    for index, iid in enumerate(rows):
        y = top + index * BAR
        svg.append(_text(LEFT - 6, y + BAR - 5, iid[-6:], anchor="end", extra=' font-size="13"'))
        for begin, finish, colour in _intervals(samples, iid):
            width = max(1.0, x(finish) - x(begin))
            svg.append(
                f'<rect x="{x(begin):.1f}" y="{y + 2}" width="{width:.1f}" '
                f'height="{BAR - 4}" fill="{colour}"/>'
            )
    return svg


def _intervals(samples, iid: str) -> list[tuple[float, float, str]]:
    """Merged stretches of time `iid` was out of service: in Standby (grey) or not (red)."""
    found: list[tuple[float, float, str]] = []
    for before, after in zip(samples, samples[1:], strict=False):
        if iid not in before.instances or iid in before.serving:
            continue
        colour = STANDBY if iid in before.standby else OUT_OF_SERVICE
        if found and found[-1][1] == before.t and found[-1][2] == colour:
            found[-1] = (found[-1][0], after.t, colour)
        else:
            found.append((before.t, after.t, colour))
    return found
