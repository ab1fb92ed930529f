"""The admins' reports page and its CSV export. Admins only."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request

from responso_chat.reports import charts, export
from responso_chat.reports.query import chat_choices, report_for
from responso_chat.users import admin_required

bp = Blueprint("reports", __name__)


@bp.before_request
@admin_required
def _admins_only():
    """Every report needs an admin; anonymous users go to the host's login."""


def _page(report, errors: dict, status: int = 200):
    return (
        render_template(
            "responso_chat/reports/report.html",
            report=report,
            errors=errors,
            values=request.args,
            chats=chat_choices(),
            charts=charts,
        ),
        status,
    )


@bp.get("/")
def report_page():
    """Reports: the figures of the date range and chat chosen (the last 30 days by default),
    with errors next to the filters when they are wrong."""
    report, errors = report_for(request.args.to_dict())
    return _page(report, errors, 422 if errors else 200)


@bp.get("/export.csv")
def report_csv():
    """"Download CSV": the same figures as the page, as a CSV file."""
    report, errors = report_for(request.args.to_dict())
    if errors:
        return _page(None, errors, 422)
    response = make_response(export.report_csv(report))
    response.mimetype = "text/csv"
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{export.csv_filename(report)}"'
    )
    return response
