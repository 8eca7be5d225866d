"""Hot read paths: SQLAlchemy Core statements compiled once, run straight on the driver.

SQLAlchemy builds, keys and processes every statement on every execution; for a page of a
busy list that costs several times more than the query itself (measured: 0.17 ms against
0.03 ms on SQLite; even `exec_driver_sql` added a fifth to a whole list request). The SQL
still comes from SQLAlchemy, compiled once for each dialect, so it stays portable; only the
per-call machinery is skipped. Values come back as the driver
gives them (SQLite: times as text), so callers use them for keys and ids, not for display.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Hashable

from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable


class PreparedSelect:
    # Called with (sql, parameters) before each execution. These queries bypass the engine's
    # events (that is the point), so statement counters and tracing hook in here as well.
    observers: list[Callable[[str, Any], None]] = []

    def __init__(self, build: Callable[..., Executable]):
        # build(*shape) returns the statement for one shape (which filters are present ...),
        # with named bindparams for every value.
        self._build = build
        self._compiled: dict[tuple, tuple[str, tuple[str, ...] | None, dict, dict]] = {}

    def _statement(self, dialect, shape: tuple[Hashable, ...]) -> Executable:
        return self._build(*shape)

    def _sql(self, dialect, shape: tuple[Hashable, ...]):
        key = (dialect.name, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            statement = self._statement(dialect, shape).compile(dialect=dialect)
            order = tuple(statement.positiontup) if statement.positional else None
            # Literals in the statement (a status name, say) become parameters of their own.
            constants = {name: bind.effective_value for name, bind in statement.binds.items() if bind.value is not None}
            # What SQLAlchemy would do to each value on the way in (JSON to text, aware
            # datetimes to what the column stores ...); most parameters need nothing.
            processors = {}
            for name, bind in statement.binds.items():
                process = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    processors[name] = process
            constants = {name: processors[name](value) if name in processors else value for name, value in constants.items()}
            compiled = self._compiled[key] = (str(statement), order, constants, processors)
        return compiled

    def _run(self, session: Session, shape: tuple[Hashable, ...], params: dict[str, Any], fetch: bool):
        connection = session.connection()
        sql, order, constants, processors = self._sql(connection.dialect, shape)
        values = {**constants, **params}
        for name in processors.keys() & params.keys():
            values[name] = processors[name](values[name])
        args = tuple(values[name] for name in order) if order is not None else values
        for observe in self.observers:
            observe(sql, args)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, args)
            return cursor.fetchall() if fetch else cursor.rowcount
        except connection.dialect.loaded_dbapi.Error:
            # Let SQLAlchemy see the failure: it wraps the error the usual way and, for a lost
            # connection, invalidates the pool (answered with 503 by api.errors). A failed
            # statement changed nothing, so running it once more is safe.
            result = connection.exec_driver_sql(sql, args)
            return result.fetchall() if fetch else result.rowcount
        finally:
            cursor.close()

    def rows(self, session: Session, shape: tuple[Hashable, ...], params: dict[str, Any]) -> list[tuple]:
        return self._run(session, shape, params, fetch=True)


class PreparedWrite(PreparedSelect):
    """One INSERT/UPDATE compiled once per dialect; `build(dialect_name, *shape)` may use
    dialect-specific constructs (ON CONFLICT ...). `execute` returns the affected row count.

    It runs in the session's transaction, or on its own where the session has none (an
    autocommit request, see `api.transactions.one_statement_write`).
    """

    def _statement(self, dialect, shape: tuple[Hashable, ...]) -> Executable:
        return self._build(dialect.name, *shape)

    def execute(self, session: Session, shape: tuple[Hashable, ...], params: dict[str, Any]) -> int:
        # SQLite: other processes write too; outside a transaction the statement queues for
        # the writer lock itself (api.extensions.WriterLock), for exactly as long as it runs.
        connection = session.connection()
        writers = connection.info.get("writers")
        if writers is None:
            return self._run(session, shape, params, fetch=False)
        return writers.run_alone(connection, lambda: self._run(session, shape, params, fetch=False))


def as_utc(value) -> datetime | None:
    """A driver's time value as an aware UTC datetime (SQLite hands back text)."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
