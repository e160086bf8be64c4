"""Icon arrays as inline SVG: 100 figures, the affected ones filled, with a text equivalent."""

from __future__ import annotations

from markupsafe import Markup, escape

from spinepath.decision_aid.models import DENOMINATOR
from spinepath.decision_aid.numbers import fmt

COLUMNS = 10
CELL = 10
FILLED = {"harm": "#9b2c1f", "benefit": "#1d6b3a", "neutral": "#124e8c"}
EMPTY = "#d5dbe2"


def filled_count(value: float) -> int:
    """Icons to fill: the nearest whole person, but never 0 for a risk of 0.5 or more."""
    return min(DENOMINATOR, round(value))


def icon_array(value: float, label: str, element_id: str, tone: str = "neutral") -> Markup:
    """An accessible 10 x 10 icon array (``role=img`` with ``<title>`` and ``<desc>``)."""
    count = filled_count(value)
    colour = FILLED.get(tone, FILLED["neutral"])
    title = f"{fmt(value)} in {DENOMINATOR} people {label}"
    if 0 < value < 1:
        desc = f"Fewer than 1 icon in {DENOMINATOR} would be filled; none is shown filled."
    else:
        desc = f"{count} of {DENOMINATOR} figures are filled; {DENOMINATOR - count} are not."
    filled: list[str] = []
    empty: list[str] = []
    for i in range(DENOMINATOR):
        row, col = divmod(i, COLUMNS)
        x, y = col * CELL + CELL // 2, row * CELL + CELL // 2
        # A simple person (head and shoulders) drawn as one path segment per icon, so the
        # whole array is two paths: small enough to repeat many times in a page.
        person = f"M{x - 2} {y - 2}a2 2 0 1 0 4 0a2 2 0 1 0-4 0M{x - 3} {y + 4}a3 3 0 0 1 6 0z"
        (filled if i < count else empty).append(person)
    shapes = []
    if filled:
        shapes.append(f'<path fill="{colour}" d="{"".join(filled)}"/>')
    if empty:
        shapes.append(f'<path fill="{EMPTY}" d="{"".join(empty)}"/>')
    tid, did = f"{element_id}-t", f"{element_id}-d"
    svg = (
        f'<svg class="da-icons" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" '
        f'role="img" aria-labelledby="{tid} {did}" focusable="false">'
        f'<title id="{tid}">{escape(title)}</title><desc id="{did}">{escape(desc)}</desc>'
        f"{''.join(shapes)}</svg>"
    )
    return Markup(svg)  # noqa: S704 - shapes are numbers; title and description are escaped
