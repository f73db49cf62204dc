# Heartline: one image for every service.
#   docker build -t heartline:local .
#   docker run --rm heartline:local --help
#   docker run -e HEARTLINE_KAFKA=... -e HEARTLINE_JWT_SECRET=... heartline:local serve gateway
# The image's HEALTHCHECK finds the service's port by itself (deploy/docker/healthcheck.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Containers listen on every interface; the config default is 127.0.0.1.
    HEARTLINE_HOST=0.0.0.0 \
    HEARTLINE_MODE=production \
    HEARTLINE_RULES=/app/rules/default.yaml \
    HEARTLINE_DATA_DIR=/var/lib/heartline

# Unprivileged user with a fixed uid/gid (Kubernetes runAsUser matches it).
RUN groupadd --system --gid 10001 heartline \
 && useradd --system --uid 10001 --gid heartline --home-dir /var/lib/heartline \
        --shell /usr/sbin/nologin heartline \
 && mkdir -p /var/lib/heartline /etc/heartline/rules \
 && chown heartline:heartline /var/lib/heartline

WORKDIR /app

# Pinned runtime dependencies first: this layer is cached until requirements.txt changes.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The project itself, installed without dependencies (they are all pinned above).
# Editable, so that paths the code derives from its own location (rules/,
# scenarios, static pages) resolve inside /app.
COPY pyproject.toml ./
COPY heartline ./heartline
COPY shared ./shared
COPY services ./services
COPY rules ./rules
COPY knowledge ./knowledge
RUN pip install --no-cache-dir --no-deps -e . \
 && heartline --help >/dev/null

COPY deploy/docker/healthcheck.py /usr/local/bin/heartline-healthcheck
RUN chmod 0755 /usr/local/bin/heartline-healthcheck

# Faust writes its <app>-data directory into the working directory.
WORKDIR /var/lib/heartline
USER 10001:10001

# gateway, ingest, worker HTTP (/healthz /readyz /metrics)
EXPOSE 8000 8001 6066

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["heartline-healthcheck"]

ENTRYPOINT ["heartline"]
CMD ["--help"]
