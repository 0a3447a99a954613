"""One way to write dates and numbers (settings.FORMAT_MODULE_PATH): dd-mm-aaaa everywhere.

Chilean usage, in both languages of the portal: 31-12-2026, 14:30 (24 hours, in TIME_ZONE),
1.234.567 and 1.234,50. Pages, e-mails, PDFs and CSV files all go through these (the `date`
filter, `date_format`), so no template spells a format of its own.
"""
