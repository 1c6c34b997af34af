"""The engines segments run on: Ibis over DuckDB and over Apache Spark.

DuckDB is the store itself (:func:`duckdb_backend`). For scale-out the same
tables are written as Parquet (:func:`export_parquet`) and read by a Spark
session (:func:`spark_backend`); the segment compiler's Ibis expressions run
unchanged on either, and :func:`rows` / :func:`execute_ids` fetch the answer the
same way from both.

How the tables cross over:

- DuckDB ``TIMESTAMP`` (naive, UTC by Sen's rule) is written as a Parquet
  timestamp not adjusted to UTC, which Spark reads as ``TIMESTAMP_NTZ``: no zone
  shift on either side. The session's zone is UTC all the same, so a literal
  compared with such a column means the same instant.
- ``VARCHAR[]`` (``channels``) is a Parquet list, an ``array<string>`` in Spark.
- ``JSON`` is Parquet text with the JSON annotation; Spark has no JSON type and
  reads text, so :class:`SparkBackend` gives those columns Ibis' JSON type again
  from the Parquet schema (property access compiles to ``get_json_object``).
- ``UBIGINT`` (hash keys of the raw log and identity tables) has no Spark type
  and arrives as ``decimal(20,0)``; segments do not read those columns.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from sen.errors import StoreError

JAVA_HINT = ("Spark needs Java 17: `sudo apt-get install -y openjdk-17-jre-headless` "
             "(or `bash scripts/setup.sh --system`).")


def duckdb_backend(engine: Any) -> Any:
    """The Ibis DuckDB backend on ``engine``'s own connection (sees its tables live)."""
    return engine.ibis()


def table(backend: Any, name: str) -> ir.Table:
    """Table ``name`` of any Ibis backend."""
    return backend.table(name)


# -- DuckDB to Parquet --------------------------------------------------------------------

def store_tables(engine: Any) -> list[str]:
    """Every table of the analytical store, by name."""
    rows = engine.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                          "AND NOT temporary ORDER BY table_name").fetchall()
    return [r[0] for r in rows]


