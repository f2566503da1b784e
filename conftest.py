"""Repository-wide pytest hooks.

Prints, at the end of the session, how long each notebook took under nbval
(`bash scripts/test.sh` runs the chapters as ``*.ipynb`` test files): the sum of
the setup/call/teardown durations of all its cells, kernel start included.
"""

from collections import defaultdict

_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)
_NOTEBOOK_FAILED: set[str] = set()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] += report.duration
        if report.failed:
            _NOTEBOOK_FAILED.add(path)


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_SECONDS:
        return
    tr = terminalreporter
    tr.write_sep("=", "notebook execution times")
    width = max(len(p) for p in _NOTEBOOK_SECONDS)
    for path, seconds in sorted(_NOTEBOOK_SECONDS.items()):
        status = "FAILED" if path in _NOTEBOOK_FAILED else "ok"
        tr.write_line(f"{path:<{width}}  {seconds:8.1f} s  {status}")
    tr.write_line(f"{'total':<{width}}  {sum(_NOTEBOOK_SECONDS.values()):8.1f} s")
