"""Every study report committed under docs/studies rebuilds from committed per-run files: the runs it lists exist in
the repository (metrics, config, pass@k summaries), and `rlvr.report` run on them writes the same tables."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "docs" / "studies"
REPORTS = sorted(STUDIES.rglob("report.md"))


def _run_paths(report: Path) -> list[Path]:
    """The runs a report lists under "Runs:", resolved from the repository root or from a folder above the report."""
    text = report.read_text()
    listed = re.findall(r"^- `([^`]+)`$", text.split("\nRuns:", 1)[1], flags=re.M) if "\nRuns:" in text else []
    resolved = []
    for name in listed:
        bases = [ROOT, *[p for p in report.parents if STUDIES in p.parents or p == STUDIES]]
        found = next((b / name for b in bases if (b / name / "metrics.jsonl").is_file()), None)
        assert found is not None and STUDIES in found.parents, (
            f"{report.relative_to(ROOT)} lists run {name}, not committed under docs/studies (python -m bench study-runs)")
        resolved.append(found)
    return resolved


def _tables(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def test_every_study_folder_has_reports():
    assert len(REPORTS) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("report", REPORTS, ids=lambda p: str(p.parent.relative_to(STUDIES)))
def test_the_report_rebuilds_from_committed_runs(report, tmp_path):
    from rlvr.tools.report import write_report

    text = report.read_text()
    runs = _run_paths(report)
    assert runs, f"{report.relative_to(ROOT)} lists no runs"
    by = re.search(r"grouped by `([^`]+)`", text).group(1).split(", ")
    title = text.splitlines()[0].removeprefix("# ")
    rebuilt = write_report(runs, tmp_path, by=by, title=title).read_text()
    assert _tables(rebuilt) == _tables(text)
