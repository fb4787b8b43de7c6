"""Assessment's HTTP API: the framework (public), a member's own assessments, and anonymised demand."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from services.assessment.commands import (
    answer_reassessment,
    assessment_view,
    career_paths_view,
    complete_assessment,
    delete_member_data,
    demand_view,
    export_member_data,
    framework_of,
    framework_view,
    history,
    profile_chart,
    reassessments_of,
    recommendations,
    result,
    save_ratings,
    start_assessment,
    visible_assessment,
)
from services.assessment.schemas import (
    AssessmentList,
    AssessmentOut,
    AssessmentRequest,
    CareerPathList,
    CompetenceFrameworkOut,
    DeletedOut,
    DemandArgs,
    DemandOut,
    LangArgs,
    MemberDataOut,
    RatingsPatch,
    ReassessmentAnswer,
    ReassessmentList,
    ReassessmentOut,
    RecommendationList,
    ResultOut,
    TeamArgs,
    TeamConsent,
    TeamConsentOut,
    TeamOut,
)
from services.assessment.team import set_team_opt_in, team_coverage
from shared.auth import current_principal, require_roles
from shared.web import Blueprint, transaction

blp = Blueprint("framework", __name__, url_prefix="/api/v1", description="Competence framework and career paths")
assessments_blp = Blueprint("assessments", __name__, url_prefix="/api/v1/assessments",
                            description="A member's own self-assessments, gaps and recommendations")
demand_blp = Blueprint("demand", __name__, url_prefix="/api/v1/demand",
                       description="Anonymised training needs of the members, for providers")
BEARER = [{"bearer": []}]


@blp.route("/competence-framework")
class CompetenceFramework(MethodView):
    @blp.arguments(LangArgs, location="query")
    @blp.response(200, CompetenceFrameworkOut)
    def get(self, args):
        """The competence areas (weighted), their competences and levels 1-5, in German or English"""
        with transaction() as db:
            return framework_view(framework_of(db), args["lang"])


@blp.route("/career-paths")
class CareerPaths(MethodView):
    @blp.arguments(LangArgs, location="query")
    @blp.response(200, CareerPathList)
    def get(self, args):
        """Career paths and the level each asks for in every competence"""
        with transaction() as db:
            return career_paths_view(framework_of(db), args["lang"])


@assessments_blp.route("")
class Assessments(MethodView):
    @require_roles()
    @assessments_blp.response(200, AssessmentList)
    @assessments_blp.doc(security=BEARER)
    def get(self):
        """My assessments, newest first, each completed one with its change since the one before"""
        with transaction() as db:
            return {"items": history(db, current_principal().member_id)}

    @require_roles()
    @assessments_blp.arguments(AssessmentRequest)
    @assessments_blp.response(201, AssessmentOut)
    @assessments_blp.doc(security=BEARER)
    def post(self, body):
        """Start a self-assessment against a career path (in the newest framework version)"""
        with transaction() as db:
            return assessment_view(db, start_assessment(db, current_principal().member_id, body["career_path"]),
                                   "en")

    @require_roles()
    @assessments_blp.response(200, DeletedOut)
    @assessments_blp.doc(security=BEARER)
    def delete(self):
        """Delete all my assessments and reassessment answers"""
        with transaction() as db:
            return {"deleted_assessments": delete_member_data(db, current_principal().member_id)}


@assessments_blp.route("/export")
class AssessmentExport(MethodView):
    @require_roles()
    @assessments_blp.response(200, MemberDataOut)
    @assessments_blp.doc(security=BEARER)
    def get(self):
        """Everything assessment keeps about me, as JSON"""
        with transaction() as db:
            return export_member_data(db, current_principal().member_id)


@assessments_blp.route("/team-consent")
class TeamConsentView(MethodView):
    @require_roles()
    @assessments_blp.arguments(TeamConsent)
    @assessments_blp.response(200, TeamConsentOut)
    @assessments_blp.doc(security=BEARER)
    def put(self, body):
        """Join or leave my organisation's team view (my levels, among my colleagues' who joined)"""
        with transaction() as db:
            return set_team_opt_in(db, current_principal().member_id, body["opt_in"])


@assessments_blp.route("/team")
class TeamView(MethodView):
    @require_roles()
    @assessments_blp.arguments(TeamArgs, location="query")
    @assessments_blp.response(200, TeamOut)
    @assessments_blp.doc(security=BEARER)
    def get(self, args):
        """My team's coverage per area against a career path (only for five or more, or if all opted in)"""
        with transaction() as db:
            return team_coverage(db, current_principal().member_id, framework_of(db), args["career_path"],
                                 args["lang"])


