"""考评 (reviews): the periodic reviews 日讲评 … 年考核 (``periodic``), their common ground (``base``: scope,
tables, figures), members' annual records and party roll-ups (``members``), and their pages and API. Built
on the evaluation and the deductions' scores; nothing below imports this room."""
