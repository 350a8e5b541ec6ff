"""The stereo job: `train_and_evaluate(config, workdir)` for the distributed
stereo image codec (view 1 coded, view 2 at the decoder only).

config.data -> the training pairs train every arm's λ × β_MI × seed grid as
one compiled program (`core.runner.load_or_train`: checkpoints/<arm>.npz
after every chunk, params/<arm>.npz, metrics.jsonl; resumable; random
crops, a random training pair per batch element) -> every test pair is
coded once per grid point, view 1 as one image (`evaluate.learned_rows`),
beside the classical codecs on the same images (`evaluate.classical_rows`);
rd.csv's bpp and distortions are means over the test images.

Data (`data.name`, `load_data`):
  'motorcycle': the Middlebury Motorcycle pair's row bands (one train band,
    one test band: N = 1); data.path must stay ''.
  'kitti': KITTI Stereo 2012 + 2015 under the NDIC protocol
    (`datasets.ndic_kitti`): data.path holds data_stereo_flow_multiview/
    and data_scene_flow_multiview/; data.split_dir ('' = the default split
    rule) holds NDIC's KITTI_stereo_{train,test}.txt; data.versions the
    KITTI sets of the default rule.
  'cityscapes': `datasets.ndic_cityscapes`, data.path holding leftImg8bit/
    and rightImg8bit/; official train / test folders.
  data.crop_hw (() = the protocol's: KITTI 370 × 740, Cityscapes none) and
  data.resize_hw (NDIC: 128 × 256) set the benchmarks' preprocessing;
  data.max_test_images (0 = all) codes only the first test pairs of the
  split, in its order.
Results in `workdir` (process 0, atomic):
  config.json, metrics.jsonl, rd.csv (COLUMNS; one row per arm × grid point
  and per codec × quality), rd.png, reconstructions.png (the figure arm's
  highest-λ reconstruction of the first test image above JPEG 2000 at the
  same rate), summary.json (sizes, the number of test images, timing, the
  notes on units).
"""

import os
import time

import jax
import ml_collections
import numpy as np

from ndc_jax.core import loops, registry, results, runner, tables
from ndc_jax.stereo import data as stereo_data
from ndc_jax.stereo import datasets, evaluate, plots, train

COLUMNS = ("kind", "arm", "entropy", "fusion", "mi_estimator", "lmbda",
           "beta_mi", "seed", "setting", "bpp", "est_bpp", "header_bits",
           "psnr_db", "ms_ssim", "baseline_name", "baseline_psnr_db",
           "gap_db", "jpeg2000_psnr_db", "gap_jpeg2000_db",
           "single_view_psnr_db", "side_gain_db", "encode_ms", "decode_ms",
           "train_s")
BENCHMARK_FIELDS = ("path", "split_dir", "versions", "crop_hw", "resize_hw")


def _motorcycle(cfg: ml_collections.ConfigDict) -> dict:
  """The Motorcycle bands as one-pair stacks [1, H, W, 3]."""
  defaults = stereo_data.DATA_DEFAULTS
  set_fields = [f for f in BENCHMARK_FIELDS if cfg[f] != defaults[f]]
  if set_fields:
    raise ValueError(f"config.data.{set_fields[0]}={cfg[set_fields[0]]!r} "
                     "is for data.name='kitti' or 'cityscapes'; "
                     "'motorcycle' is the pair scikit-image ships: leave "
                     f"data.{', data.'.join(set_fields)} at their defaults")
  out = stereo_data.motorcycle_splits()
  return {"train": tuple(v[None] for v in out["train"]),
          "test": tuple(v[None] for v in out["test"]), "meta": out["meta"]}


def _benchmark(cfg: ml_collections.ConfigDict, splits: dict) -> dict:
  """{split: datasets.StereoSplit} -> stacks in [0, 1] and their meta."""
  return {"train": (stereo_data.from_255(splits["train"].x),
                    stereo_data.from_255(splits["train"].y)),
          "test": (stereo_data.from_255(splits["test"].x),
                   stereo_data.from_255(splits["test"].y)),
          "meta": dict(dataset=cfg.name, **{
              s: {k: v for k, v in splits[s].meta.items()
                  if s == "test" or k not in ("x_files", "y_files")}
              for s in ("train", "test")})}


def _hw(cfg: ml_collections.ConfigDict, field: str):
  """cfg[field] as a tuple, or None for ()."""
  value = tuple(cfg[field])
  return value or None


def _kitti(cfg: ml_collections.ConfigDict) -> dict:
  return _benchmark(cfg, datasets.ndic_kitti(
      _root(cfg), cfg.split_dir or None, ("train", "test"),
      _hw(cfg, "crop_hw") or datasets.NDIC_KITTI_CROP_HW,
      _hw(cfg, "resize_hw"), tuple(cfg.versions)))


