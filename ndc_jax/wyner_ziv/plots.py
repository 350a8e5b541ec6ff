"""Wyner-Ziv figures: the R-D plane with its bounds, and the learned binning
picture (the encoder's index over x and the decoder's x̂(u, y))."""

import jax
import jax.numpy as jnp
import numpy as np

from ndc_jax.core.plotting import plt, save_figure


def rd_figure(rows: list[dict], sources: dict, baselines: dict,
              path: str) -> None:
  """Rate (bits/sample) against distortion (MSE), one panel per source:
  the bound, R(D) without side information, each arm's classical baseline
  hull and the learned points.

  Args:
    rows: rd.csv rows (dicts with arm, source, rate_model, encoder,
      rate_bits, distortion, baseline_name).
    sources: arm name -> `Source` (for the bound curves).
    baselines: arm name -> `baselines.wz_quantizers.Hull`.
    path: PNG path.
  """
  names = sorted({r["source"] for r in rows})
  fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 4.2),
                           squeeze=False)
  for ax, name in zip(axes[0], names):
    sub = [r for r in rows if r["source"] == name]
    d = np.array([float(r["distortion"]) for r in sub])
    grid = np.geomspace(d.min() / 2, d.max() * 1.5, 200)
    src = sources[sub[0]["arm"]]
    ax.plot(grid, src.bound_bits(grid), "k-", label=src.bound_name)
    ax.plot(grid, src.no_side_info_bits(grid), "k--",
            label="R(D) without side info")
    drawn = set()
    for arm in sorted({r["arm"] for r in sub}):
      pts = [r for r in sub if r["arm"] == arm]
      hull = baselines[arm]
      if pts[0]["baseline_name"] not in drawn:
        drawn.add(pts[0]["baseline_name"])
        keep = (hull.mse >= grid[0]) & (hull.mse <= grid[-1])
        ax.plot(hull.mse[keep], hull.rate_bits[keep], ":", lw=1.5,
                label=pts[0]["baseline_name"])
      ax.plot([float(r["distortion"]) for r in pts],
              [float(r["rate_bits"]) for r in pts], "o",
              label=f"{arm} ({pts[0]['encoder']}, {pts[0]['rate_model']})")
    ax.set(xscale="log", xlabel="distortion (MSE)", ylabel="rate (bits/sample)",
           title=name)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
  save_figure(fig, path)


def binning_figure(panels: list[tuple], path: str) -> None:
  """The encoder's index over x, and the decoder's x̂(u, y), per panel.

  Args:
    panels: (title, compressor, source, params, lmbda) tuples for scalar
      sources.
    path: PNG path.
  """
  fig, axes = plt.subplots(2, len(panels), figsize=(5.5 * len(panels), 7),
                           squeeze=False)
  for col, (title, comp, source, params, lmbda) in enumerate(panels):
    std = source.x_std
    x = jnp.linspace(-3 * std, 3 * std, 3001)[:, None]
    u = np.asarray(comp.encode(params, x, lmbda, jax.random.key(0)))
    ax = axes[0, col]
    ax.scatter(np.asarray(x[:, 0]), u, c=u, s=2, cmap="tab20")
    ax.set(xlabel="x", ylabel="index u", title=title)
    ax = axes[1, col]
    _, y_all = source.sample(jax.random.key(1), 4096)
    y = jnp.linspace(float(y_all.min()), float(y_all.max()), 200)[:, None]
    used, counts = np.unique(u, return_counts=True)
    for k in used[np.argsort(-counts)][:8]:
      x_hat = comp.decode_indices(params, jnp.full((y.shape[0],), k), y)
      ax.plot(np.asarray(y[:, 0]), np.asarray(x_hat)[:, 0], label=f"u={k}")
    ax.set(xlabel="side information y", ylabel="x̂(u, y)")
    ax.legend(fontsize=6, ncol=2)
  save_figure(fig, path)
