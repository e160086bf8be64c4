"""QR codes drawn as inline SVG (segno): no image request, no network, allowed by the CSP."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(data: str, label: str) -> Markup:
    """An SVG QR code of ``data``; ``label`` is its accessible name (escaped by segno).

    Error correction M survives a crease or a smudge on a printed poster; the default quiet zone
    of four modules is what phone cameras need to find the code.
    """
    svg = segno.make(data, error="m").svg_inline(
        scale=4, title=label, svgclass="qr", lineclass=None, omitsize=True
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's own SVG, title escaped