def _cityscapes(cfg: ml_collections.ConfigDict) -> dict:
  for field in ("split_dir", "versions", "crop_hw"):
    if cfg[field] != stereo_data.DATA_DEFAULTS[field]:
      raise ValueError(f"config.data.{field}={cfg[field]!r} is for "
                       "data.name='kitti'; Cityscapes (NDIC) takes its "
                       "official train / test folders and whole frames: "
                       f"leave data.{field} at its default")
  return _benchmark(cfg, datasets.ndic_cityscapes(
      _root(cfg), ("train", "test"), _hw(cfg, "resize_hw")))


def _root(cfg: ml_collections.ConfigDict) -> str:
  if not isinstance(cfg.path, str) or not cfg.path:
    raise ValueError(f"config.data.path={cfg.path!r}; data.name="
                     f"{cfg.name!r} needs the dataset's root directory "
                     "(see ndc_jax/stereo/datasets.py for the layout)")
  return cfg.path


DATA = {"motorcycle": _motorcycle, "kitti": _kitti,
        "cityscapes": _cityscapes}


def load_data(cfg: ml_collections.ConfigDict) -> dict:
  """{"train", "test": (view 1, view 2) float [N, H, W, 3] in [0, 1],
  "meta"}: the test split cut to its first data.max_test_images pairs.

  Raises:
    ValueError: an unknown data.name, a field that name does not use, a bad
      data.max_test_images, or the loaders' errors (a missing file or
      directory, views of different sizes, a crop larger than an image).
  """
  n_max = cfg.max_test_images
  if isinstance(n_max, bool) or not isinstance(n_max, int) or n_max < 0:
    raise ValueError(f"config.data.max_test_images={n_max!r}; allowed: an "
                     "int >= 1 (the first test pairs), or 0 for all")
  out = registry.lookup(DATA, cfg.name, "config.data.name")(cfg)
  n_split = len(out["test"][0])
  n = min(n_max, n_split) if n_max else n_split
  out["test"] = tuple(v[:n] for v in out["test"])
  if "x_files" in out["meta"].get("test", {}):
    test_meta = out["meta"]["test"]
    test_meta.update(x_files=test_meta["x_files"][:n],
                     y_files=test_meta["y_files"][:n])
  out["meta"] = dict(out["meta"], num_test_images=n,
                     num_test_pairs_in_split=n_split)
  for split in ("train", "test"):
    stereo_data.check_pair(*out[split], f"{cfg.name} {split} pairs")
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
  # Data and every arm's checks (crop sizes included) before config.json.
  trainers = runner.build(config, lambda arm: train.make_train(arm,
                                                                d["train"]))
  runner.check_workdir(config, workdir, data=d["meta"])
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
  n_test = len(d["test"][0])
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
    x1, x2 = d["test"][0][0], d["test"][1][0]  # the first test pair
    j2k, j2k_bpp = evaluate.jpeg2000_at_rate(x1, pick["bpp"])
    j2k_psnr = evaluate.psnr_db(x1, j2k)
    plots.reconstructions([
        ("view 1 (original)", x1),
        ("view 2 (side information at the decoder)", x2),
        (f"{fig_arm}, λ={pick['lmbda']:g}: {pick['bpp']:.3f} bpp, "
         f"{pick['psnr_db']:.2f} dB", recons[fig_arm][k]),
        (f"JPEG 2000 (view 1 alone): {j2k_bpp:.3f} bpp, {j2k_psnr:.2f} dB",
         j2k)], os.path.join(workdir, "reconstructions.png"))
    results.write_json(os.path.join(workdir, "summary.json"), {
        "data": d["meta"], "wall_s": time.time() - t_start,
        "test_shape": list(d["test"][0].shape[1:]),
        "num_test_images": n_test,
        "device": str(jax.devices()[0]),
        "notes": {
            "means": f"rd.csv's bpp, est_bpp, header_bits, psnr_db and "
                     f"ms_ssim are means over the {n_test} test image(s) "
                     "of per-image values (PSNR: the mean of per-image "
                     "PSNRs), learned and classical alike",
            "bpp": "8 × file bytes / (H·W) of view 1 (headers included); "
                   "view 2 is side information, not coded",
            "ms_ssim": "MS-SSIM with as many scales as the test image's "
                       "shorter side allows (11·2^(s−1) <= side)",
            "latency": "ms per image; learned: the first test image's "
                       "median after a warm-up call, network + ANS on this "
                       "device; classical: the library's encode / decode, "
                       "mean over the test images"}})
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
