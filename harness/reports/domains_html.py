"""The domain audit as a small HTML table: user thread x named region -> access."""
from __future__ import annotations

from html import escape

STYLE = {"none": "#eee", "read": "#dfd", "execute": "#dfd", "read-write": "#fd9",
         "read-write-execute": "#f99"}


def render(found: dict, problems: list[str]) -> str:
    regions = list(dict.fromkeys(r for row in found.values() for r in row["regions"]))
    head = "".join(f"<th>{escape(r)}</th>" for r in regions)
    rows = []
    for thread, row in found.items():
        cells = []
        for r in regions:
            cell = row["regions"].get(r, {"access": "none", "granted_by": []})
            colour = STYLE.get(cell["access"], "#ccc")
            cells.append(f'<td style="background:{colour}" title="{escape("; ".join(cell["granted_by"]))}">'
                         f'{escape(cell["access"])}</td>')
        mode = "user" if row["user"] else "supervisor"
        rows.append(f"<tr><th>{escape(thread)} ({mode}, {row['stops']} stops)</th>{''.join(cells)}</tr>")
    listed = "".join(f"<li>{escape(p)}</li>" for p in problems) or "<li>none</li>"
    return (f"<!doctype html><meta charset=utf-8><title>domain audit</title>"
            f"<h1>Domain audit</h1><table border=1 cellpadding=4><tr><th>thread</th>{head}</tr>"
            f"{''.join(rows)}</table><h2>Violations of the stated isolation</h2><ul>{listed}</ul>\n")
