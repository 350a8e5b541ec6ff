"""Figures of the real-data experiments: example reconstructions (image
patches, or signal traces original vs decoded) and held-out R-D points."""

import numpy as np

from ndc_jax.core.plotting import plt, save_figure


def reconstructions(data, recons: list, labels: list[str], path: str,
                    num: int = 4) -> None:
  """`num` held-out examples of every source: originals and, per model, the
  decoded versions (`recons[k][i]`: [num_examples, dim_i], physical units)."""
  idx = np.linspace(0, data.num_examples - 1, num).round().astype(int)
  names = data.meta.get("source_names") or [
      "+".join(c) for c in data.meta.get("source_channels", [])] or [
          f"source {i + 1}" for i in range(len(data.sources))]
  if len(data.shapes[0]) == 3:  # image patches [p, p, C]
    rows = [(f"{n}\noriginal", data.unflatten(i)) for i, n in enumerate(names)]
    for lab, rec in zip(labels, recons):
      rows += [(f"{n}\n{lab}", rec[i].reshape((-1,) + data.shapes[i]))
               for i, n in enumerate(names)]
    fig, axes = plt.subplots(len(rows), num, figsize=(1.6 * num,
                                                      1.6 * len(rows)),
                             squeeze=False)
    for ax_row, (lab, imgs) in zip(axes, rows):
      for ax, k in zip(ax_row, idx):
        img = np.clip(imgs[k], 0, 1)
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray",
                  vmin=0, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])
      ax_row[0].set_ylabel(lab, fontsize=7)
  else:  # signals [channels, window]: first channel of each source
    rate = float(data.meta.get("sample_rate_hz", 1.0))
    fig, axes = plt.subplots(len(names), num, figsize=(3 * num,
                                                       2.2 * len(names)),
                             squeeze=False)
    for i, n in enumerate(names):
      orig = data.unflatten(i)[:, 0]
      t = np.arange(orig.shape[-1]) / rate
      for ax, k in zip(axes[i], idx):
        ax.plot(t, orig[k], "k-", lw=1.2, label="original")
        for lab, rec in zip(labels, recons):
          ax.plot(t, rec[i].reshape((-1,) + data.shapes[i])[k, 0], lw=0.9,
                  label=lab)
        ax.set_title(f"{n.split('+')[0]} @ {data.extras['start_sample'][k]}",
                     fontsize=7)
        ax.tick_params(labelsize=6)
      axes[i, 0].set_ylabel(data.meta.get("units", ""), fontsize=7)
    axes[0, 0].legend(fontsize=6)
    axes[-1, 0].set_xlabel("s", fontsize=7)
    fig.tight_layout()
  save_figure(fig, path)


def rd_figure(rows: list[dict], metric: str, path: str,
              baselines: list[dict] = ()) -> None:
  """Held-out `metric` against the measured rate (bits per dimension, all
  sources), one marker per arm, colour = β_MI; error bars = std over folds;
  arms with lone decoders also as open markers on a dashed line (the same
  streams, each decoded without the other sources: equal rate).
  `baselines` (protocol rows of classical codecs, kind "baseline"): one grey
  line per codec over its settings."""
  fig, ax = plt.subplots(figsize=(5.5, 4))
  betas = sorted({r["beta_mi"] for r in rows})
  cmap = plt.get_cmap("coolwarm", max(len(betas), 2))
  for arm, marker in zip(sorted({r["arm"] for r in rows}), "osv^D"):
    for j, b in enumerate(betas):
      sub = sorted((r for r in rows if r["arm"] == arm and r["beta_mi"] == b),
                   key=lambda r: r["op_bpd_mean_mean"])
      if sub:
        ax.errorbar([r["op_bpd_mean_mean"] for r in sub],
                    [r[f"{metric}_mean"] for r in sub],
                    yerr=[np.nan_to_num(r[f"{metric}_std"]) for r in sub],
                    marker=marker, color=cmap(j), label=f"{arm} β={b:g}")
        alone = [r.get(f"alone_{metric}_mean", np.nan) for r in sub]
        if np.isfinite(alone).any():
          ax.plot([r["op_bpd_mean_mean"] for r in sub], alone, ls="--",
                  marker=marker, mfc="none", color=cmap(j),
                  label=f"{arm} β={b:g}, each stream alone")
  held = [r for r in baselines if r["split"] in ("test", "heldout")
          and np.isfinite(r[f"{metric}_mean"])]
  codecs = sorted({r["arm"] for r in held})
  greys = plt.get_cmap("Greys")
  for k, codec in enumerate(codecs):
    sub = sorted((r for r in held if r["arm"] == codec),
                 key=lambda r: r["op_bpd_mean_mean"])
    ax.plot([r["op_bpd_mean_mean"] for r in sub],
            [r[f"{metric}_mean"] for r in sub], marker="x^+v*dh"[k % 7],
            ms=4, lw=1, color=greys(0.35 + 0.6 * k / max(len(codecs), 1)),
            label=codec)
  if held:
    learned = [r["op_bpd_mean_mean"] for r in rows]
    if learned:
      ax.set_xlim(0, 2.0 * max(learned))
  ax.set_xlabel("measured rate (bits per unique pixel or sample)")
  ax.set_ylabel(metric)
  ax.legend(fontsize=6)
  save_figure(fig, path)
