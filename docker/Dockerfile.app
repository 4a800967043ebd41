# The app image: bot, action server, reception and the upload service share it; compose picks
# the command.

# The upload page's tus client, installed from npm as pinned in uploads/js/package-lock.json.
FROM node:20-slim AS tus-js
WORKDIR /js
COPY uploads/js/package.json uploads/js/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY actions ./actions
COPY reception ./reception
COPY contentlib ./contentlib
COPY contenttools ./contenttools
COPY rasa_api ./rasa_api
COPY httpjson ./httpjson
COPY deliveries ./deliveries
COPY outbox ./outbox
COPY embeddings ./embeddings
COPY requestform ./requestform
COPY conversation_id ./conversation_id
COPY envreader ./envreader
COPY sqlengine ./sqlengine
COPY uploads ./uploads
COPY --from=tus-js /js/node_modules ./uploads/js/node_modules
COPY requirements-embeddings.txt ./
RUN pip install -e . && pip install --no-deps --require-hashes -r requirements-embeddings.txt

COPY content ./content
COPY data ./data

RUN useradd --system --uid 1001 app && mkdir -p /app/var && chown app /app/var
USER app

# Overridden per service in docker/compose.yml.
CMD ["python", "-m", "bot"]
