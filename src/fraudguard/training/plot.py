"""The precision-recall plot of a training report (PNG, drawn without a display)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np


def pr_curve_png(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    average_precision: Mapping[str, float],
    fraud_rate: float,
    out: Path,
    title: str,
) -> Path:
    """Draw each approach's test precision-recall curve, the first one bold, with the fraud
    rate as the no-skill line; write ``out`` and return it."""
    import matplotlib

    # Agg draws to files only: training runs on servers and in tests without a display.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    try:
        for i, (name, (precision, recall)) in enumerate(curves.items()):
            ax.step(
                recall,
                precision,
                where="post",
                linewidth=2.2 if i == 0 else 1.0,
                alpha=1.0 if i == 0 else 0.8,
                label=f"{name} (AP {average_precision.get(name, float('nan')):.3f})",
            )
        ax.axhline(fraud_rate, color="grey", linestyle=":", label=f"fraud rate {fraud_rate:.3%}")
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title=title)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        fig.tight_layout()
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out
