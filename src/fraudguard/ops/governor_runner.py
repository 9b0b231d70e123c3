"""Start, find and stop the model governor service as a background process (what ``make
demo`` does), and read the status it writes after every round.

The service runs as ``python -m fraudguard governor run``, output in ``logs/governor.log``,
its pid in ``run/governor.pid`` (:class:`~fraudguard.ops.background.RoundsCommand`); SIGTERM
stops it between rounds. Its first round reads a week of decisions, which can take a while:
a start waits for it only so long, then lets it run on.
"""

from __future__ import annotations

from fraudguard.config import Settings
from fraudguard.governor.service import status_path
from fraudguard.ops.background import RoundsCommand

COMMAND = ("-m", "fraudguard", "governor", "run")


class GovernorRunner(RoundsCommand):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "governor", COMMAND, status_path(settings),
                         "model governor", first_round_needed=False)  # fmt: skip
