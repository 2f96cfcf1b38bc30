"""environment.yml (conda users) and pyproject.toml (pip, `make`) list the same packages with
the same versions: they drifted once (pytest-xdist 3.6, which `make test` needs for
--no-loadscope-reorder, was only in pyproject)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: pip name -> conda-forge name, where they differ
CONDA_NAMES = {"kaleido": "python-kaleido"}


def _split(requirement: str) -> tuple[str, str]:
    """``"numpy>=1.24"`` -> ``("numpy", ">=1.24")`` (names lower-cased, ``_`` as ``-``)."""
    name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
    return name.lower().replace("_", "-"), requirement[len(name):].split("#")[0].replace(" ", "")


def _conda_environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    return dict(_split(d) for d in [*(d for d in deps if isinstance(d, str)), *pip])


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_split(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]])
    conda = _conda_environment()
    missing = [n for n in wanted if CONDA_NAMES.get(n, n) not in conda]
    differ = {n: (spec, conda[CONDA_NAMES.get(n, n)]) for n, spec in wanted.items()
              if n not in missing and conda[CONDA_NAMES.get(n, n)] != spec}
    assert not missing, f"in pyproject.toml but not in environment.yml: {missing}"
    assert not differ, f"versions differ (pyproject, environment.yml): {differ}"
    assert conda.pop("python") == "=3.11" and conda.pop("pip") == ""
    extra = sorted(set(conda) - {CONDA_NAMES.get(n, n) for n in wanted})
    assert not extra, f"in environment.yml but not in pyproject.toml: {extra}"
