"""Query-string page numbers for list pages (bad values fall back to page 1)."""
from flask import request

PER_PAGE = 20


def page_arg() -> int:
    value = request.args.get("page", "1")
    return max(1, min(int(value), 100000)) if value.isdigit() else 1
