# The image of one academy service, chosen at build time (web process by default;
# the same image runs the worker with `academy worker <service>` and migrations
# with `academy migrate <service>`). Build from the repository root, e.g.:
#   docker build --build-arg SERVICE=booking --build-arg PORT=8001 -t academy/booking .
# PORT is the service's port in shared/config.py (catalog 8000, booking 8001,
# assessment 8002, billing 8003, notify 8004); the build refuses any other pair.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# DejaVu lets participation certificates (PDF) show every name members write, not only Latin-1.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies get their own layer, read from pyproject.toml, so that a code
# change does not reinstall every third-party package.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (all three packages: every service image carries the whole
# code base, the CLI picks the service).
COPY shared ./shared
COPY services ./services
COPY academy ./academy
RUN pip install --no-deps . \
    && rm -rf /src

# Numeric UID so that Kubernetes can verify runAsNonRoot.
# /var/lib/academy/keys is owned by that user because an empty named volume
# mounted there inherits the ownership (the compose "keys" one-shot writes to it).
RUN groupadd --system --gid 10001 academy \
    && useradd --system --uid 10001 --gid academy --home-dir /var/lib/academy --shell /usr/sbin/nologin academy \
    && mkdir -p /var/lib/academy/keys \
    && chown -R academy:academy /var/lib/academy

WORKDIR /var/lib/academy
USER 10001:10001

# Declared only here, so that every layer above is the same for all five
# services and is built once.
ARG SERVICE
ARG PORT
RUN python -c "import sys; from shared.config import SERVICE_PORTS as ports; \
sys.exit(None if ports.get(sys.argv[1]) == int(sys.argv[2] or 0) else f'build with --build-arg SERVICE=<name> --build-arg PORT=<its port>, one of {ports}')" \
        "$SERVICE" "$PORT"

ENV SERVICE=${SERVICE} \
    PORT=${PORT} \
    WORKER_PORT=9100

EXPOSE ${PORT}

# slim has no curl: use the interpreter. urlopen raises on non-2xx, so the exit
# status is non-zero when the service is not live. PORT is read when the check
# runs, so it follows a PORT given to the container.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ['PORT'], timeout=3)"]

# Exec form cannot expand variables, so a shell does it and then gives way to
# the service (exec), which thus receives `docker stop`'s SIGTERM itself.
CMD ["sh", "-c", "exec academy serve \"$SERVICE\""]
