"""Prometheus's configuration and the Flink cluster's: both parse, every scrape target is a
service of docker-compose.yml on the port Flink's Prometheus reporter listens on, and the
cluster runs with the JVM options and Java module flags the project's job needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fraudguard.config import PROJECT_ROOT, FlinkSettings

PROMETHEUS = PROJECT_ROOT / "deploy" / "prometheus" / "prometheus.yml"
FLINK = PROJECT_ROOT / "deploy" / "flink" / "config.yaml"


def flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flink's reading of its config.yaml: nested keys joined with dots.

    >>> flat({"rest": {"port": 8081, "address": "jm"}, "a.b": 1})
    {'rest.port': 8081, 'rest.address': 'jm', 'a.b': 1}
    """
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def flink_config() -> dict[str, Any]:
    return flat(yaml.safe_load(FLINK.read_text()))


def scrape_targets() -> dict[str, list[tuple[str, int]]]:
    """Job name -> (host, port) of each static or DNS-discovered target."""
    config = yaml.safe_load(PROMETHEUS.read_text())
    targets: dict[str, list[tuple[str, int]]] = {}
    for job in config["scrape_configs"]:
        found = targets.setdefault(job["job_name"], [])
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, _, port = target.rpartition(":")
                found.append((host, int(port)))
        for dns in job.get("dns_sd_configs", []):
            found += [(name, int(dns["port"])) for name in dns["names"]]
    return targets


def test_prometheus_scrapes_services_that_exist(services: dict[str, Any]) -> None:
    targets = scrape_targets()
    hosts = {host for found in targets.values() for host, _ in found} - {"localhost"}
    assert hosts and hosts <= set(services), f"not services: {sorted(hosts - set(services))}"


def test_prometheus_scrapes_flinks_reporter_on_every_flink_process() -> None:
    port = flink_config()["metrics.reporter.prom.port"]
    assert port == 9249
    scraped = {target for found in scrape_targets().values() for target in found}
    assert {("jobmanager", port), ("taskmanager", port)} <= scraped


def test_the_reporter_is_flinks_prometheus_plugin() -> None:
    import pyflink

    config = flink_config()
    assert config["metrics.reporter.prom.factory.class"] == (
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
    )
    # Flink's distribution of the pinned version ships the plugin (the image copies the same).
    plugins = Path(pyflink.__file__).parent / "plugins" / "metrics-prometheus"
    assert list(plugins.glob("flink-metrics-prometheus-*.jar"))


def test_cluster_addresses_are_compose_services(services: dict[str, Any]) -> None:
    config = flink_config()
    assert config["jobmanager.rpc.address"] in services
    assert config["rest.address"] in services
    job = services["job"]["command"]
    assert job[job.index("--jobmanager") + 1] == f"{config['rest.address']}:{config['rest.port']}"
    for key in ("jobmanager.bind-host", "taskmanager.bind-host", "rest.bind-address"):
        assert config[key] == "0.0.0.0", f"{key}: other containers could not reach it"


def test_taskmanagers_run_the_jobs_jvm_options() -> None:
    assert flink_config()["env.java.opts.taskmanager"].split() == list(FlinkSettings().jvm_options)


def test_java_module_flags_are_the_pinned_distributions() -> None:
    import pyflink

    shipped = flat(
        yaml.safe_load((Path(pyflink.__file__).parent / "conf" / "config.yaml").read_text())
    )
    assert flink_config()["env.java.opts.all"] == shipped["env.java.opts.all"]
