# syntax=docker/dockerfile:1
# Two stages: `build` has the compilers (for any dependency without a wheel for the platform)
# and installs the runtime lock into /opt/venv; `runtime` gets that virtualenv and the source,
# and nothing else: no compiler, no pip cache, no build tools, and it runs as a user that owns
# nothing but its state volume.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# Only what the lock names, each file checked against its hash (tools/lock.py, `make lock`).
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

FROM python:3.11-slim AS runtime
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    STATIC_ROOT=/app/staticfiles \
    EMBEDDED_DB_PATH=/var/lib/smart-trading/db.sqlite3 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /var/lib/smart-trading --shell /usr/sbin/nologin app \
 && mkdir -p /var/lib/smart-trading && chown app:app /var/lib/smart-trading
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The source belongs to root: the app user can read it, never change it.
COPY . .
RUN python manage.py collectstatic --noinput \
 && python -m compileall -q /app
# From here on the image is production: it refuses to start without a real SECRET_KEY, and
# no secret, password or token has a default in it.
ENV PRODUCTION=true
# Writable state (the beat schedule; SQLite only if someone runs the image without PostgreSQL).
VOLUME ["/var/lib/smart-trading"]
USER app:app
EXPOSE 8000 9100
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/app/deploy/healthcheck.py"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
