"""Loading one case by its number on the transition path.

Every transition starts by reading its case. Compiling Django's SELECT of the case's eighty columns
costs several times more than running it (about 0.4 ms against 0.06 ms on SQLite), so the compiled
statement and its column converters are kept per connection and only the number changes. The row
becomes a normal ``Case`` through ``Case.from_db``, exactly as a queryset would build it.
"""
from django.db import connections

from .models import Case

_compiled = {}
_MAX_ENTRIES = 256  # one per (connection, lock mode); connections are per thread


def _statement(using, for_update):
    conn = connections[using]
    key = (id(conn), using, for_update)
    entry = _compiled.get(key)
    if entry is None:
        qs = Case.objects.using(using).filter(number="").order_by()
        if for_update:
            qs = qs.select_for_update()
        compiler = qs.query.get_compiler(using=using)
        sql, _params = compiler.as_sql()
        columns = [col for col, _sql, _alias in compiler.select]
        names = [f.attname for f in Case._meta.concrete_fields]
        if len(columns) != len(names):  # a deferred or extra column would break the row → field mapping
            raise RuntimeError("unexpected column list in the case SELECT")
        if len(_compiled) >= _MAX_ENTRIES:
            _compiled.clear()
        entry = _compiled[key] = (conn, compiler, sql, compiler.get_converters(columns), names)
    return entry


def load_case(number, for_update=False, using="default"):
    """The case with this number (row-locked when ``for_update``), or None."""
    conn, compiler, sql, converters, names = _statement(using, for_update)
    with conn.cursor() as cursor:
        cursor.execute(sql, [str(number)])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    return Case.from_db(using, names, tuple(row))
