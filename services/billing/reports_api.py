"""Billing's partner reports: revenue as JSON, CSV or a PNG chart, and the what-if under another policy."""

from __future__ import annotations

import csv
import io

from flask import Response
from flask.views import MethodView
from matplotlib.figure import Figure

from services.billing.domain import ACADEMY, COMMUNITY_FUND, PROVIDER
from services.billing.reports import revenue_report, simulate
from services.billing.reports_schemas import ReportArgs, SimulateIn
from shared.auth import require_roles
from shared.errors import Unprocessable
from shared.web import Blueprint, transaction

reports_blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                        description="Revenue reports and the what-if for partners and operators")
READERS = ("partner", "operator")
FIGURES = ("gross_cents", "refunds_cents", "vat_cents", "net_revenue_cents", ACADEMY + "_cents",
           COMMUNITY_FUND + "_cents", PROVIDER + "_cents")


def _report(db, args) -> dict:
    try:
        return revenue_report(db, args["start"], args["end"], args["group_by"])
    except ValueError as error:
        raise Unprocessable(str(error)) from error


def as_csv(report: dict) -> bytes:
    """UTF-8 with a BOM, so Excel reads umlauts; ';' separated, as Excel in German locales expects."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["group", *FIGURES])
    for group in [*report["groups"], {"group": "total", **report["total"]}]:
        writer.writerow([group["group"], *(group[name] for name in FIGURES)])
    return out.getvalue().encode("utf-8-sig")


def as_png(report: dict) -> bytes:
    """Stacked bars of each party's part per group, in euros, sized for a slide."""
    figure = Figure(figsize=(10, 5.6), dpi=100)
    axes = figure.subplots()
    labels = [group["group"] or "(none)" for group in report["groups"]]
    bottom = [0.0] * len(labels)
    for party, colour in ((PROVIDER, "#2a7ab0"), (ACADEMY, "#e08a2c"), (COMMUNITY_FUND, "#4caf50")):
        values = [group[party + "_cents"] / 100 for group in report["groups"]]
        axes.bar(labels, values, bottom=bottom, label=party.replace("_", " "), color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title(f"Net revenue by {report['group_by']}, {report['from'][:10]} to {report['to'][:10]}")
    axes.set_ylabel("EUR")
    axes.legend()
    axes.tick_params(axis="x", labelrotation=45)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@reports_blp.route("/revenue")
class RevenueReport(MethodView):
    @require_roles(*READERS)
    @reports_blp.arguments(ReportArgs, location="query")
    @reports_blp.response(200)
    @reports_blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """Revenue per group as JSON, CSV (UTF-8 with BOM, ';') or a PNG chart (partners and operators)"""
        with transaction() as db:
            report = _report(db, args)
        if args["format"] == "csv":
            return Response(as_csv(report), mimetype="text/csv", headers={
                "Content-Disposition": "attachment; filename=revenue.csv"})
        if args["format"] == "png":
            return Response(as_png(report), mimetype="image/png")
        return report


@reports_blp.route("/simulate")
class Simulation(MethodView):
    @require_roles(*READERS)
    @reports_blp.arguments(SimulateIn)
    @reports_blp.response(200)
    @reports_blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """The revenue report under a proposed policy beside the actual one, and the difference per party"""
        shares = {PROVIDER: body["policy"]["provider_percent"] * 100,
                  ACADEMY: body["policy"]["academy_percent"] * 100,
                  COMMUNITY_FUND: body["policy"]["community_fund_percent"] * 100}
        with transaction() as db:
            try:
                return simulate(db, shares_bp=shares, start=body["start"], end=body["end"],
                                group_by=body["group_by"])
            except ValueError as error:
                raise Unprocessable(str(error)) from error
