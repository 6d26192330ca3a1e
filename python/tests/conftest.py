"""Shared fixtures: the reference figures in ``shared/validation`` beside the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VALIDATION = REPO_ROOT.parent / "shared" / "validation"


def load_vectors(name: str) -> dict[str, Any]:
    path = VALIDATION / name
    if not path.is_file():
        pytest.fail(f"reference file {name} not found in {VALIDATION}")
    with path.open() as f:
        data: dict[str, Any] = json.load(f)
    return data


@pytest.fixture(scope="session")
def nps_vectors() -> dict[str, Any]:
    return load_vectors("nps_vectors.json")


@pytest.fixture(scope="session")
def proportion_vectors() -> dict[str, Any]:
    return load_vectors("proportion_vectors.json")
