"""Front-end files the app serves itself.

`plotly-eujp.min.js` is plotly.js with only the trace types the dashboard draws (bar,
scatter, heatmap, pie, funnel, histogram): about 400 KB compressed instead of the full
bundle's 1.4 MB, so a first visit downloads and parses much less. Built by
`tools/plotlyjs/build.sh` from the same plotly.js version that Python's `plotly` bundles;
`app.py` serves it in place of the full bundle (`use_slim_plotlyjs`).
"""

__version__ = "3.1.1"  # the plotly.js version of the bundle (cache-busting in its URL)
PLOTLY_BUNDLE = "plotly-eujp.min.js"
PLOTLY_TRACES = ("bar", "scatter", "heatmap", "pie", "funnel", "histogram")
