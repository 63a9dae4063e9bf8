"""Inline SVG charts drawn at build time: readable without JavaScript, light, deterministic.

Each chart carries a <title> and <desc>; the page also gives the same figures as a table.
Only published medians are drawn (a period below the publication threshold leaves a gap).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from rules import dvf

W, H = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 62, 10, 14, 34
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


def _fmt(v: float) -> str:
    return f"{int(v):,}".replace(",", "\u202f")


def _axis(ymax: float, intervals: int) -> list[str]:
    parts = []
    for i in range(intervals + 1):
        value = ymax * i / intervals
        y = TOP + (H - TOP - BOTTOM) * (1 - i / intervals)
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 5:.1f}" text-anchor="end">{_fmt(value)}</text>')
    return parts


def _x_labels(periods: list[str], xs: list[float]) -> list[str]:
    """Label every period for years; for months and quarters, only the first of each year."""
    out, last_year = [], None
    step = max(1, len(periods) // 8) if len(periods[0]) == 4 else 1
    for i, (period, x) in enumerate(zip(periods, xs, strict=True)):
        year = period[:4]
        if (len(period) == 4 and i % step == 0) or (len(period) > 4 and year != last_year):
            out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 22}" text-anchor="middle">{year}</text>')
        last_year = year
    return out


def _svg(ident: str, title: str, desc: str, body: list[str], legend: list[str]) -> Markup:
    items = "".join(
        f'<span class="key"><span class="swatch sw-{t}"></span>{LABELS[t]}</span>' for t in legend
    )
    return Markup(
        f'<figure class="chart"><svg viewBox="0 0 {W} {H}" role="img" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        + "".join(body)
        + f"</svg><figcaption>{items}</figcaption></figure>"
    )


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
    span = W - LEFT - RIGHT
    xs = [LEFT + span * (i + 0.5) / len(periods) for i in range(len(periods))]
    x_of = dict(zip(periods, xs, strict=True))

    def y(v: float) -> float:
        return TOP + (H - TOP - BOTTOM) * (1 - v / ymax)

    body = _axis(ymax, intervals) + _x_labels(periods, xs)
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
            body.append(f'<circle cx="{x_of[per]:.1f}" cy="{y(v):.1f}" r="3.5" fill="{COLORS[typ]}"/>')
    desc = "; ".join(
        f"{LABELS[t]} : " + ", ".join(f"{per} {_fmt(v)} €/m²" for per, v in pts)
        for t, pts in published.items()
        if pts
    )
    return _svg(f"chart-{grain}", f"{title} (€/m²)", desc, body, [t for t in published if published[t]])


def volume_chart(volumes: dict[str, dict[str, int]]) -> Markup | None:
    """Sales per year, flats and houses stacked; None without any sale."""
    years = sorted(volumes)
    if not years:
        return None
    ymax, intervals = _scale(max(v["total"] for v in volumes.values()))
    span = W - LEFT - RIGHT
    band = span / len(years)
    width = min(48.0, band * 0.7)
    body = _axis(ymax, intervals) + _x_labels(years, [LEFT + band * (i + 0.5) for i in range(len(years))])
    for i, year in enumerate(years):
        x, base = LEFT + band * (i + 0.5) - width / 2, 0
        for typ in dvf.TYPES:
            n = volumes[year][typ]
            if n:
                top = TOP + (H - TOP - BOTTOM) * (1 - (base + n) / ymax)
                height = (H - TOP - BOTTOM) * n / ymax
                body.append(
                    f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" '
                    f'height="{height:.1f}" fill="{COLORS[typ]}"/>'
                )
            base += n
    desc = "; ".join(
        f"{y} : {volumes[y]['appartement']} appartements, {volumes[y]['maison']} maisons" for y in years
    )
    return _svg("chart-volumes", "Nombre de ventes par année", desc, body, list(dvf.TYPES))
