"""倒扣分 (deductions) and 申诉 (appeals): the deduction standard and its rules (``rules``), the targets'
scores from upheld deductions (``scoring``, which the reviews read), and their pages and API. Imports nothing
from evaluation or reviews."""
