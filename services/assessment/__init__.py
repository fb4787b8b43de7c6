"""Assessment: competence framework, career paths, self-assessments, recommendations and demand."""

from pathlib import Path

from services.assessment.app import create_app
from services.assessment.commands import announce_framework, announce_learning_gains
from services.assessment.demand import announce_demand
from services.assessment.handlers import HANDLERS
from services.assessment.models import Base
from shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="assessment",
    metadata=Base.metadata,
    handlers=HANDLERS,
    create_app=create_app,
    migrations=Path(__file__).parent / "migrations",
    # framework.published once per loaded version; demand.updated and learning_gain.recorded coalesced.
    scheduled={"framework": announce_framework, "demand": announce_demand, "learning gain": announce_learning_gains},
)
