"""综合评价 (the standard evaluation): one rule set for units, positions and regions (``rules``: one
``Judge`` over the case event log), the same tables from the daily tallies (``tallies``), which of the two
sources answers a period (``evaluate``), and its pages and API. Imports nothing from deductions or reviews."""
