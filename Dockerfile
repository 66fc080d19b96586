# The Python services (ingest, worker, api, migrate). Hardening, the built dashboard and
# multi-stage slimming come with the operations issue.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY agenttrace agenttrace
COPY storage storage
COPY messaging messaging
COPY ingest ingest
COPY workers workers
COPY resolvers resolvers
COPY rest rest
COPY graph graph
COPY loaders loaders
RUN pip install --no-cache-dir . && useradd --system agenttrace
USER agenttrace
ENTRYPOINT ["agenttrace"]
