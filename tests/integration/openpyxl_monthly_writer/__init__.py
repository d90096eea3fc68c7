"""The monthly workbook writer as it was before issue 14's switch to xlsxwriter (openpyxl
write-only), kept here — and only here — as the reference: `test_monthly_writer_equivalence`
writes the same reports with it and with `reports.monthly.workbook` and compares every cell read
back. A verbatim copy of `reports/monthly/{cells,sheets,workbook}.py` at commit dc0df97 (imports
pointed at this package); do not change it."""
