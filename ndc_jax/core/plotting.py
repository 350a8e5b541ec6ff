"""Figures: the one PNG writer every job's plots use (Agg backend, atomic)."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ndc_jax.core import results  # noqa: E402


def save_figure(fig, path: str) -> None:
  """Saves a matplotlib figure as PNG atomically and closes it."""
  buf = io.BytesIO()
  fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
  plt.close(fig)
  results.atomic_write(path, buf.getvalue())
