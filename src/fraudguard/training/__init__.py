"""Training the base model: labelled tables, time splits, the class-weight search, metrics,
the resampling comparison and the report.

Importing this package makes OpenMP threads wait passively unless ``OMP_WAIT_POLICY`` is set:
XGBoost's threads otherwise spin at every barrier, and a 2-thread fit ran 10-20x slower than a
1-thread fit whenever another process held one of this machine's two cores (Kafka, Flink, a
test run); waiting passively costs next to nothing when the cores are free. It only takes
effect if no OpenMP library (XGBoost, scikit-learn) was loaded before.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from fraudguard.training.booster import BoosterParams  # noqa: E402
from fraudguard.training.data import LabelledTable, from_feature_table, read_labelled  # noqa: E402
from fraudguard.training.pipeline import TrainConfig, TrainingResult, train  # noqa: E402

__all__ = [
    "BoosterParams",
    "LabelledTable",
    "TrainConfig",
    "TrainingResult",
    "from_feature_table",
    "read_labelled",
    "train",
]
