"""A self-contained HTML chart of a rehearsal (inline SVG, no scripts, no external files).

Three panels over one time axis (real seconds): instances in service against the promised
floor; the group's Min/Desired/Max (each line drawn a little apart, with its own dash, so equal
values never hide one another); and one row per instance with its out-of-service time as bars.
The verdict and the capacity before and after head the page; deployments are marked, failed
ones in red and rollbacks in orange."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

WIDTH = 980
LEFT, RIGHT, TOP, GAP = 60, 30, 40, 50
PANEL = 170
CAPACITY = (
    # attribute, label, colour, dash, vertical offset (px) so equal values stay visible
    ("max_size", "MaxSize", "#7f8c8d", "8 3 2 3", -3),
    ("desired_capacity", "DesiredCapacity", "#2c6fbb", "", 0),
    ("min_size", "MinSize", "#c0392b", "6 4", 3),
)
WEIGHTS = (
    # side, label, colour, dash, vertical offset (px): at 50/50 the two lines stay apart
    ("azure", "Azure weight", "#2c6fbb", "", -2),
    ("aws", "AWS weight", "#e67e22", "7 3", 2),
)
MARK_COLOURS = {"failed": "#c0392b", "rollback": "#e67e22", "action": "#8e44ad", "info": "#777"}


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


class _Panel:
    def __init__(self, top: float, height: float, maximum: int, x: Callable[[float], float]):
        self.top, self.height, self.maximum, self.x = top, height, max(maximum, 1), x

    def y(self, value: float) -> float:
        return self.top + self.height * (1 - value / (self.maximum + 0.5))

    def frame(self, title: str) -> list[str]:
        svg = [
            f'<rect x="{LEFT}" y="{self.top}" width="{WIDTH - LEFT - RIGHT}" '
            f'height="{self.height}" fill="#fafafa" stroke="#ccc"/>',
            f'<text x="{LEFT}" y="{self.top - 6}" font-weight="bold">{html.escape(title)}</text>',
        ]
        raw = max(1, self.maximum // 8)
        step = next((n for n in (1, 2, 5, 10, 20, 25, 50, 100) if n >= raw), raw)
        for v in range(0, self.maximum + 1, step):
            svg.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{self.y(v):.1f}" y2="{self.y(v):.1f}" '
                f'stroke="#eee"/><text x="{LEFT - 8}" y="{self.y(v) + 4:.1f}" '
                f'text-anchor="end">{v}</text>'
            )
        return svg


def render(title: str, verdict) -> str:  # verdict: rehearsal.verdict.Verdict
    samples, marks, floor = verdict.samples, verdict.marks, verdict.floor
    end = max([s.t for s in samples] + [m.t for m in marks] + [1.0])

    def x(t: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * t / end

    rows = sorted({iid for s in samples for iid in s.instances})
    row_height = max(4, min(14, 600 // max(1, len(rows))))
    served = _Panel(TOP, PANEL, max([len(s.instances) for s in samples] + [floor, 1]), x)
    capacity = _Panel(TOP + PANEL + GAP, PANEL, max([s.max_size for s in samples] + [1]), x)
    traffic = getattr(verdict, "traffic", None)
    weights = _Panel(capacity.top + PANEL + GAP, PANEL, 100, x) if traffic is not None else None
    bars_top = (weights or capacity).top + PANEL + GAP
    height = bars_top + row_height * len(rows) + 40
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">'
    ]
    svg += served.frame("Instances in service (InService and healthy in every load balancer)")
    svg += capacity.frame("Auto Scaling group capacity")
    if weights is not None:
        svg += weights.frame("Route 53 weights (%): each step set by the shift, rollbacks marked")
        svg += _weight_lines(traffic, weights, end, x)
    svg.append(
        f'<text x="{LEFT}" y="{bars_top - 6}" font-weight="bold">Per instance: out of service '
        "(red), in Standby (grey)</text>"
    )
    bottom = bars_top + row_height * len(rows)
    for i in range(11):
        t = end * i / 10
        svg.append(f'<text x="{x(t):.1f}" y="{bottom + 16}" text-anchor="middle">{t:.1f}s</text>')
    for i, mark in enumerate(marks):
        colour = MARK_COLOURS.get(mark.kind, "#777")
        row = served.top + 12 + 12 * (i % 3)  # staggered rows keep neighbouring labels apart
        width = 2 if mark.kind in ("failed", "rollback") else 1
        # Near the right edge a label reads leftwards, so it stays on the page.
        near_edge = x(mark.t) > WIDTH - RIGHT - 160
        label_x = x(mark.t) - 3 if near_edge else x(mark.t) + 3
        anchor = ' text-anchor="end"' if near_edge else ""
        svg.append(
            f'<line x1="{x(mark.t):.1f}" x2="{x(mark.t):.1f}" y1="{served.top}" y2="{bottom}" '
            f'stroke="{colour}" stroke-width="{width}" stroke-dasharray="2 2"/>'
            f'<text x="{label_x:.1f}" y="{row}" fill="{colour}"{anchor}>'
            f"{html.escape(mark.label)}</text>"
        )
    svg.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{served.y(floor):.1f}" '
        f'y2="{served.y(floor):.1f}" stroke="#e67e22" stroke-width="1.5" stroke-dasharray="4 3"/>'
        f'<text x="{WIDTH - RIGHT - 4}" y="{served.y(floor) - 4:.1f}" text-anchor="end" '
        f'fill="#e67e22">promised floor {floor}</text>'
    )
    points = [(x(s.t), served.y(s.in_service)) for s in samples]
    svg.append(f'<path d="{_step_path(points)}" fill="none" stroke="#1b7f3b" stroke-width="2.5"/>')
    for attribute, _, colour, dash, offset in CAPACITY:
        points = [(x(s.t), capacity.y(getattr(s, attribute)) + offset) for s in samples]
        svg.append(
            f'<path d="{_step_path(points)}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="{dash}"/>'
        )
    svg += _bars(samples, rows, bars_top, row_height, x)
    svg.append("</svg>")
    legend = "".join(
        f'<li><span style="color:{c}">&#9644;</span> {html.escape(label)}</li>'
        for _, label, c, _, _ in CAPACITY
    )
    legend += '<li><span style="color:#1b7f3b">&#9644;</span> in service</li>'
    if traffic is not None:
        legend += "".join(
            f'<li><span style="color:{c}">&#9644;</span> {html.escape(label)}</li>'
            for _, label, c, _, _ in WEIGHTS
        )
    legend += "".join(
        f'<li><span style="color:{c}">&#9482;</span> {k} mark</li>' for k, c in MARK_COLOURS.items()
    )
    word = verdict.word
    colour = "#1b7f3b" if verdict.ok else "#c0392b"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in verdict.reasons)
    deployments = "".join(
        f"<li>{html.escape(d.deployment_id)} {html.escape(d.kind)} {html.escape(d.revision)}: "
        f"<b style='color:{'#c0392b' if d.status == 'Failed' else '#1b7f3b'}'>"
        f"{html.escape(d.status)}</b></li>"
        for d in verdict.deployments
        if d.kind != "launch"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}ul.l{list-style:none;padding:0}"
        "ul.l li{display:inline-block;margin-right:1.5em}h1{font-size:1.3em}"
        ".v{font-size:1.6em;font-weight:bold}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p class='v' style='color:{colour}'>{word}</p>"
        f"<p>Min/Desired/Max: {verdict.capacity_before} before, {verdict.capacity_after} after "
        f"(expected {verdict.expected_after}); instances {verdict.instances_before} before, "
        f"{verdict.instances_after} after; lowest in service {verdict.lowest_in_service}, "
        f"promised floor {floor}.</p>"
        f"<ul>{reasons}</ul><ul>{deployments}</ul>"
        f"{''.join(svg)}<ul class='l'>{legend}</ul>"
        f"<p>{len(samples)} samples over {end:.1f} s (real seconds; time scale "
        f"{verdict.time_scale:g}).</p></body></html>"
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
        svg.append(
            f'<text x="{x(t) + 3:.1f}" y="{panel.y(w["aws"]) - 5:.1f}" fill="#e67e22">'
            f"{w['aws']}%</text>"
        )
    return svg


def _bars(samples, rows: list[str], top: float, row_height: int, x) -> list[str]:
    svg = []
    for index, iid in enumerate(rows):
        y = top + index * row_height
        svg.append(
            f'<text x="{LEFT - 4}" y="{y + row_height - 2}" text-anchor="end" '
            f'font-size="{min(10, row_height)}">{html.escape(iid[-6:])}</text>'
        )
        for begin, finish, colour in _intervals(samples, iid):
            width = max(0.5, x(finish) - x(begin))
            svg.append(
                f'<rect x="{x(begin):.1f}" y="{y + 1}" width="{width:.1f}" '
                f'height="{row_height - 2}" fill="{colour}"/>'
            )
    return svg


def _intervals(samples, iid: str) -> list[tuple[float, float, str]]:
    """Merged stretches of time `iid` was out of service (red) or in Standby (grey)."""
    found: list[tuple[float, float, str]] = []
    for before, after in zip(samples, samples[1:], strict=False):
        if iid not in before.instances or iid in before.serving:
            continue
        colour = "#95a5a6" if iid in before.standby else "#e74c3c"
        if found and found[-1][1] == before.t and found[-1][2] == colour:
            found[-1] = (found[-1][0], after.t, colour)
        else:
            found.append((before.t, after.t, colour))
    return found
