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
import json, sys
from docpost.reports.render import render_pdf
from docpost.reports.samples import sample_view

def status_mb(field):
    # VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across execve, so that would
    # report the peak of the (large) benchmark process this one was forked from.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)

def rss_mb():
    return status_mb("VmRSS")

view = sample_view("invoice")
renders = int(sys.argv[1])
samples = []
for n in range(1, renders + 1):
    render_pdf(view, "en_US")
    if n % max(1, renders // 10) == 0:
        samples.append(round(rss_mb(), 1))
print(json.dumps({"samples": samples, "peak": round(status_mb("VmHWM"), 1)}))
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
    between = (len(samples) - 1 - half) * max(1, renders // 10)  # renders from half to last
    growth = samples[-1] - samples[half]
    return {
        "render_renders": renders,
        "render_rss_mb_samples": samples,
        "render_rss_peak_mb": data["peak"],
        # Growth over the second half of the run: near zero when memory has levelled off.
        "render_rss_growth_second_half_mb": round(growth, 1),
        "render_rss_growth_per_1000_renders_mb": round(growth * 1000 / max(1, between), 2),
    }
