"""Inline SVG charts drawn at build time: readable without JavaScript, light, deterministic.

Each chart carries a <title> and <desc>; the page also gives the same figures as a table.
Only published medians are drawn (a period below the publication threshold leaves a gap). The
drawing stretches to its box; its axes are HTML beside it, so their text keeps the size the
style sheet gives it on a phone as on a desktop (text inside a viewBox scales with the width).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from rules import dvf
from rules.fr import NNBSP, compte, nombre, periode

W, H = 1000, 400  # user units: the SVG stretches to its box (preserveAspectRatio="none")
COLORS = {"appartement": "#1f5fbf", "maison": "#c2571a"}
LABELS = dvf.TYPE_LABELS


def _scale(value: float) -> tuple[float, int]:
    """Axis maximum and number of intervals with a round step (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0, 1
    raw = value / 4
    power = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next((k * power for k in (1, 2, 2.5, 5, 10) if k * power >= raw), 10 * power)
    intervals = max(1, -(-int(value * 1000) // int(step * 1000)))  # ceil without float drift
    return step * intervals, intervals


def _grid(intervals: int) -> list[str]:
    return [
        f'<line x1="0" x2="{W}" y1="{H * i / intervals:.1f}" y2="{H * i / intervals:.1f}" class="grid"/>'
        for i in range(intervals + 1)
    ]


def _y_labels(ymax: float, intervals: int) -> str:
    """The value axis, in HTML beside the drawing: text keeps its CSS size at any width."""
    values = [ymax * i / intervals for i in range(intervals, -1, -1)]
    return (
        '<div class="y" aria-hidden="true">' + "".join(f"<span>{nombre(v)}</span>" for v in values) + "</div>"
    )


def _x_labels(periods: list[str]) -> str:
    """The time axis, in HTML: one cell per year, as wide as its periods (class gN: N periods)."""
    groups: list[list[str]] = []
    for period in periods:
        if groups and groups[-1][0][:4] == period[:4]:
            groups[-1].append(period)
        else:
            groups.append([period])
    sparse = " sparse" if len(groups) > 8 else ""  # a phone shows every other year
    cells = "".join(f'<span class="g{min(len(g), 12)}">{g[0][:4]}</span>' for g in groups)
    return f'<div class="x{sparse}" aria-hidden="true">{cells}</div>'


def _figure(
    ident: str,
    title: str,
    unit: str,
    desc: str,
    body: list[str],
    axes: tuple[str, str],
    legend: list[str],
    dense: bool = False,
) -> Markup:
    """A chart: the drawing (its <title> and <desc> say the figures) between HTML axes, with the
    unit above the value axis and a legend below."""
    y_axis, x_axis = axes
    items = "".join(
        f'<span class="key"><span class="swatch sw-{t}"></span>{LABELS[t]}</span>' for t in legend
    )
    css = ' class="dense"' if dense else ""
    svg = (
        f'<svg viewBox="0 0 {W} {H}" preserveAspectRatio="none" role="img"{css} '
        f'aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )
    return Markup(
        f'<figure class="chart"><p class="unit" aria-hidden="true">{unit}</p>'
        f'<div class="plot">{y_axis}<div class="area">{svg}{x_axis}</div></div>'
        f"<figcaption>{items}</figcaption></figure>"
    )


def _x(i: int, n: int) -> float:
    return W * (i + 0.5) / n


def price_chart(series: dict, grain: str, title: str) -> Markup | None:
    """Median price per m2 per period, one line per type; None when nothing is publishable."""
    points = {
        t: list(zip(series[t][grain]["period"], series[t][grain]["median_m2"], strict=True))
        for t in dvf.TYPES
    }
    published = {t: [(per, v) for per, v in pts if v is not None] for t, pts in points.items()}
    if sum(len(v) for v in published.values()) < 2:
        return None
    periods = sorted({per for pts in points.values() for per, _ in pts})
    ymax, intervals = _scale(max(v for pts in published.values() for _, v in pts) * 1.05)
    x_of = {per: _x(i, len(periods)) for i, per in enumerate(periods)}

    def y(v: float) -> float:
        return H * (1 - v / ymax)

    body = _grid(intervals)
    for typ, pts in points.items():
        segment: list[str] = []
        for per, v in [*pts, ("", None)]:
            if v is None:
                if len(segment) > 1:
                    body.append(
                        f'<polyline points="{" ".join(segment)}" stroke="{COLORS[typ]}" class="line"/>'
                    )
                segment = []
                continue
            segment.append(f"{x_of[per]:.1f},{y(v):.1f}")
            # A dot that stays round when the drawing stretches: a zero-length line, round caps.
            body.append(f'<path d="M{x_of[per]:.1f} {y(v):.1f}h0" stroke="{COLORS[typ]}" class="dot"/>')
    desc = ". ".join(
        f"{LABELS[t]} — "
        + f"{NNBSP}; ".join(f"{periode(per)}{NNBSP}: {nombre(v)}{NNBSP}€/m²" for per, v in pts)
        for t, pts in published.items()
        if pts
    )
    axes = (_y_labels(ymax, intervals), _x_labels(periods))
    legend = [t for t in published if published[t]]
    dense = len(periods) > 24  # monthly: smaller dots
    return _figure(f"chart-{grain}", f"{title} (€/m²)", "€ par m²", desc, body, axes, legend, dense)


def volume_chart(volumes: dict[str, dict[str, int]]) -> Markup | None:
    """Sales per year, flats and houses stacked; None without any sale."""
    years = sorted(volumes)
    if not years:
        return None
    ymax, intervals = _scale(max(v["total"] for v in volumes.values()))
    band = W / len(years)
    width = min(120.0, band * 0.6)
    body = _grid(intervals)
    for i, year in enumerate(years):
        x, base = _x(i, len(years)) - width / 2, 0
        for typ in dvf.TYPES:
            n = volumes[year][typ]
            if n:
                top = H * (1 - (base + n) / ymax)
                body.append(
                    f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" '
                    f'height="{H * n / ymax:.1f}" fill="{COLORS[typ]}"/>'
                )
            base += n
    desc = f"{NNBSP}; ".join(
        f"{y}{NNBSP}: " + ", ".join(compte(volumes[y][t], t) for t in dvf.TYPES) for y in years
    )
    axes = (_y_labels(ymax, intervals), _x_labels(years))
    return _figure("chart-volumes", "Nombre de ventes par année", "ventes", desc, body, axes, list(dvf.TYPES))
