# Leeway: small, non-root, with a health check. `docker compose up` runs it with PostgreSQL.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
COPY storage ./storage
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 PORT=3000 LEEWAY_POLICY=/config/policy.yml
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 leeway
USER leeway
WORKDIR /home/leeway
EXPOSE 3000
# The same /healthz the tests check: 200 once migrated and the policy is loaded; 503 on an old outbox backlog.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-m", "bot", "healthcheck"]
# Applies migrations, then serves /slack/events and /healthz on $HOST:$PORT.
CMD ["python", "-m", "bot", "run"]
