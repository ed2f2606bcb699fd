"""A self-contained HTML chart of a rehearsal: two panels over one time axis, the instances in
service (against the promised floor) above, the group's Min/Desired/Max below."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 960
PANEL_HEIGHT = 190
LEFT, RIGHT, TOP, GAP, BOTTOM = 50, 40, 34, 44, 40
SERVING = (
    ("registered", "healthy targets of the load balancer (any lifecycle state)", "#9b59b6", "3 3"),
    ("in_service", "InService and healthy behind the load balancer", "#1b7f3b", ""),
)
CAPACITY = (
    ("max_size", "MaxSize", "#7f8c8d", "8 3 2 3"),
    ("desired_capacity", "DesiredCapacity", "#2c6fbb", ""),
    ("min_size", "MinSize", "#c0392b", "6 4"),
)


@dataclass(frozen=True)
class Sample:
    """What the observer saw at `t` seconds after the rehearsal started."""

    t: float
    in_service: int
    registered: int
    min_size: int
    desired_capacity: int
    max_size: int


@dataclass(frozen=True)
class Mark:
    """A moment worth labelling on the chart (a deployment or batch starting)."""

    t: float
    label: str


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
        for v in range(self.maximum + 1):
            svg.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{self.y(v):.1f}" y2="{self.y(v):.1f}" '
                f'stroke="#eee"/><text x="{LEFT - 8}" y="{self.y(v) + 4:.1f}" '
                f'text-anchor="end">{v}</text>'
            )
        return svg

    def series(self, samples: Sequence[Sample], attribute: str, colour: str, dash: str) -> str:
        points = [(self.x(s.t), self.y(getattr(s, attribute))) for s in samples]
        width = 3 if attribute == "in_service" else 2
        return (
            f'<path d="{_step_path(points)}" fill="none" stroke="{colour}" '
            f'stroke-width="{width}" stroke-dasharray="{dash}"/>'
        )


def _legend(entries: Sequence[tuple[str, str, str, str]]) -> str:
    return "".join(
        f'<li><span style="color:{colour}">&#9644;</span> {html.escape(label)}</li>'
        for _, label, colour, _ in entries
    )


def render(title: str, samples: Sequence[Sample], marks: Sequence[Mark], floor: int) -> str:
    """The chart as one HTML document with an inline SVG (no scripts, no external files)."""
    end = max([s.t for s in samples] + [m.t for m in marks] + [1.0])
    height = TOP + 2 * PANEL_HEIGHT + GAP + BOTTOM

    def x(t: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * t / end

    served = _Panel(TOP, PANEL_HEIGHT, max([s.registered for s in samples] + [floor]), x)
    capacity = _Panel(
        TOP + PANEL_HEIGHT + GAP, PANEL_HEIGHT, max([s.max_size for s in samples] + [1]), x
    )
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">'
    ]
    svg += served.frame("Instances in service")
    svg += capacity.frame("Auto Scaling group capacity")
    bottom = capacity.top + capacity.height
    for i in range(11):
        t = end * i / 10
        svg.append(f'<text x="{x(t):.1f}" y="{bottom + 16}" text-anchor="middle">{t:.1f}s</text>')
    for i, mark in enumerate(marks):
        row = served.top + 12 + 12 * (i % 2)  # alternate rows so neighbouring labels stay apart
        svg.append(
            f'<line x1="{x(mark.t):.1f}" x2="{x(mark.t):.1f}" y1="{served.top}" y2="{bottom}" '
            f'stroke="#999" stroke-dasharray="2 2"/><text x="{x(mark.t) + 3:.1f}" y="{row}" '
            f'fill="#555">{html.escape(mark.label)}</text>'
        )
    svg.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{served.y(floor):.1f}" '
        f'y2="{served.y(floor):.1f}" stroke="#e67e22" stroke-width="1.5" stroke-dasharray="4 3"/>'
        f'<text x="{WIDTH - RIGHT - 4}" y="{served.y(floor) - 4:.1f}" text-anchor="end" '
        f'fill="#e67e22">promised floor {floor}</text>'
    )
    svg += [served.series(samples, a, colour, dash) for a, _, colour, dash in SERVING]
    svg += [capacity.series(samples, a, colour, dash) for a, _, colour, dash in CAPACITY]
    svg.append("</svg>")
    lowest = min((s.in_service for s in samples), default=0)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}ul{list-style:none;padding:0}"
        "li{display:inline-block;margin-right:1.5em}h1{font-size:1.3em}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{''.join(svg)}"
        f"<ul>{_legend(SERVING)}{_legend(CAPACITY)}</ul>"
        f"<p>{len(samples)} samples over {end:.1f} s; lowest in service {lowest}, "
        f"promised floor {floor}.</p></body></html>"
    )
