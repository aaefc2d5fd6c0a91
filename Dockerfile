# reviewbot's image: the scheduler, the Slack app and every other command, run as a non-root user.
# Build: docker build -t reviewbot .   Run: see compose.yaml and the README ("Running it in containers").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Installed from the project's own files (what .dockerignore lets in), into a venv; the sources are not kept.
COPY . /tmp/reviewbot-src
RUN python -m venv /opt/reviewbot \
    && /opt/reviewbot/bin/pip install "/tmp/reviewbot-src[postgres]" \
    && rm -rf /tmp/reviewbot-src

# The workspace (reviewbot.toml, policies/, inbox/) is mounted at /srv/reviewbot; the user owns nothing else.
RUN useradd --system --uid 10001 --user-group --home-dir /srv/reviewbot --shell /usr/sbin/nologin reviewbot \
    && mkdir -p /srv/reviewbot && chown reviewbot:reviewbot /srv/reviewbot
ENV PATH=/opt/reviewbot/bin:$PATH \
    REVIEWBOT_WORKSPACE=/srv/reviewbot
WORKDIR /srv/reviewbot
USER reviewbot

EXPOSE 3000
ENTRYPOINT ["reviewbot"]
CMD ["--help"]
