"""Start, find and stop the outcomes service as a background process (what ``make demo``
does), and read the status it writes after every round.

The service runs as ``python -m fraudguard outcomes run``, output in ``logs/outcomes.log``, its
pid in ``run/outcomes.pid`` (:class:`~fraudguard.ops.background.RoundsCommand`); SIGTERM
lets it finish its round. Its start returns after its first committed round: its starting
positions are then fixed, so what is produced afterwards is read.
"""

from __future__ import annotations

from fraudguard.config import Settings
from fraudguard.ops.background import RoundsCommand
from fraudguard.outcomes.service import status_path

COMMAND = ("-m", "fraudguard", "outcomes", "run")


class OutcomesRunner(RoundsCommand):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "outcomes", COMMAND, status_path(settings),
                         "outcomes service")  # fmt: skip
