"""What the catalogue asks of the case loop above it, which registers the answers in its ready() (cases/apps.py):
switching the current version moves the open cases (``switch_catalogue``), and a recount reads them
(``recount_request``). The catalogue's admin action and command call these; catalog imports no case code."""

_registered = {}


class SwitchError(ValueError):
    """The switch cannot start (unknown version, a version without classes); nothing was written."""


def register(**functions):
    _registered.update(functions)


def switch_catalogue(code, dry_run=False, actor=None):
    """分类版本切换 (cases/catalog_switch.py)."""
    return _registered["switch_catalogue"](code, dry_run=dry_run, actor=actor)


def recount_request(version=None, date_from=None, date_to=None, kind=None):
    """跨版本统计 of the cases (cases/recount.py)."""
    return _registered["recount_request"](version, date_from, date_to, kind)
