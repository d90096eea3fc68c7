"""Expense claims: claim files in, each checked against its LA's policy, batches routed to each LA's finance team as a workbook, remittances back, and the claims job."""
