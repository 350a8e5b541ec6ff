"""The stereo job: `train_and_evaluate(config, workdir)` for the distributed
stereo image codec (view 1 coded, view 2 at the decoder only).

config.data (`data.name`: 'motorcycle') -> the train band trains every arm's
λ × β_MI × seed grid as one compiled program (`core.runner.load_or_train`:
checkpoints/<arm>.npz after every chunk, params/<arm>.npz, metrics.jsonl;
resumable) -> the test band is coded once per grid point as one image
(`evaluate.learned_rows`) beside the classical codecs
(`evaluate.classical_rows`). Results in `workdir` (process 0, atomic):
  config.json, metrics.jsonl, rd.csv (COLUMNS; one row per arm × grid point
  and per codec × quality), rd.png, reconstructions.png (the figure arm's
  highest-λ reconstruction above JPEG 2000 at the same rate), summary.json
  (sizes, timing, the notes on units).
"""

import os
import time

import jax
import ml_collections
import numpy as np

from ndc_jax.core import loops, registry, results, runner, tables
from ndc_jax.stereo import data as stereo_data
from ndc_jax.stereo import evaluate, plots, train

DATA = {"motorcycle": stereo_data.motorcycle_splits}
COLUMNS = ("kind", "arm", "entropy", "fusion", "mi_estimator", "lmbda",
           "beta_mi", "seed", "setting", "bpp", "est_bpp", "header_bits",
           "psnr_db", "ms_ssim", "baseline_name", "baseline_psnr_db",
           "gap_db", "jpeg2000_psnr_db", "gap_jpeg2000_db",
           "single_view_psnr_db", "side_gain_db", "encode_ms", "decode_ms",
           "train_s")


def load_data(cfg: ml_collections.ConfigDict) -> dict:
  """{"train", "test": (view 1, view 2) float [H, W, 3], "meta"}."""
  out = registry.lookup(DATA, cfg.name, "config.data.name")()
  for split in ("train", "test"):
    stereo_data.check_pair(*out[split], f"{cfg.name} {split} pair")
  return out


def grid(arm_cfg) -> tuple:
  """The flattened λ × β_MI × seed grid, [M] each."""
  s = arm_cfg.sweep
  return loops.sweep_grid(s.lmbdas, s.betas, s.seeds)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       mesh=None) -> list[dict]:
  """Trains, codes and measures every arm; writes the results; returns the
  rows (learned and classical)."""
  t_start = time.time()
  d = load_data(config.data)
  runner.check_workdir(config, workdir, data=d["meta"])
  trainers = runner.build(config, lambda arm: train.make_train(arm,
                                                                d["train"]))
  metrics = results.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  rows, recons = [], {}
  for name, arm_cfg in config.arms.items():
    t0 = time.time()
    lmbdas, betas, seeds = grid(arm_cfg)
    params = runner.load_or_train(
        os.path.join(workdir, "params", f"{name}.npz"), name, trainers[name],
        workdir, metrics, {"lmbda": lmbdas, "beta_mi": betas}, seeds,
        arm_cfg, train.METRICS, mesh)
    train_s = time.time() - t0
    arm_rows, arm_recons = evaluate.learned_rows(
        name, arm_cfg, trainers[name], params,
        [np.asarray(g) for g in (lmbdas, betas, seeds)], d["test"],
        config.eval.latency_repeats)
    for r in arm_rows:
      r["train_s"] = train_s
    rows += arm_rows
    recons[name] = arm_recons
  base = evaluate.classical_rows(config.baselines, d["test"])
  for b in base:
    b["train_s"] = 0.0
  evaluate.add_gaps(rows, base)
  fill = lambda r: {c: r.get(c, "" if c == "baseline_name" else
                             float("nan")) for c in COLUMNS}
  table = [fill(r) for r in rows + base]
  if runner.is_writer():
    results.write_csv(os.path.join(workdir, "rd.csv"), table, COLUMNS)
    plots.rd_figure(table, os.path.join(workdir, "rd.png"))
    fig_arm = config.eval.figure_arm
    sub = [r for r in rows if r["arm"] == fig_arm]
    k = int(np.argmax([r["lmbda"] for r in sub]))
    pick = sub[k]
    j2k, j2k_bpp = evaluate.jpeg2000_at_rate(d["test"][0], pick["bpp"])
    j2k_psnr = evaluate.psnr_db(d["test"][0], j2k)
    plots.reconstructions([
        ("view 1 (original)", d["test"][0]),
        ("view 2 (side information at the decoder)", d["test"][1]),
        (f"{fig_arm}, λ={pick['lmbda']:g}: {pick['bpp']:.3f} bpp, "
         f"{pick['psnr_db']:.2f} dB", recons[fig_arm][k]),
        (f"JPEG 2000 (view 1 alone): {j2k_bpp:.3f} bpp, {j2k_psnr:.2f} dB",
         j2k)], os.path.join(workdir, "reconstructions.png"))
    results.write_json(os.path.join(workdir, "summary.json"), {
        "data": d["meta"], "wall_s": time.time() - t_start,
        "test_shape": list(d["test"][0].shape),
        "device": str(jax.devices()[0]),
        "notes": {
            "bpp": "8 × file bytes / (H·W) of view 1 (headers included); "
                   "view 2 is side information, not coded",
            "ms_ssim": "MS-SSIM with as many scales as the test band's "
                       "height allows (11·2^(s−1) <= side)",
            "latency": "ms per image, median after a warm-up call; learned: "
                       "network + ANS on this device; classical: the "
                       "library's encode / decode"}})
  return rows + base


def format_table(rows: list[dict], config: ml_collections.ConfigDict) -> str:
  """Learned rows: rate (bpp of view 1), PSNR, MS-SSIM, the best classical
  codec and JPEG 2000 at that rate with the gaps, the side-information gain
  over the single-view arm, and latency."""
  del config
  cols = ("arm", "lmbda", "beta_mi", "bpp", "psnr_db", "ms_ssim",
          "baseline_name", "gap_db", "gap_jpeg2000_db", "side_gain_db",
          "encode_ms", "decode_ms")
  return tables.format_table([r for r in rows if r["kind"] == "learned"],
                             cols, width=12)
