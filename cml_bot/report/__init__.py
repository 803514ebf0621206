"""The markdown report: a sandboxed Jinja2 template, tabulate tables, the Mermaid chart, escaping
of everything a user controls, the hidden marker and the 65,000-character budget.

May import: ``core``, ``compare``, Jinja2, tabulate. Pure (reads only the packaged template or
the one the config names).
"""

from cml_bot.core import md_escape
from cml_bot.report.context import DataChanges, ReportContext
from cml_bot.report.render import load_template, render_report
from cml_bot.report.text import report_marker

__all__ = [
    "DataChanges",
    "ReportContext",
    "load_template",
    "md_escape",
    "render_report",
    "report_marker",
]
