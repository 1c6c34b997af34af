"""The same store on DuckDB and on Spark.

``both_backends`` runs a test once per engine over the test module's ``store``
fixture (a :class:`~sen.store.analytics.DuckDBEngine` the module fills by hand):
first ``("duckdb", backend)``, the store's own Ibis backend, then ``("spark",
backend)``, Ibis over a local Spark session reading the store's tables written
as Parquet. The tables are written again whenever the store's rows changed
since the last Spark test, so a test may add rows to its store first. A test
that gets the same answer from both has parity.

The Spark session starts once per test session (it takes seconds), and only
when a Spark test runs. Spark tests are marked ``spark``: ``-m "not spark"``
leaves them out locally; CI runs them. They are skipped only where Java is
missing, saying how to install it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sen.segments import backends


def java_missing() -> bool:
    home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is None and not (home and Path(home, "bin", "java").exists())


def fingerprint(store: Any) -> tuple[Any, ...]:
    """Each table's row count and a hash of its rows: whether the store changed."""
    return (str(store.path), *(
        (name, *store.execute(f'SELECT count(*), bit_xor(hash(t)) FROM "{name}" AS t')
         .fetchone()) for name in backends.store_tables(store)))


@pytest.fixture(scope="session")
def spark_backend() -> Iterator[Any]:
    """One local Spark session as an Ibis backend, for the whole test session."""
    if java_missing():
        pytest.skip(backends.JAVA_HINT)
    backend = backends.spark_backend()
    yield backend
    backend.disconnect()


_exported: dict[str, Any] = {}


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def both_backends(request: pytest.FixtureRequest, store: Any,
                  tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """``(name, Ibis backend)`` over the module's ``store``, once per engine."""
    if request.param == "duckdb":
        return "duckdb", backends.duckdb_backend(store)
    spark = request.getfixturevalue("spark_backend")
    now = fingerprint(store)
    if _exported.get("fingerprint") != now:
        directory = tmp_path_factory.mktemp("parquet")
        backends.export_parquet(store, directory)
        spark.register_parquet(directory)
        _exported["fingerprint"] = now
    return "spark", spark
