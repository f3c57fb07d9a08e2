"""Print how long `import medlab` takes, next to `import pydicom` as a reference.

The foundation's target is `import medlab` under 0.3 s: heavy libraries load on first use.
Each figure is the median of fresh interpreter runs (python -X importtime would also work).
"""

from __future__ import annotations

import statistics
import subprocess
import sys

RUNS = 15


def median_import(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(RUNS)
    ]
    return statistics.median(times)


if __name__ == "__main__":
    for statement in (
        "import medlab",
        "import medlab; medlab.check.registry()",
        "import pydicom",
        "import pynetdicom",
        "import matplotlib.pyplot",
    ):
        print(f"{statement:<45} {median_import(statement) * 1000:8.1f} ms (median of {RUNS})")
