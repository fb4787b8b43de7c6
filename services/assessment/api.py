"""Assessment's HTTP API: the competence framework and the career paths, open to everyone."""

from __future__ import annotations

from flask.views import MethodView

from services.assessment.domain import CAREER_PATHS, COMPETENCE_AREAS, FRAMEWORK_VERSION, LEVELS
from services.assessment.schemas import CareerPathList, CompetenceFrameworkOut
from shared.web import Blueprint

blp = Blueprint("framework", __name__, url_prefix="/api/v1", description="Competence framework and career paths")


@blp.route("/competence-framework")
class CompetenceFramework(MethodView):
    @blp.response(200, CompetenceFrameworkOut)
    def get(self):
        """The competence areas of cluster managers, their weights and the level scale"""
        levels = [{"level": level, "description": text} for level, text in LEVELS.items()]
        return {"version": FRAMEWORK_VERSION, "levels": levels, "areas": COMPETENCE_AREAS}


@blp.route("/career-paths")
class CareerPaths(MethodView):
    @blp.response(200, CareerPathList)
    def get(self):
        """Career paths and the level each asks for in every competence area"""
        return {"items": CAREER_PATHS}
