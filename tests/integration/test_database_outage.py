"""A service whose database is away answers 503 with Retry-After, and says so on its readiness probe."""

from __future__ import annotations

from services import booking
from shared.config import Settings
from shared.service import Runtime
from shared.testing import bearer, signing_keypair
from tests.system.processes import free_port


def test_a_request_while_the_database_is_away_is_a_503_problem(tmp_path):
    nobody_listens = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/booking"
    settings = Settings.from_env("booking", {
        "ACADEMY_DATA_DIR": str(tmp_path), "DATABASE_URL": nobody_listens, "JWT_PUBLIC_KEY": signing_keypair()[1],
    })
    runtime = Runtime(settings)
    client = booking.SERVICE.create_app(runtime).test_client()

    response = client.get("/api/v1/bookings", headers=bearer("m-1"))
    ready = client.get("/health/ready")
    runtime.close()

    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert "Traceback" not in response.get_data(as_text=True)
    assert ready.status_code == 503 and ready.json["checks"]["database"] is False
