"""Shared fixtures: the reference figures in ``shared/validation`` beside the repository, and the Dask
cluster and Spark session of the scale-out tests (skipped where Dask or Spark is not installed)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
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


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A Dask cluster of two worker processes (states cross between processes as bytes), one thread
    each."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="2GiB"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        assert len(c.scheduler_info()["workers"]) == 2
        yield c


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """Spark in local mode: two executor threads, Python workers in other processes, UTC."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("cx-metrics-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
