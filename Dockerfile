# syntax=docker/dockerfile:1
# One image for every AgentTrace process: `serve`, `ingest`, `worker`, `api`, `migrate`,
# `project create`, `user create` (the command is the container's arguments, the
# ENTRYPOINT is `agenttrace`). Built from the repository root:
#
#   docker build -t agenttrace:0.1.0 .
#
# Three stages: Node 20 builds the dashboard, a Python stage installs the project into a
# virtualenv, and the final stage has only the virtualenv, the built dashboard and a
# non-root user (no compiler, no Node, no sources, no dev extras).

# --- 1. The dashboard (dashboard/dist): npm ci, GraphQL types from ../schema.graphql, vite.
FROM node:20-bookworm-slim AS dashboard
WORKDIR /src/dashboard
ENV npm_config_loglevel=error npm_config_fund=false npm_config_audit=false
# The lock file alone first: the npm ci layer is rebuilt only when dependencies change.
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci
# codegen.ts reads the committed schema from the repository root.
COPY schema.graphql /src/schema.graphql
COPY dashboard/ ./
RUN npm run build && test -f dist/index.html

# --- 2. The Python distribution, installed (not editable) into /opt/venv.
FROM python:3.11-slim AS python
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /src
# .dockerignore keeps tests, the SDK, node_modules, virtualenvs and caches out; setuptools
# packages only what pyproject.toml's [tool.setuptools.packages.find] includes.
COPY . .
RUN /opt/venv/bin/pip install . \
    && /opt/venv/bin/agenttrace --help >/dev/null

# --- 3. What runs.
FROM python:3.11-slim
ARG UID=10001
RUN groupadd --system --gid "${UID}" agenttrace \
    && useradd --system --uid "${UID}" --gid agenttrace --home-dir /var/lib/agenttrace \
       --shell /usr/sbin/nologin agenttrace \
    && install -d -o agenttrace -g agenttrace -m 0750 /var/lib/agenttrace
COPY --from=python /opt/venv /opt/venv
# agenttrace/dashboard.py serves `<parent of the installed agenttrace package>/dashboard/dist`,
# which for this (non-editable) install is the virtualenv's site-packages.
COPY --from=dashboard /src/dashboard/dist /opt/venv/lib/python3.11/site-packages/dashboard/dist
# The HEALTHCHECK below: asks PID 1 (ingest, api, serve: /healthz; worker: its metrics port).
COPY --chmod=0755 deploy/docker/healthcheck.py /usr/local/bin/agenttrace-healthcheck
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    AGENTTRACE_HOST=0.0.0.0 \
    AGENTTRACE_DATA_DIR=/var/lib/agenttrace \
    AGENTTRACE_LOG_FORMAT=json
# `serve` keeps its embedded PostgreSQL here; the split processes write nothing to disk.
VOLUME ["/var/lib/agenttrace"]
WORKDIR /var/lib/agenttrace
USER ${UID}:${UID}
# ingest (OTLP/HTTP's usual port when run as in docker-compose.yml), api/serve, worker metrics.
EXPOSE 4318 8000 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["agenttrace-healthcheck"]
ENTRYPOINT ["agenttrace"]
CMD ["serve"]
