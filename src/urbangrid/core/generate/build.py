"""``generate()``: check the parameters, build the city, then run and bulk-write the case histories.

Writing: one transaction. Before the load the non-unique indexes of the case and event tables (and, on
PostgreSQL, their foreign keys) are dropped; after it they are created again (a foreign key re-added is
validated in one pass, far cheaper than a check per row). The append-only triggers fire only on UPDATE and
DELETE, so they stay. Case ids are assigned here, event ids come from the table's sequence.
"""
import multiprocessing
import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.cases.models import Case, CaseEvent, CaseNumberSequence, CaseUnit
from urbangrid.cases.states import OPEN
from urbangrid.worktime import clock as wt

MAX_CASES = 50_000_000
MAX_YEARS = 10
CASE_TABLES = ("cases_case", "cases_caseevent", "cases_caseunit")


class GenerateError(ValueError):
    """Nonsense parameters or a database the generator must not touch; the message says which."""


@dataclass
class Params:
    cases: int
    grids: int | None
    years: int
    seed: int = 2024
    start: date | None = None
    append: bool = False
    workers: int = 1
    days: int | None = None  # a window shorter than a year at the same density (benchmarks); overrides years

    @property
    def span_days(self):
        return self.days if self.days is not None else 365 * self.years


def check(p, now=None):
    """Raise GenerateError for parameters that make no sense; returns (start, end) of the arrivals."""
    from .city import MAX_GRIDS

    now = now or timezone.now()
    if p.cases is None or p.cases <= 0 or p.cases > MAX_CASES:
        raise GenerateError(_("--cases 应为 1 到 %(max)s 之间的整数") % {"max": MAX_CASES})
    if p.years is None or not 1 <= p.years <= MAX_YEARS:
        raise GenerateError(_("--years 应为 1 到 %(max)s 之间的整数") % {"max": MAX_YEARS})
    if p.days is not None and not 7 <= p.days <= 365 * MAX_YEARS:
        raise GenerateError(_("--days 应为 7 到 %(max)s 之间的整数") % {"max": 365 * MAX_YEARS})
    if p.seed < 0:
        raise GenerateError(_("--seed 必须是非负整数"))
    if p.workers < 1 or p.workers > 64:
        raise GenerateError(_("--workers 应为 1 到 64 之间的整数"))
    if not p.append:
        if p.grids is None or p.grids <= 0 or p.grids > MAX_GRIDS:
            raise GenerateError(_("--grids 应为 1 到 %(max)s 之间的整数") % {"max": MAX_GRIDS})
        if p.cases < p.grids:
            raise GenerateError(_("--cases（%(n)s）少于网格数 --grids（%(m)s）：每个单元网格平均至少应有一件案件")
                                % {"n": p.cases, "m": p.grids})
    elif p.grids is not None:
        raise GenerateError(_("--append 沿用已有的网格和人员，不能同时指定 --grids"))
    local_now = now.astimezone(wt.TZ)
    if p.start is None:
        end = local_now.replace(hour=17, minute=0, second=0, microsecond=0) - timedelta(days=1)
        start = end - timedelta(days=p.span_days)
    else:
        start = datetime.combine(p.start, datetime.min.time(), wt.TZ)
        end = start + timedelta(days=p.span_days)
        if start.year < 2000:
            raise GenerateError(_("--start 不能早于 2000-01-01"))
        if end > local_now:
            raise GenerateError(_("--start %(s)s 加 %(d)s 天会超过今天：不能生成未来的案件") % {"s": p.start, "d": p.span_days})
    return start, end


def check_database(p):
    from urbangrid.grids.models import Region, UnitGrid

    has_city = UnitGrid.objects.exists() or Region.objects.exists()
    if not p.append:
        if has_city or Case.objects.exists():
            raise GenerateError(_("数据库不是空的（已有网格、区划或案件）：请使用新建并迁移过的数据库，"
                                  "或用 --append 在已有城市上追加案件"))
    else:
        from urbangrid.org.models import RoleAssignment
        from urbangrid.org.roles import Role

        if not UnitGrid.objects.exists():
            raise GenerateError(_("--append 需要已有的城市（网格、单位和人员），数据库中没有单元网格"))
        covered = set(RoleAssignment.objects.filter(role=Role.INSPECTOR).values_list("grid_id", flat=True))
        uncovered = UnitGrid.objects.exclude(responsibility_grid_id__in=covered).count()
        if uncovered:
            raise GenerateError(_("--append：%(n)s 个单元网格所在的责任网格没有网格巡查员，无法生成案件") % {"n": uncovered})


