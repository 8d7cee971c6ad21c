"""Loading one case by its number on the transition path, and the step's two writes (the case, its event).

Every transition starts by reading its case. Compiling Django's SELECT of the case's eighty columns
costs several times more than running it (about 0.4 ms against 0.06 ms on SQLite), so the compiled
statement and its column converters are kept per connection and only the number changes. The row
becomes a normal ``Case`` through ``Case.from_db``, exactly as a queryset would build it.
"""
from django.db import DatabaseError, connections

from urbangrid.core import prepared

from .models import Case, CaseEvent, CasePhoto

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
    with prepared.cursor(using) as cursor:
        cursor.execute(sql, [str(number)])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    return Case.from_db(using, names, tuple(row))


# --- the two writes of every step -----------------------------------------------------------------
# Case and CaseEvent have no save signals, no auto_now fields and no file fields, so their ORM save is only its
# SQL; compiling that SQL (and walking save()'s machinery) cost more than running it. The statements are built
# once per connection (and, for the update, per set of changed columns) from the model's own fields, and every
# value goes through the field's ``get_db_prep_save``, as Model.save() sends it.

_updates, _inserts = {}, {}


def update_case(case, names, using="default"):
    """``case.save(update_fields=names)``: UPDATE of those columns of the case's row (which must exist)."""

    if not names:
        return
    conn = connections[using]
    key = (id(conn), using, tuple(names))
    entry = _updates.get(key)
    if entry is None:
        qn = conn.ops.quote_name
        fields = [Case._meta.get_field(name) for name in names]
        sql = (f"UPDATE {qn(Case._meta.db_table)} SET " + ", ".join(f"{qn(f.column)} = %s" for f in fields)
               + f" WHERE {qn(Case._meta.pk.column)} = %s")
        if len(_updates) >= _MAX_ENTRIES:
            _updates.clear()
        entry = _updates[key] = (sql, fields)
    sql, fields = entry
    params = [f.get_db_prep_save(getattr(case, f.attname), connection=conn) for f in fields]
    with prepared.cursor(using) as cursor:
        cursor.execute(sql, [*params, case.pk])
        if cursor.rowcount != 1:  # as save(update_fields=...) refuses
            raise DatabaseError("Save with update_fields did not affect any rows.")


def insert_event(event, using="default"):
    """``event.save()`` of a new CaseEvent: its INSERT, its primary key read back, the instance marked saved."""

    if event.pk is not None or not event._state.adding:
        raise PermissionError("case events are append-only")
    _insert(CaseEvent, event, using)


def insert_case(case, using="default"):
    """``case.save(force_insert=True)`` of a new Case (no primary key yet), as ``insert_event``."""

    if case.pk is not None or not case._state.adding:
        raise ValueError("insert_case takes a new case")
    _insert(Case, case, using)


def _insert(model, obj, using):
    conn = connections[using]
    key = (id(conn), using, model)
    entry = _inserts.get(key)
    if entry is None:
        opts = model._meta
        qn = conn.ops.quote_name
        fields = [f for f in opts.concrete_fields if not f.primary_key]
        sql = (f"INSERT INTO {qn(opts.db_table)} (" + ", ".join(qn(f.column) for f in fields) + ") VALUES ("
               + ", ".join(["%s"] * len(fields)) + ")")
        returning = conn.features.can_return_columns_from_insert
        if returning:
            sql += f" RETURNING {qn(opts.pk.column)}"
        if len(_inserts) >= _MAX_ENTRIES:
            _inserts.clear()
        entry = _inserts[key] = (sql, fields, returning)
    sql, fields, returning = entry
    for field in fields:  # Model._prepare_related_fields_for_save: the related objects' keys, as save() takes them
        if field.is_relation and field.is_cached(obj):
            related = getattr(obj, field.name, None)
            if not related:
                continue
            if not related._is_pk_set():
                raise ValueError(f"save() prohibited to prevent data loss due to unsaved related object '{field.name}'.")
            if getattr(obj, field.attname) in field.empty_values:
                setattr(obj, field.name, related)
            if getattr(related, field.target_field.attname) != getattr(obj, field.attname):
                field.delete_cached_value(obj)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=conn) for f in fields]
    with prepared.cursor(using) as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0] if returning else conn.ops.last_insert_id(cursor, model._meta.db_table, "id")
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using


def photo_count(case_id, using="default"):
    """``CasePhoto.objects.filter(case_id=case_id).count()``, the statement built once per connection."""

    conn = connections[using]
    key = (id(conn), using, "photos")
    sql = _counts.get(key)
    if sql is None:
        qn = conn.ops.quote_name
        if len(_counts) >= _MAX_ENTRIES:
            _counts.clear()
        sql = _counts[key] = (f"SELECT COUNT(*) FROM {qn(CasePhoto._meta.db_table)} "
                              f"WHERE {qn(CasePhoto._meta.get_field('case').column)} = %s")
    with prepared.cursor(using) as cursor:
        cursor.execute(sql, [case_id])
        return cursor.fetchone()[0]


_counts = {}
