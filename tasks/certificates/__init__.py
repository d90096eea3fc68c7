"""Mediation certificates: the PDF (embedded fonts, every script drawable), storing and emailing it, approval and refusal."""