def generate(p, log=print, now=None):
    """Build the dataset described by ``p``; returns a summary with timings."""
    start, end = check(p, now)
    check_database(p)
    timings, summary = {}, {}
    t0 = time.perf_counter()
    from urbangrid.worktime.seeding import seed_calendar

    seed_calendar(range(start.year, end.year + 2))
    wt.invalidate_calendar()
    if not p.append:
        from urbangrid.core.demo.responsibility import EVENT_VERSION, COMPONENT_VERSION, build_rules
        from urbangrid.catalog.loader import load_catalogues
        from urbangrid.catalog.models import CatalogVersion
        from urbangrid.grids.locator import locator

        from .city import build_city

        log(_("· 区划、网格、单位和人员 …"))
        summary.update(build_city(p.seed, p.grids))
        log(_("· 分类目录与责任清单 …"))
        load_catalogues()
        CatalogVersion.objects.filter(code__in=[EVENT_VERSION, COMPONENT_VERSION]).update(is_current=True)
        CatalogVersion.objects.exclude(code__in=[EVENT_VERSION, COMPONENT_VERSION]).update(is_current=False)
        locator.invalidate()
        build_rules()
    timings["city_seconds"] = round(time.perf_counter() - t0, 2)
    log(_("· 案件历史 %(n)s 件（%(a)s — %(b)s）…") % {"n": p.cases, "a": start.date(), "b": end.date()})
    t1 = time.perf_counter()
    summary.update(write_history(p, start, end, log))
    timings["history_seconds"] = round(time.perf_counter() - t1, 2)
    summary.update(timings)
    secs = max(timings["history_seconds"], 1e-9)
    summary["cases_per_second"] = round(summary["cases"] / secs)
    summary["events_per_second"] = round(summary["events"] / secs)
    return summary