@assessments_blp.route("/<string:assessment_id>")
class AssessmentById(MethodView):
    @require_roles()
    @assessments_blp.arguments(LangArgs, location="query")
    @assessments_blp.response(200, AssessmentOut)
    @assessments_blp.doc(security=BEARER)
    def get(self, args, assessment_id):
        """One of my assessments with each competence's level descriptions, target and my answers"""
        with transaction() as db:
            return assessment_view(db, visible_assessment(db, current_principal(), assessment_id), args["lang"])

    @require_roles()
    @assessments_blp.arguments(RatingsPatch)
    @assessments_blp.response(200, AssessmentOut)
    @assessments_blp.doc(security=BEARER)
    def patch(self, body, assessment_id):
        """Save some ratings of a draft (current level 0-5, importance in three years 1-5, confidence, evidence)"""
        with transaction() as db:
            return assessment_view(db, save_ratings(db, current_principal(), assessment_id, body["ratings"]), "en")


@assessments_blp.route("/<string:assessment_id>/complete")
class AssessmentCompletion(MethodView):
    @require_roles()
    @assessments_blp.response(200, AssessmentOut)
    @assessments_blp.doc(security=BEARER)
    def post(self, assessment_id):
        """Complete a draft in which every competence is rated (a second time is a 409)"""
        with transaction() as db:
            return assessment_view(db, complete_assessment(db, current_principal(), assessment_id), "en")


@assessments_blp.route("/<string:assessment_id>/result")
class AssessmentResult(MethodView):
    @require_roles()
    @assessments_blp.arguments(LangArgs, location="query")
    @assessments_blp.response(200, ResultOut)
    @assessments_blp.doc(security=BEARER)
    def get(self, args, assessment_id):
        """My gaps per competence and per area, weighted and ranked, with the change since my previous one"""
        with transaction() as db:
            return result(db, current_principal(), assessment_id, args["lang"])


@assessments_blp.route("/<string:assessment_id>/profile.png")
class AssessmentProfilePng(MethodView):
    @require_roles()
    @assessments_blp.arguments(LangArgs, location="query")
    @assessments_blp.response(200, content_type="image/png", description="A radar chart: current vs target")
    @assessments_blp.doc(security=BEARER)
    def get(self, args, assessment_id):
        """My profile per area against the career path's target, as a radar chart in PNG"""
        with transaction() as db:
            chart = profile_chart(db, current_principal(), assessment_id, args["lang"], image="png")
        return Response(chart, mimetype="image/png")


@assessments_blp.route("/<string:assessment_id>/profile.svg")
class AssessmentProfile(MethodView):
    @require_roles()
    @assessments_blp.arguments(LangArgs, location="query")
    @assessments_blp.response(200, content_type="image/svg+xml", description="A radar chart: current vs target")
    @assessments_blp.doc(security=BEARER)
    def get(self, args, assessment_id):
        """My profile per area against the career path's target, as a radar chart"""
        with transaction() as db:
            chart = profile_chart(db, current_principal(), assessment_id, args["lang"])
        return Response(chart, mimetype="image/svg+xml")


@assessments_blp.route("/<string:assessment_id>/recommendations")
class AssessmentRecommendations(MethodView):
    @require_roles()
    @assessments_blp.arguments(LangArgs, location="query")
    @assessments_blp.response(200, RecommendationList)
    @assessments_blp.doc(security=BEARER)
    def get(self, args, assessment_id):
        """Offers with free seats in upcoming sessions that close my largest gaps, each with its reason"""
        with transaction() as db:
            return recommendations(db, current_principal(), assessment_id, args["lang"])


@assessments_blp.route("/reassessments")
class Reassessments(MethodView):
    @require_roles()
    @assessments_blp.response(200, ReassessmentList)
    @assessments_blp.doc(security=BEARER)
    def get(self):
        """Sessions I attended whose competences I am invited to rate again"""
        with transaction() as db:
            return {"items": reassessments_of(db, current_principal().member_id)}


@assessments_blp.route("/reassessments/<string:reassessment_id>")
class ReassessmentById(MethodView):
    @require_roles()
    @assessments_blp.arguments(ReassessmentAnswer)
    @assessments_blp.response(200, ReassessmentOut)
    @assessments_blp.doc(security=BEARER)
    def post(self, body, reassessment_id):
        """Rate the offer's competences after the session (once)"""
        with transaction() as db:
            return answer_reassessment(db, current_principal(), reassessment_id, body["levels"])


@demand_blp.route("")
class Demand(MethodView):
    @require_roles()
    @demand_blp.arguments(DemandArgs, location="query")
    @demand_blp.response(200, DemandOut)
    # Both forms of the one answer (the doc replaces the 200 that @response wrote, so it names JSON again).
    @demand_blp.doc(security=BEARER, responses={"200": {"description": "OK", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/DemandOut"}},
        "text/csv": {"schema": {"type": "string"}, "example": "competence,members,ratings\nINT-1,12,12\n"}}}})
    def get(self, args):
        """Current gaps and future importance of the members, aggregated; no row describes fewer than 5 members"""
        with transaction() as db:
            answer = demand_view(db, args)
        if args["format"] == "csv":
            return Response(answer, mimetype="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="demand.csv"'})
        return answer
