"""`python -m benchmarks.peak_memory REPORT -- COMMAND...`: run COMMAND, note its peak memory.

Linux keeps a process's memory high-water mark across exec, so a child forked straight from the
benchmark (which holds the simulated Meta's 100,000 leads) would report the benchmark's size as
its own. Forked from this small launcher instead, the child's ru_maxrss is the command's own.
REPORT gets {"peak_rss_kb", "seconds", "cpu_seconds", "returncode"}; the exit code is the
command's. CPU seconds (user + system) tell how much of the wall time the command really ran on
a machine that others share.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    report, command = Path(argv[0]), argv[2:]
    started = time.perf_counter()
    child = subprocess.Popen(command)  # noqa: S603 - the benchmark's own command
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    measured = {
        "peak_rss_kb": usage.ru_maxrss,  # kilobytes on Linux
        "seconds": time.perf_counter() - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "returncode": child.returncode,
    }
    report.write_text(json.dumps(measured))
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
