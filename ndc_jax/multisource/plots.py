"""Figures of the two-terminal experiment: sum rate vs distortion with the
bounds, and the effect of β_MI (rows are rd.csv dicts, two sources)."""

import numpy as np

from ndc_jax.theory import bounds
from ndc_jax.core.plotting import plt, save_figure


def _arms(rows):
  return sorted({r["arm"] for r in rows})


def rd_figure(rows: list[dict], path: str) -> None:
  """Sum rate (bits per sample pair) against mean per-source MSE, per arm:
  operational (measured bitstream, filled) and VAE KL (hollow) points, colour
  = β_MI; the symmetric two-terminal bound, the centralized bound and
  separate coding ½·log2(σ²/D) per source."""
  arms = _arms(rows)
  fig, axes = plt.subplots(1, len(arms), figsize=(5 * len(arms), 4.2),
                           squeeze=False)
  betas = sorted({r["beta_mi"] for r in rows})
  cmap = plt.get_cmap("coolwarm", max(len(betas), 2))
  rho, var = rows[0]["rho"], 1.0
  for ax, arm in zip(axes[0], arms):
    sub = [r for r in rows if r["arm"] == arm]
    d_op = np.array([(r["mse_op_1"] + r["mse_op_2"]) / 2 for r in sub])
    d_kl = np.array([(r["mse_vae_1"] + r["mse_vae_2"]) / 2 for r in sub])
    lo = max(min(d_op.min(), d_kl.min()) / 1.5, 1e-3)
    grid = np.geomspace(lo, min(max(d_op.max(), d_kl.max()) * 1.5, var), 200)
    ax.plot(grid, bounds.two_terminal_sum_rate_bits(grid, grid, rho), "k-",
            label="two-terminal (WTV 2008)")
    ax.plot(grid, bounds.joint_gaussian_pair_rate_bits(grid, grid, rho), "k:",
            label="centralized")
    ax.plot(grid, 2 * bounds.gaussian_rd_bits(var, grid), "k--",
            label="separate, no correlation")
    for j, beta in enumerate(betas):
      idx = [i for i, r in enumerate(sub) if r["beta_mi"] == beta]
      c = cmap(j)
      ax.plot(d_op[idx], [sub[i]["op_bpd_sum"] for i in idx], "o", color=c,
              label=f"operational, β_MI={beta:g}")
      ax.plot(d_kl[idx], [sub[i]["kl_bpd_sum"] for i in idx], "o", mfc="none",
              color=c, label=f"KL, β_MI={beta:g}")
    ax.set(xscale="log", xlabel="MSE per source (mean of the two)",
           ylabel="sum rate (bits / sample pair)", title=arm)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=6)
  save_figure(fig, path)


def beta_figure(rows: list[dict], path: str) -> None:
  """Per arm: excess of the operational sum rate over the two-terminal bound
  at the achieved distortion, and the MI estimate, against β_MI (one line
  per λ)."""
  arms = _arms(rows)
  fig, axes = plt.subplots(2, len(arms), figsize=(4.5 * len(arms), 6.5),
                           squeeze=False)
  for col, arm in enumerate(arms):
    sub = [r for r in rows if r["arm"] == arm]
    for lmbda in sorted({r["lmbda"] for r in sub}):
      pts = sorted((r for r in sub if r["lmbda"] == lmbda),
                   key=lambda r: r["beta_mi"])
      b = [r["beta_mi"] for r in pts]
      axes[0, col].plot(b, [r["gap_op_bits"] for r in pts], "o-",
                        label=f"λ={lmbda:g}")
      axes[1, col].plot(b, [r["mi_bits"] for r in pts], "o-",
                        label=f"λ={lmbda:g}")
    axes[0, col].set(title=arm, ylabel="operational gap to bound (bits)")
    axes[1, col].set(xlabel="β_MI", ylabel="Î(Z1; Z2) (bits)")
    axes[0, col].legend(fontsize=7)
  save_figure(fig, path)