def export_parquet(engine: Any, directory: Path | str,
                   tables: Iterable[str] | None = None) -> dict[str, Path]:
    """Write each table (default: all of them) to ``directory/<table>.parquet``.

    Returns the files by table name. An existing file is replaced.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    known = set(store_tables(engine))
    names = list(tables) if tables is not None else sorted(known)
    missing = [n for n in names if n not in known]
    if missing:
        raise StoreError(f"The analytical store has no table {', '.join(missing)}.",
                         hint=f"It has: {', '.join(sorted(known))}.")
    files = {}
    for name in names:
        path = out / f"{name}.parquet"
        target = str(path).replace("'", "''")
        engine.execute(f'COPY "{name}" TO \'{target}\' (FORMAT parquet, COMPRESSION zstd)')
        files[name] = path
    return files


def _json_columns(path: Path) -> list[str]:
    """Columns the Parquet file annotates as JSON."""
    import pyarrow.parquet as pq

    schema = pq.ParquetFile(path).schema
    leaves = [schema.column(i) for i in range(len(schema))]
    return [c.name for c in leaves if str(c.logical_type) == "JSON" and "." not in c.path]


# -- Spark --------------------------------------------------------------------------------

class SparkBackend:
    """What Sen adds to Ibis' PySpark backend (mixed in by :func:`spark_backend`, so
    importing this module needs no pyspark): Parquet tables become views when
    first used, text columns the Parquet file marks as JSON read as Ibis JSON,
    and it owns its session: :meth:`disconnect` (or leaving a ``with`` block)
    stops Spark and removes its scratch directory."""

    scratch: Path | None
    _session: Any
    _files: dict[str, Path]
    _views: dict[str, tuple[Path, list[str]]]

    def register_parquet(self, directory: Path | str) -> list[str]:
        """Serve each ``<table>.parquet`` of ``directory`` as table ``<table>``
        (replacing one of the same name); returns the names. Spark reads a file's
        schema only when its table is first used."""
        names = []
        for path in sorted(Path(directory).glob("*.parquet")):
            self._files[path.stem] = path
            names.append(path.stem)
        return names

    def _view(self, name: str) -> list[str]:
        """Make sure view ``name`` reads its current file; its JSON columns."""
        path = self._files.get(name)
        if path is None:
            return []
        current = self._views.get(name)
        if current is None or current[0] != path:
            self._session.read.parquet(str(path)).createOrReplaceTempView(name)
            current = self._views[name] = (path, _json_columns(path))
        return current[1]

    def get_schema(self, table_name: str, *, catalog: str | None = None,
                   database: str | None = None) -> Any:
        wanted = self._view(table_name)
        schema = super().get_schema(  # type: ignore[misc]
            table_name, catalog=catalog, database=database)
        if not wanted:
            return schema
        return ibis.schema({name: dt.JSON(nullable=kind.nullable) if name in wanted else kind
                            for name, kind in schema.items()})

    def disconnect(self) -> None:
        super().disconnect()  # type: ignore[misc]
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def __enter__(self) -> SparkBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()


def _json_path(op: Any) -> str:
    """The JSONPath of one step (``properties['brand']``, ``tags[0]``)."""
    index = op.index.value
    if isinstance(index, int):
        return f"$[{index}]"
    for quote in ('"', "'"):
        if quote not in index:
            return f"$[{quote}{index}{quote}]"
    raise StoreError(f"A JSON key holding both kinds of quote cannot be read on Spark: "
                     f"{index!r}.")


_SPARK_NUMBERS = ("TINYINT", "SMALLINT", "INT", "BIGINT")


def _spark_compiler() -> Any:
    """Ibis' Spark SQL compiler, reading JSON with Spark's own VARIANT functions.

    Ibis reads a JSON property on Spark with ``get_json_object``, which returns a
    string unquoted (so ``unwrap_as("string")`` fails in its Python UDF) and
    then checks types in Python workers. Here every step stays JSON text and the
    typed read checks the JSON type as DuckDB does (a number is not a string).
    """
    import ibis.expr.operations as ops
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    unwraps = (ops.UnwrapJSONString, ops.UnwrapJSONInt64, ops.UnwrapJSONFloat64,
               ops.UnwrapJSONBoolean)

    def _parse_json(arg: Any) -> Any:
        # Spelled out: sqlglot's own ParseJSON prints as its bare argument for Spark.
        return sge.Anonymous(this="parse_json", expressions=[arg])

    class Compiler(PySparkCompiler):
        SIMPLE_OPS = {k: v for k, v in PySparkCompiler.SIMPLE_OPS.items() if k not in unwraps}

        def _typed(self, arg: Any, kinds: tuple[str, ...], to: str,
                   decimal: bool = False) -> Any:
            value = _parse_json(arg)
            kind = self.f.schema_of_variant(value)
            test = kind.isin(*(sge.convert(k) for k in kinds))
            if decimal:
                test = test.or_(kind.like(sge.convert("DECIMAL%")))
            return self.if_(test, self.f.variant_get(value, sge.convert("$"), sge.convert(to)),
                            sge.Null())

        def visit_ScalarUDF(self, op: Any, **kw: Any) -> Any:
            # DuckDB's json_extract_string (``->>``) is Spark's get_json_object: a
            # string's text unquoted, any other value as JSON text, NULL if absent.
            if self.__sql_name__(op) == "json_extract_string":
                return self.f.get_json_object(*kw.values())
            return super().visit_ScalarUDF(op, **kw)

        def visit_JSONGetItem(self, op: Any, *, arg: Any, index: Any) -> Any:
            step = self.f.variant_get(_parse_json(arg), sge.convert(_json_path(op)),
                                      sge.convert("variant"))
            return self.f.to_json(step)

        def visit_UnwrapJSONString(self, op: Any, *, arg: Any) -> Any:
            return self._typed(arg, ("STRING",), "string")

        def visit_UnwrapJSONInt64(self, op: Any, *, arg: Any) -> Any:
            return self._typed(arg, _SPARK_NUMBERS, "bigint")

        def visit_UnwrapJSONFloat64(self, op: Any, *, arg: Any) -> Any:
            return self._typed(arg, (*_SPARK_NUMBERS, "FLOAT", "DOUBLE"), "double", decimal=True)

        def visit_UnwrapJSONBoolean(self, op: Any, *, arg: Any) -> Any:
            return self._typed(arg, ("BOOLEAN",), "boolean")

    return Compiler()


@functools.cache
def _spark_class() -> type:
    from ibis.backends.pyspark import Backend

    ibis.pyspark.connect  # noqa: B018 - loading it through ibis registers its options

    return type("SparkBackend", (SparkBackend, Backend),
                {"__doc__": SparkBackend.__doc__, "compiler": _spark_compiler()})


def spark_session(scratch: Path, *, memory: str = "1g", cores: int = 2) -> Any:
    """A local Spark session on loopback only: no UI, no progress bars, UTC,
    warehouse and spill files under ``scratch``."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers (JSON properties are read by Python UDFs) use this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    java_tmp = scratch / "tmp"
    java_tmp.mkdir(parents=True, exist_ok=True)
    session = (
        SparkSession.builder.master(f"local[{cores}]").appName("sen")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.default.parallelism", str(cores))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={java_tmp}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_backend(directory: Path | str | None = None, *, memory: str = "1g",
                  cores: int = 2) -> SparkBackend:
    """A local Spark session as an Ibis backend, with each Parquet table of
    ``directory`` (see :func:`export_parquet`) registered under its name.

    Spark keeps one session per process: call ``disconnect()`` (or use ``with``)
    when done. Starting takes a few seconds, so share one and call
    :meth:`SparkBackend.register_parquet` for other data.
    """
    scratch = Path(tempfile.mkdtemp(prefix="sen-spark-"))
    try:
        session = spark_session(scratch, memory=memory, cores=cores)
    except Exception as exc:  # noqa: BLE001 - no Java, or a JVM that would not start
        shutil.rmtree(scratch, ignore_errors=True)
        raise StoreError(f"Spark did not start: {exc}", hint=JAVA_HINT) from exc
    try:
        backend = _spark_class()().connect(session)
    except Exception:
        session.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    backend.scratch, backend._files, backend._views = scratch, {}, {}
    if directory is not None:
        backend.register_parquet(directory)
    return backend


# -- answers ------------------------------------------------------------------------------

def rows(backend: Any, expr: ir.Expr) -> list[tuple[Any, ...]]:
    """The rows of ``expr`` as plain Python tuples, from any backend (no DataFrame
    in between, so both engines' answers compare with ``==``)."""
    if backend.name != "pyspark":
        return [tuple(r.values()) for r in backend.to_pyarrow(expr.as_table()).to_pylist()]
    backend._run_pre_execute_hooks(expr)
    sql = backend.compile(expr.as_table())
    try:
        return [tuple(r) for r in backend.raw_sql(sql).collect()]
    except Exception as exc:  # noqa: BLE001 - py4j and Spark raise many kinds
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise StoreError(f"Spark failed: {first.strip()}", sql=sql) from exc


def execute_ids(backend: Any, expr: ir.Table | ir.Column) -> set[str]:
    """The member set: the first column of ``expr`` (``profile_id``), as a set."""
    return {r[0] for r in rows(backend, expr)}
