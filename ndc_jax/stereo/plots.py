"""Figures of the stereo job: the R-D curves (PSNR and MS-SSIM against bits
per pixel of the coded view) and reconstructions beside JPEG 2000 at equal
rate."""

import numpy as np

from ndc_jax.core.plotting import plt, save_figure


def rd_figure(rows: list[dict], path: str) -> None:
  """One line per learned arm (markers) and per classical codec (dashed)."""
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  for ax, metric, label in ((axes[0], "psnr_db", "PSNR (dB)"),
                            (axes[1], "ms_ssim", "MS-SSIM")):
    for arm in dict.fromkeys(r["arm"] for r in rows):
      pts = sorted((r["bpp"], r[metric]) for r in rows if r["arm"] == arm)
      learned = any(r["kind"] == "learned" for r in rows if r["arm"] == arm)
      x, y = np.asarray(pts).T
      ax.plot(x, y, "o-" if learned else "--", lw=2 if learned else 1,
              ms=5 if learned else 0, label=arm)
    ax.set_xlabel("bits per pixel of view 1 (real file)")
    ax.set_ylabel(label)
    ax.set_xlim(0, max(0.8, 1.1 * max(r["bpp"] for r in rows
                                       if r["kind"] == "learned")))
    ax.grid(alpha=0.3)
  axes[0].legend(fontsize=7)
  fig.suptitle("Motorcycle test band, view 1 coded, view 2 at the decoder")
  save_figure(fig, path)


def reconstructions(panels: list[tuple[str, np.ndarray]], path: str) -> None:
  """Images [H, W, 3] in [0, 1], one per row, with their titles."""
  h, w = panels[0][1].shape[:2]
  fig, axes = plt.subplots(len(panels), 1,
                           figsize=(12, 0.4 + len(panels) * 12 * h / w * 1.3),
                           squeeze=False)
  for ax, (title, img) in zip(axes[:, 0], panels):
    ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
  save_figure(fig, path)
