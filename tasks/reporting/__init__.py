"""The monthly report: the month's rows from the database, the workbooks per LA, the emails to managers and commissioners, and the report job."""
