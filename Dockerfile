# The docpost image: the Celery worker and beat of docker-compose.yml, and the `docpost` CLI.
# Built as CI checks the plain install (.ci/plain_install.sh): a wheel, then that wheel
# installed without extras, so the image has exactly the dependencies pyproject.toml declares.

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schema ./schema
COPY pipeline ./pipeline
COPY reports ./reports
COPY tasks ./tasks
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim

# WeasyPrint lays text out with Pango; HarfBuzz's subsetter keeps font subsetting fast.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# No extras: the test extras once hid a missing dependency of the Redis transport.
COPY --from=wheel /dist /dist
RUN pip install /dist/docpost-*.whl && rm -rf /dist

# Not root: Celery refuses to be comfortable with it, and a renderer bug should not own the
# container.
RUN useradd --create-home --uid 10001 docpost
USER docpost
WORKDIR /home/docpost

ENTRYPOINT ["docpost"]
CMD ["worker", "--loglevel", "INFO"]
