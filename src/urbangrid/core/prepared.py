"""Cursors whose statements PostgreSQL parses and plans once per connection (服务端预备语句).

Django's psycopg cursors bind parameters on the client: every statement reaches PostgreSQL as new text, which it
parses and plans each time. For a read answered in a few milliseconds that is a large share of the database's work
(and of the CPU the database and the driver spend per request). ``cursor()`` hands out Django's own cursor wrapper
(the queries are logged and counted as any other) around a psycopg cursor that binds on the server; the connection's
``prepare_threshold`` (settings: ``URBANGRID_PG_PREPARED``, default on) makes psycopg prepare each distinct statement
at its first use and keep at most ``prepared_max`` (100) per connection, least recently used dropped first. Only
these cursors prepare: Django's client-binding ones never do, whatever the threshold.

Use it for statements of a fixed shape that run on every request (the Open311 reads, the transition path's case
read); a statement whose text depends on the number of values (``IN (%s, %s, …)``) would fill the connection's
prepared statements with one entry per length. On SQLite (which keeps its own statement cache) and with the setting
off (behind a pooler in transaction mode, which cannot keep a session's prepared statements) this is Django's
ordinary cursor.

``rows()`` goes one step further for a queryset read on every request: Django compiles a queryset's SQL every time,
which costs more than running it (a few hundred microseconds for a filter on three columns); ``rows()`` compiles it
once per connection with placeholder values and binds each call's values into the kept statement.
"""
import functools
from datetime import datetime
from datetime import timezone as dt_timezone

from django.db import connections
from django.db.models import DateTimeField

from django.db.backends.utils import CursorWrapper

try:  # psycopg 3 only: psycopg2 has no server-side binding
    from django.db.backends.postgresql.base import CursorDebugWrapper
    from django.db.backends.postgresql.base import ServerBindingCursor as _DjangoServerBindingCursor
    from psycopg._queries import PostgresQuery, _query2pg_nocache
    from psycopg.pq import Format

    BINARY = Format.BINARY
except ImportError:  # pragma: no cover - the project requires psycopg 3
    CursorDebugWrapper = ServerBindingCursor = None
else:
    _converted = functools.lru_cache(maxsize=512)(_query2pg_nocache)

    class _KeptQuery(PostgresQuery):
        """psycopg turns the %s placeholders into $1, $2 … on every execution of a statement with more than 50
        values, uncached (an ORM's bulk INSERTs come in ever new shapes): for the case's INSERT (eighty columns)
        that was a tenth of an Open311 POST. These cursors run statements of fixed text, so the conversion is kept
        whatever their length."""

        def convert(self, query, vars):
            if vars is None or not isinstance(query, (str, bytes)):
                return super().convert(query, vars)
            query = self._ensure_bytes(query)
            self.query, self._want_formats, self._order, self._parts = _converted(query, self._tx.encoding)
            self.dump(vars)

    class ServerBindingCursor(_DjangoServerBindingCursor):
        _query_cls = _KeptQuery

    class _Logged(CursorDebugWrapper):
        """Django's query log entry for a statement of these cursors: the SQL with its values, as for Django's own
        cursors (Django reads the driver's last query text, which a server-binding cursor does not keep)."""

        def execute(self, sql, params=None):
            with self.debug_sql(self.db.ops.compose_sql(sql, params) if params else sql, params):
                return CursorWrapper.execute(self, sql, params)


def cursor(using="default", binary=False):
    """A cursor for ``with``: server-binding (prepared) on PostgreSQL when the connection prepares, else Django's.

    ``binary``: PostgreSQL sends the rows in its binary format, which the driver's C loaders read several times
    faster than text (a datetime: the text is parsed in Python). Only for plain columns: Django reads json and
    jsonb as text, and a binary json column would reach its JSONField as a decoded value."""
    conn = connections[using]
    if conn.vendor != "postgresql" or ServerBindingCursor is None:
        return conn.cursor()
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    if conn.connection.prepare_threshold is None:
        return conn.cursor()
    with conn.wrap_database_errors:
        # what BaseDatabaseWrapper._prepare_cursor() does with the cursor create_cursor() makes
        conn.validate_thread_sharing()
        raw = ServerBindingCursor(conn.connection)
        if binary:
            raw.format = BINARY
        return _Logged(raw, conn) if conn.queries_logged else conn.make_cursor(raw)


# --- querysets compiled once per connection --------------------------------------------------------

_compiled = {}
_MAX_STATEMENTS = 256


def rows(name, build, values, using="default", binary=False):
    """Rows of the queryset ``build()`` makes with placeholder values, those values replaced by ``values``
    ({placeholder: value}; each placeholder a value of the right type no real query would hold, e.g. a negative id
    or a string with control characters; datetimes are compared and bound in the database's form). The SQL and its
    column converters are compiled once per connection and ``name`` (which must name the shape: whatever changes
    the SQL beyond the placeholders' values, such as a slice or the number of values in an ``IN``). ``binary``: the
    rows in PostgreSQL's binary format (``cursor()``; not for json columns). Returns a list of rows (tuples or
    lists), as ``values_list()`` of the queryset would."""
    conn = connections[using]
    adapt = conn.ops.adapt_datetimefield_value
    values = {(adapt(k) if isinstance(k, datetime) else k): (adapt(v) if isinstance(k, datetime) else v)
              for k, v in values.items()}
    key = (name, id(conn), using)
    entry = _compiled.get(key)
    if entry is None or entry[0] is not conn:
        compiler = build().query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        converters = _fast(conn, compiler.get_converters([col for col, _sql, _alias in compiler.select]))
        slots = [next((p for p in values if type(p) is type(param) and p == param), None) for param in params]
        if values and {s for s in slots if s is not None} != set(values):
            raise RuntimeError(f"a placeholder is missing from the compiled statement {name!r}")
        if len(_compiled) >= _MAX_STATEMENTS:
            _compiled.clear()
        entry = _compiled[key] = (conn, sql, list(params), slots, converters)
    conn, sql, params, slots, converters = entry
    bound = [values[s] if s is not None else p for p, s in zip(params, slots)]
    with cursor(using, binary) as c:
        c.execute(sql, bound)
        found = c.fetchall()
    if converters:
        found = [list(row) for row in found]
        for pos, convert in converters:
            for row in found:
                row[pos] = convert(row[pos])
    return found


def _utc(value):
    return value if value is None else value.replace(tzinfo=dt_timezone.utc)


def _fast(conn, converters):
    """[(column, one-argument function)] doing what Django's converters do to a column; a datetime column of
    SQLite in one step (the driver has parsed it already; Django's converter would check it and make it aware in
    UTC, the connection's zone, at four times the cost: a page of 100 cases holds 400 datetimes)."""
    out = []
    for pos, (functions, expression) in converters.items():
        field = getattr(expression, "output_field", None)
        if (conn.vendor == "sqlite" and isinstance(field, DateTimeField) and conn.timezone_name == "UTC"
                and functions == [conn.ops.convert_datetimefield_value]):
            out.append((pos, _utc))
        else:
            out.append((pos, functools.partial(_chain, functions, expression, conn)))
    return out


def _chain(functions, expression, conn, value):
    for function in functions:
        value = function(value, expression, conn)
    return value
