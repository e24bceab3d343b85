"""Repositories over one unit of work's connection: rows in, domain values out."""
