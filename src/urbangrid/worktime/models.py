"""Working calendar (工作日历) for deadlines in working time."""