def _plan_cases(p, start, end, rng, cal):
    from urbangrid.core.demo.history import _arrival_times

    times = _arrival_times(rng, p.cases, start, end, cal)
    still_open = max(1, p.cases // 1000)
    last = dict(CaseNumberSequence.objects.values_list("year", "last"))
    seq, items = Counter(last), []
    for i, at in enumerate(times):
        seq[at.year] += 1
        items.append((f"{at.year}{seq[at.year]:07d}", at, i < p.cases - still_open))
    if any(n > 9_999_999 for n in seq.values()):
        raise GenerateError(_("案件编号每年最多 9999999 个：请增加 --years 或减少 --cases"))
    return items, {y: n for y, n in seq.items() if n != last.get(y)}


_RUN = None  # the run, set before the worker processes fork


def _work(task):
    from .cases import rows_copy

    seed, index, first_pk, items = task
    cases, events, links, stats = _RUN.chunk(seed, index, first_pk, items)
    return rows_copy(cases, events, links), len(cases), len(events), stats, Counter(c.state for c in cases)


def write_history(p, start, end, log):
    global _RUN
    from urbangrid.core.bulk import next_id

    from .cases import CHUNK, GenRun, rows_tuples

    run = GenRun(p.seed, end)
    items, sequences = _plan_cases(p, start, end, random.Random(f"generate-{p.seed}-arrivals"), run.cal)
    first_pk = next_id(Case)
    tasks = [(p.seed, i, first_pk + k, items[k:k + CHUNK]) for i, k in enumerate(range(0, len(items), CHUNK))]
    postgres = connection.vendor == "postgresql"
    n_cases = n_events = 0
    stats, states = Counter(), Counter()
    pool = None
    if postgres and p.workers > 1:
        _RUN = run
        connections.close_all()  # the children must not share the parent's socket
        pool = multiprocessing.get_context("fork").Pool(p.workers)
    try:
        with transaction.atomic():
            saved = _drop_load_structures()
            if postgres:
                results = pool.imap(_work, tasks) if pool else (_work_local(run, t) for t in tasks)
                with connection.cursor() as cursor:
                    raw = cursor.cursor  # psycopg cursor: COPY
                    for (case_rows, event_rows, link_rows), nc, ne, st, sts in results:
                        _copy(raw, "cases_case", _case_columns(), case_rows)
                        _copy(raw, "cases_caseevent", _event_columns(), event_rows)
                        _copy(raw, "cases_caseunit", ["case_id", "unit_id"], link_rows)
                        n_cases, n_events = n_cases + nc, n_events + ne
                        stats.update(st)
                        states.update(sts)
                        _progress(log, n_cases, p.cases)
            else:
                for task in tasks:
                    cases, events, links, st = run.chunk(*task)
                    case_rows, event_rows, link_rows = rows_tuples(cases, events, links, connection)
                    _insert("cases_case", _case_columns(), case_rows)
                    _insert("cases_caseevent", _event_columns(), event_rows)
                    _insert("cases_caseunit", ["case_id", "unit_id"], link_rows)
                    n_cases, n_events = n_cases + len(cases), n_events + len(events)
                    stats.update(st)
                    states.update(c.state for c in cases)
                    _progress(log, n_cases, p.cases)
            log(_("· 重建索引与外键 …"))
            _restore_load_structures(saved)
            from django.core.management.color import no_style

            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), [Case, CaseEvent, CaseUnit]):
                    cursor.execute(statement)
            for year, last in sequences.items():
                CaseNumberSequence.objects.update_or_create(year=year, defaults={"last": last})
    finally:
        if pool:
            pool.close()
            pool.join()
        _RUN = None
    if postgres:
        with connection.cursor() as cursor:
            for table in CASE_TABLES:
                cursor.execute(f"ANALYZE {table}")
    open_n = sum(n for s, n in states.items() if s in OPEN)
    return {"cases": n_cases, "events": n_events, "open": open_n, "finished": n_cases - open_n,
            **{f"n_{k}": v for k, v in sorted(stats.items())}}


def _work_local(run, task):
    from .cases import rows_copy

    cases, events, links, stats = run.chunk(*task)
    return rows_copy(cases, events, links), len(cases), len(events), stats, Counter(c.state for c in cases)


def _progress(log, done, total):
    step = max(50_000, total // 20)
    if done % step < 5000 or done == total:
        log(_("  已写入 %(d)s / %(t)s 件") % {"d": done, "t": total})


def _case_columns():
    from .cases import CASE_COLUMNS

    return CASE_COLUMNS


def _event_columns():
    from .cases import EVENT_COLUMNS

    return EVENT_COLUMNS


def _copy(raw, table, columns, payload):
    if not payload:
        return
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        copy.write(payload)


def _insert(table, columns, rows):
    if not rows:
        return
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})", rows)


def _drop_load_structures():
    """Drop the non-unique indexes (and PostgreSQL foreign keys) of the case tables; returns how to restore them."""
    saved = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Pending deferred foreign-key checks (rows written earlier in this transaction) block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in CASE_TABLES:
                cursor.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.indexdef NOT LIKE 'CREATE UNIQUE%%' "
                    "AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", [table, table])
                for name, definition in cursor.fetchall():
                    cursor.execute(f'DROP INDEX "{name}"')
                    saved.append(definition)
                cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                               "AND contype = 'f'", [table])
                for name, definition in cursor.fetchall():
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                    saved.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        elif connection.vendor == "sqlite":
            for table in CASE_TABLES:
                cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL "
                               "AND sql NOT LIKE 'CREATE UNIQUE%%'", [table])
                for name, definition in cursor.fetchall():
                    cursor.execute(f'DROP INDEX "{name}"')
                    saved.append(definition)
    return saved


def _restore_load_structures(saved):
    with connection.cursor() as cursor:
        for statement in saved:
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def default_workers():
    return max(1, min(os.cpu_count() or 1, 8))
