"""Assessment: competence framework, career paths, self-assessments and demand."""

from pathlib import Path

from services.assessment.app import create_app
from services.assessment.handlers import HANDLERS
from services.assessment.models import Base
from shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="assessment",
    metadata=Base.metadata,
    handlers=HANDLERS,
    create_app=create_app,
    migrations=Path(__file__).parent / "migrations",
)
