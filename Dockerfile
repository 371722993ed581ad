# The mcproof harness as an image: the suites, environments/ examples and the `mcproof` CLI.
# Build: docker build -t mcproof:0.1.0 .   Run: docker run --rm mcproof:0.1.0 signoff --env /config/staging.yaml
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -r requirements.lock
COPY src ./src
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="mcproof" \
      org.opencontainers.image.description="Evidence that a Minecraft hosting platform meets its SLA"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MCPROOF_HOME=/opt/mcproof
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/mcproof
COPY pyproject.toml conftest.py ./
COPY suites ./suites
COPY fixtures ./fixtures
COPY environments ./environments
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin mcproof \
 && mkdir -p /reports && chown 10001:10001 /reports
USER 10001
VOLUME ["/reports"]
ENTRYPOINT ["mcproof"]
CMD ["--help"]
