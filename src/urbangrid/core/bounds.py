"""Bounds on what a request may ask for. Dates far outside any city's records (0001-01-01, 9999-12-31) would
overflow the date arithmetic behind periods, deadlines and ranges: every door refuses them with a clear 4xx."""
from datetime import date

EARLIEST = date(1970, 1, 1)
LATEST = date(2200, 12, 31)
MAX_OFFSET = 10**9  # list offsets: beyond a database integer is a 422, not a 500


def date_in_range(value):
    """True for a date (or datetime) between EARLIEST and LATEST."""
    d = value.date() if hasattr(value, "date") and callable(value.date) else value
    return EARLIEST <= d <= LATEST
