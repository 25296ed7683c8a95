# odoosync's service: the scheduler, the outbox worker, the HTTP API and the dashboard in
# one process (`odoosync serve`). Production path: compose.yaml (with PostgreSQL) and
# docs/operations.md. Dependencies are installed at the versions of requirements.lock.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ODOOSYNC_LOG_FORMAT=json

WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY odoosync ./odoosync
RUN pip install --constraint requirements.lock ".[postgres]" \
    && useradd --system --uid 10001 --home-dir /data --create-home odoosync

USER odoosync
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]
ENTRYPOINT ["odoosync", "serve"]
CMD ["--host", "0.0.0.0", "--port", "8000"]
