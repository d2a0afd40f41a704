"""Every exported chart actually draws its data (not only axes and titles).

A numpy datetime axis once reached the renderer as raw datetime64 values: the SVG had every
bar, each an empty path, so a reviewer would have pasted an empty chart into a report.
"""

from __future__ import annotations

import re

import pytest
import requests

from pages._charts import REGISTRY

QUERY = "?from=2019&to=2024"
MARKS = re.compile(rb'class="(?:point|js-line|js-fill|hm|trace bars|trace heatmap)[^"]*"'
                   rb'[^>]*>\s*<path d="(M[^"]{8,})"|<path class="js-line" d="(M[^"]{8,})"'
                   rb'|<image [^>]*href="data:image/png')


@pytest.mark.browser
def test_every_exported_svg_draws_data(live_server: str) -> None:
    checked = 0
    for page, specs in REGISTRY.items():
        for spec in specs:
            r = requests.get(f"{live_server}/export/{page}/{spec.key}.svg{QUERY}", timeout=120)
            assert r.status_code == 200, (page, spec.key, r.text[:200])
            svg = r.content
            if b"No data for these filters" in svg:
                continue
            drawn = [m for m in MARKS.finditer(svg) if m.group(0)]
            empty_bars = svg.count(b'<path d="M0,0Z"')
            assert drawn, f"{page}/{spec.key}: exported SVG draws no data"
            assert empty_bars < svg.count(b'class="point"') or b'class="point"' not in svg, \
                f"{page}/{spec.key}: every bar is empty"
            checked += 1
    assert checked >= 10
