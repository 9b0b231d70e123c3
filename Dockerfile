# Image for the scoring job in docker-compose.yml (not built by CI: no Docker engine there).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && python -m fraudguard.jvm build  # the project's Java, the Kafka connector and Jackson (needs a JDK)
ENV PYTHONUNBUFFERED=1
