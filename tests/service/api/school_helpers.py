"""Shared by the school route tests: a graduates CSV as uploaded (the served model is ``tests.serving``'s)."""

from __future__ import annotations


def csv_bytes(rows: list[str]) -> bytes:
    header = "graduate_id,program_id,education,major,skills,preferred_districts,available_from,status"
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")
