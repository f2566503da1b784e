"""environment.yml (conda) and pyproject.toml (pip) must list the same packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    """Normalised distribution name (PEP 503) of a requirement string."""
    name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip()).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    reqs = project["dependencies"] + extras["book"] + extras["test"]
    return {_name(r) for r in reqs}


def _environment() -> tuple[set[str], set[str]]:
    """(conda package names, pip package names) of environment.yml."""
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = {_name(d) for d in deps if isinstance(d, str)}
    pip = [r for d in deps if isinstance(d, dict) for r in d.get("pip", [])]
    # "-e ." installs this package itself; it is not a dependency.
    return conda, {_name(r) for r in pip if not r.startswith("-")}


def test_environment_yml_matches_pyproject():
    conda, pip = _environment()
    assert conda == {"python", "pip"}
    assert pip == _pyproject_names()


def test_torch_pinned_to_cpu_wheel_everywhere():
    # An unpinned torch resolves to a multi-GB CUDA build; keep the pins aligned.
    pin = "torch==2.13.0"
    assert pin in (ROOT / "environment.yml").read_text()
    assert pin in (ROOT / "scripts" / "setup.sh").read_text()
