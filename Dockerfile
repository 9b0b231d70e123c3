# The one image of docker-compose.yml: the topics, the Flink JobManager and TaskManagers, the
# job's submission and the panel all run it. It is built from the repository alone: Python
# packages at the versions of constraints.txt, the project's Java compiled by Maven in its own
# stage, and Flink and its Java runtime taken from the official Flink image of the version
# constraints.txt pins for apache-flink. No jar of the tree is copied in, and nothing is
# downloaded by hand. tests/unit/deploy/test_dockerfile.py checks all of that by parsing this
# file; no test builds it (no Docker engine in CI). See docs/operations.md.

# Flink 2.2.1, as apache-flink in constraints.txt and flink.version in jvm/pom.xml.
FROM flink:2.2.1-scala_2.12-java17 AS flink-dist

# The project's Java (jvm/: kernel, flink, tools), tests skipped as `make jvm` does; the jars,
# with Jackson and the Kafka connector, land in /out/flink.
FROM maven:3.9.9-eclipse-temurin-17 AS jvm
WORKDIR /build
COPY jvm/ jvm/
RUN mvn -q -B -f jvm/pom.xml -Dfraudguard.home=/build/.fraudguard -Dfraudguard.lib=/out/flink \
        -Dmaven.test.skip=true package

# Python 3.11 as pyproject.toml requires, with Flink's distribution and its Java runtime beside
# it: the TaskManagers run the job's Python operators in this interpreter (thread mode), so
# the cluster and the job client share one set of packages.
FROM python:3.11.13-slim-bookworm AS fraudguard
COPY --from=flink-dist /opt/java/openjdk /opt/java/openjdk
COPY --from=flink-dist /opt/flink /opt/flink
ENV JAVA_HOME=/opt/java/openjdk \
    FLINK_HOME=/opt/flink \
    PATH=/opt/java/openjdk/bin:/opt/flink/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Installed into the image's own interpreter, not a virtualenv: the interpreter the TaskManager
# embeds sees its site-packages without a python.pythonpath (docs/operations.md).
COPY pyproject.toml constraints.txt README.md ./
COPY src/ src/
RUN pip install --no-cache-dir -c constraints.txt -e .
COPY jobs/ jobs/
COPY thresholds/ thresholds/
COPY jvm/ jvm/
COPY deploy/flink/config.yaml /opt/flink/conf/config.yaml
COPY --from=jvm /out/flink /app/.fraudguard/lib/flink
# Mark the jars as built from this jvm/ (the hash `make jvm` records), then let the project's
# own check confirm it: it would call Maven, which this image lacks, if they were stale.
RUN python -m fraudguard.jvm mark && python -m fraudguard.jvm build
RUN useradd --create-home --uid 10001 fraudguard \
    && mkdir -p /app/.fraudguard/flink /app/.fraudguard/models /app/.fraudguard/logs/flink \
    && chown -R fraudguard /app/.fraudguard
ENV FLINK_LOG_DIR=/app/.fraudguard/logs/flink
USER fraudguard
CMD ["fraudguard", "--help"]
