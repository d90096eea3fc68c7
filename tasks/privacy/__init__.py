"""Data protection: retention (every copy of a closed case's personal data), erasure, legal hold, the audit trail, subject access, keys without personal data, and the retention job."""
