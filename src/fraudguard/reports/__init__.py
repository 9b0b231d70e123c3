"""Reports a fraud team acts on, from decision files: what a configuration caught, missed and
cost, per threshold, day and segment, and how a second configuration differs.

>>> from fraudguard.reports import build_report, write_report, ReportSettings
"""

from fraudguard.reports.build import ReportSettings, build_report
from fraudguard.reports.render import write_report

__all__ = ["ReportSettings", "build_report", "write_report"]
