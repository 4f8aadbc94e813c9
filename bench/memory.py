"""Memory of a render worker: resident set size over 1,000 renders in one fresh process.

The render worker reuses one FontConfiguration and one stylesheet for every document; this
shows its memory levels off instead of growing with each render.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

_PROBE = """
import json, resource, sys
from reports.render import render_pdf
from reports.samples import sample_view

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

view = sample_view("invoice")
renders = int(sys.argv[1])
samples = []
for n in range(1, renders + 1):
    render_pdf(view, "en_US")
    if n % max(1, renders // 10) == 0:
        samples.append(round(rss_mb(), 1))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"samples": samples, "peak": round(peak, 1)}))
"""


def measure(renders: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(renders)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    samples = data["samples"]
    half = len(samples) // 2
    return {
        "render_renders": renders,
        "render_rss_mb_samples": samples,
        "render_rss_peak_mb": data["peak"],
        # Growth over the second half of the run: near zero when memory has levelled off.
        "render_rss_growth_second_half_mb": round(samples[-1] - samples[half], 1),
    }
