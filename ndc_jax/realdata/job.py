"""The real-data job: `train_and_evaluate(config, workdir)` on real
correlated sources.

config.data -> `protocol.load_splits` (Middlebury stereo, PhysioNet EEG,
local WFDB ECG) -> the runs of config.protocol (``split``: 80/10/10, report
val and test; ``kfold``: k contiguous held-out blocks) -> per run, the train
examples (normalised with train statistics) become a sampler
(`models.sources.from_data`) and every arm's grid trains with
`train_arm` (`runner.load_or_train`: one vmapped program, checkpoints and
metrics.jsonl in `workdir/<run>/<arm>/`, resumable) -> `realdata_eval.evaluate`
on the held-out examples. Results in `workdir` (atomic writes, process 0):
  config.json (config + the data set's meta: source, licence, citation),
  rd.csv (one row per run × held-out split × arm × λ × β_MI × seed, kind
  "learned", with the gap to the best classical codec at equal rate; and one
  row per run × test split × classical codec × setting, kind "baseline",
  from `classical.baseline_rows` on the same tiles),
  protocol.csv (learned rows: mean and std over folds, ddof 1; NaN std for
  one run), baselines_protocol.csv (the same for the baseline rows),
  beta_ablation.csv (per arm and β_MI, means over λ), rd.png,
  reconstructions.png, summary.json (sizes, timing, notes, claim check).

Arms name their model (`model.name`, a key of TRAINERS): ``vae`` (the
default; `models.train`) or ``conv`` (`models.conv`, the learned
transform codec of multichannel signals, with lone decoders beside the joint
one: alone_* and side_gain_* columns). An arm with `eval.curve` trains in
`train.chunk_steps` stages and, after each, codes the test split: curve.csv
(one row per run × arm × stage × grid point: step, rate, metric, alone
metric, side gain, the best classical codec at that rate and the gap).

The side-information gain against a separately trained codec: an arm whose
`eval.separate_arm` names a conv arm with `model.decoder='separate'` (the
same codec, each source decoded from its own latents only, trained so)
gets, per row, that arm's metric at the row's rate (`separate_<metric>`,
linear interpolation between its λ points of the same run, split and seed;
NaN outside their rates) and `separate_gain_prd` = separate PRD − joint
PRD (`separate_gain_db` = joint PSNR − separate PSNR; positive: joint
decoding is better at equal rate).

`train_and_evaluate` returns the rows of rd.csv (learned and baseline,
`kind`); `format_table` prints the learned held-out rows with their gaps,
then the classical rows of the same region.
"""

import json
import os
import time

import jax
import ml_collections
import numpy as np

from ndc_jax.core import entropy_model
from ndc_jax.core import metrics as core_metrics
from ndc_jax.core import registry, results, runner, tables
from ndc_jax.models import conv
from ndc_jax.models import sources as multisource_sources
from ndc_jax.models import train as multisource
from ndc_jax.realdata import classical
from ndc_jax.realdata import evaluate as realdata_eval
from ndc_jax.realdata import plots as realdata_plots
from ndc_jax.realdata import protocol, tiling

FIXED = ("run", "split", "kind", "arm", "mi_estimator", "lmbda", "beta_mi",
         "seed", "setting", "num_train", "num_heldout", "train_s",
         "baseline_name")
KEYS = ("split", "arm", "mi_estimator", "lmbda", "beta_mi", "seed")
BASELINE_KEYS = ("split", "arm", "setting")
RATES = ("kl_bpd", "op_est_bpd", "op_bpd")
TIMING = ("encode_us", "decode_us", "encode_us_batch1", "decode_us_batch1")
TRAINERS = {"vae": multisource.make_train, "conv": conv.make_train}
CURVE = ("run", "arm", "step", "lmbda", "beta_mi", "seed", "op_bpd_mean")
SEPARATE_GAIN = {"psnr_db": "separate_gain_db", "prd_pct": "separate_gain_prd"}


def make_trainer(arm_cfg, source):
  """The trainer of the arm's `model.name` (TRAINERS; default 'vae')."""
  make = registry.lookup(TRAINERS, arm_cfg.model.get("name", "vae"),
                         "model.name")
  return make(arm_cfg, source)


def check_arm(name: str, arm_cfg, data) -> None:
  """Raises ValueError if a conv arm does not fit the data's sources."""
  if arm_cfg.model.get("name", "vae") != "conv":
    return
  if realdata_eval.is_image(data.shapes[0]):
    raise ValueError(f"config.arms.{name}: the conv codec codes signals "
                     "[channels, window]; this data set holds images")
  have = tuple(int(s[0]) for s in data.shapes)
  if tuple(arm_cfg.model.channels) != have:
    raise ValueError(f"config.arms.{name}: model.channels="
                     f"{tuple(arm_cfg.model.channels)} but the data's sources "
                     f"have {have} channels; set --config.arms.{name}."
                     f"model.channels accordingly")


def prepare_runs(config, test, runs, name: str) -> list[tuple]:
  """Validates the whole config before anything is written or trained:
  every arm's shared fields (`runner.check_arms`), its fit to the data
  (`check_arm`, on the `test` split's shapes), the baselines
  (`classical.check_config`) and each trainer's own checks (building it on
  every run's source). Returns per run (normaliser fitted on its train
  split, {arm: trainer}); errors are ValueErrors naming the arm and field."""
  runner.check_arms(config)
  for arm, arm_cfg in config.arms.items():
    check_arm(arm, arm_cfg, test)
    check_separate_arm(arm, arm_cfg, config.arms)
  if "baselines" in config:
    classical.check_config(config.baselines, realdata_eval.is_image(
        test.shapes[0]))
  out = []
  for _, train, _ in runs:
    norm = protocol.fit_normalizer(train, config.data.get("normalize",
                                                          "channel"))
    source = multisource_sources.from_data(norm.apply(train), name)
    trainers = {}
    for arm, arm_cfg in config.arms.items():
      try:
        trainers[arm] = make_trainer(arm_cfg, source)
      except ValueError as e:
        raise ValueError(f"config.arms.{arm}: {e}") from None
    out.append((norm, trainers))
  return out


def columns(num_sources: int, image: bool) -> tuple[str, ...]:
  """rd.csv header: rates in bits per dimension, distortions, µs latency."""
  dist = (realdata_eval.IMAGE_METRICS if image
          else realdata_eval.SIGNAL_METRICS)
  metric = "psnr_db" if image else "prd_pct"
  per = tuple(f"{n}_{i + 1}" for n in RATES + dist + ("fid", "header_bits")
              for i in range(num_sources))
  alone = (f"alone_{metric}",) + tuple(f"alone_{metric}_{i + 1}"
                                      for i in range(num_sources))
  return (FIXED + per + tuple(f"{n}_sum" for n in RATES) + ("op_bpd_mean",)
          + dist + (f"baseline_{metric}", classical.GAP[metric]) + alone
          + (realdata_eval.SIDE_GAIN[metric], f"separate_{metric}",
             SEPARATE_GAIN[metric]) + TIMING)


def check_separate_arm(name: str, arm_cfg, arms) -> None:
  """Raises ValueError unless the arm's `eval.separate_arm` (if set) names
  another conv arm of `arms` with model.decoder='separate'."""
  other = arm_cfg.eval.get("separate_arm", "")
  if not other:
    return
  ok = (other in arms and other != name
        and arms[other].model.get("name", "vae") == "conv"
        and arms[other].model.decoder == "separate")
  if not ok:
    raise ValueError(f"config.arms.{name}.eval.separate_arm={other!r}; "
                     "allowed: another conv arm of config.arms with "
                     f"model.decoder='separate' (arms: {tuple(arms)})")


def add_separate_gains(rows: list[dict], config, metric: str,
                       keys=("run", "split", "seed")) -> None:
  """Adds separate_<metric> and SEPARATE_GAIN[metric] to the rows of every
  arm with `eval.separate_arm`: that arm's metric at the row's rate, from
  its rows that share `keys` (`classical.at_rate`)."""
  sign = 1.0 if metric == "psnr_db" else -1.0
  for name, arm_cfg in config.arms.items():
    other = arm_cfg.eval.get("separate_arm", "")
    if not other:
      continue
    for r in (r for r in rows if r["arm"] == name):
      pool = [q for q in rows if q["arm"] == other
              and all(q[k] == r[k] for k in keys)]
      v = classical.at_rate(pool, metric, r["op_bpd_mean"])
      r[f"separate_{metric}"] = v
      r[SEPARATE_GAIN[metric]] = sign * (r[metric] - v)


def protocol_table(rows: list[dict], cols, keys=KEYS) -> list[dict]:
  """Mean and std (ddof 1) over runs of every numeric column, per keys."""
  groups = {}
  for r in rows:  # str keys: NaN settings group together
    groups.setdefault(tuple(str(r[k]) for k in keys), []).append(r)
  out = []
  for sub in groups.values():
    row = {**{k: sub[0][k] for k in keys}, "folds": len(sub)}
    for c in cols:
      if c not in FIXED and c not in keys:
        v = np.asarray([r.get(c, np.nan) for r in sub], np.float64)
        row[f"{c}_mean"] = float(v.mean())
        row[f"{c}_std"] = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
    out.append(row)
  return out


def protocol_columns(cols, keys=KEYS) -> tuple[str, ...]:
  return keys + ("folds",) + tuple(f"{c}_{s}" for c in cols
                                   if c not in FIXED for s in ("mean", "std"))


def _filled(rows: list[dict], cols) -> list[dict]:
  """Rows with every column (NaN, or '' for baseline_name, where absent)."""
  return [{c: r.get(c, "" if c == "baseline_name" else float("nan"))
           for c in cols} for r in rows]


def beta_ablation(prot: list[dict], metric: str) -> list[dict]:
  """Per arm and β_MI: means over λ (held-out rows) of rate and distortion."""
  held = [r for r in prot if r["split"] in ("test", "heldout")]
  out = []
  for arm in sorted({r["arm"] for r in held}):
    for beta in sorted({r["beta_mi"] for r in held if r["arm"] == arm}):
      sub = [r for r in held if r["arm"] == arm and r["beta_mi"] == beta]
      out.append({"arm": arm, "mi_estimator": sub[0]["mi_estimator"],
                  "beta_mi": beta, "points": len(sub),
                  **{f"mean_{c}": float(np.mean([r[f"{c}_mean"] for r in sub]))
                     for c in ("op_bpd_mean", "kl_bpd_sum", metric)}})
  return out


def check_claim(prot: list[dict], claim) -> dict:
  """Best held-out `claim.metric` (mean over folds) at rate <= claim.rate_bpd
  (measured bits per dimension; 0 = any rate) against claim.target."""
  held = [r for r in prot if r["split"] in ("test", "heldout")]
  ok = [r for r in held if not claim.rate_bpd or
        r["op_bpd_mean_mean"] <= claim.rate_bpd]
  sign = 1.0 if claim.higher_is_better else -1.0
  pick = ok or [min(held, key=lambda r: r["op_bpd_mean_mean"])]
  best = max(pick, key=lambda r: sign * r[f"{claim.metric}_mean"])
  value = best[f"{claim.metric}_mean"]
  return {**claim.to_dict(), "reached": value,
          "reached_std": best[f"{claim.metric}_std"],
          "at_rate_bpd": best["op_bpd_mean_mean"],
          "model": {k: best[k] for k in ("arm", "lmbda", "beta_mi", "seed")},
          "met": bool(ok) and sign * (value - claim.target) >= 0,
          "models_within_rate": len(ok)}


def _notes(config, data) -> dict:
  """`data`: the tiled test split."""
  shape = data.shapes[0]
  if realdata_eval.is_image(shape):
    h, w = tiling.region(data, 0).shape[:2]
    s = core_metrics.ms_ssim_scales(min(h, w))
    ssim = (f"MS-SSIM with {s} scale(s) on the assembled {h}x{w} px test "
            "region of non-overlapping tiles (the standard 5 scales need "
            ">= 176 px)" if s else
            f"MS-SSIM not computed: the {h}x{w} px region < 11 px window")
  else:
    ssim = "PSNR and MS-SSIM are image metrics; signals report RMSE and PRD"
  return {"ms_ssim": ssim,
          "fid": (f"Fréchet distance on features of {config.eval.feature_fn}"
                  if config.eval.feature_fn else
                  "FID not reported: no pretrained feature extractor is "
                  "available offline (set eval.feature_fn='module:function'"
                  "); fid_* columns are NaN"),
          "rates": "bits per dimension of each source over the held-out "
                   "region coded once (non-overlapping tiles: bits per "
                   "unique pixel or sample); op_bpd = real ANS bitstream "
                   "with its side bits (header_bits_i), op_bpd_mean = all "
                   "bits / all dimensions; baselines: real files or streams "
                   "of the same region (header_bits_i = file headers, or "
                   "the signal streams' side bits)",
          "baselines": "kind=baseline rows: classical codecs on the test "
                       "region (setting = quality, JPEG 2000 target PSNR, "
                       "or quantizer step / train std); gap_db / gap_prd = "
                       "learned − best baseline at the learned rate "
                       "(op_bpd_mean, linear interpolation, NaN outside the "
                       "baselines' rates); signal baselines' encode_us "
                       "includes their decode check",
          "train_s": "wall seconds to train one arm's whole λ×β_MI grid "
                     "(one vmapped program, compile included); ~0 when "
                     "resumed from saved params",
          "latency": "network + rounding of one model, µs per example, "
                     "batched (whole held-out set) and batch 1; ANS "
                     "entropy coding excluded", "device": str(jax.devices()[0])}


def train_arm(name: str, arm_cfg, trainer, run_dir: str, mesh=None,
              on_stage=None):
  """Trains (or reloads) one arm's λ × β_MI × seed grid with `trainer` (its
  `make_trainer` on the run's source; `runner.load_or_train`, checkpoints
  and metrics.jsonl in run_dir/name); returns (trainer, params batched on
  axis 0). `on_stage(trainer, step, params)`, if given, trains in stages of
  `train.chunk_steps` (resuming the checkpoint, so the result equals one
  run) and is called after each."""
  arm_dir = os.path.join(run_dir, name)
  path = os.path.join(arm_dir, "params.npz")
  lmbdas, betas, seeds = multisource.sweep_grid(arm_cfg)
  swept = {"lmbda": lmbdas, "beta_mi": betas}
  names = getattr(trainer, "metric_names", multisource.METRICS)
  metrics = results.read_jsonl(os.path.join(arm_dir, "metrics.jsonl"))
  if on_stage is not None and not os.path.exists(path):
    t = arm_cfg.train
    for step in range(t.chunk_steps, t.num_steps, t.chunk_steps):
      stage = ml_collections.ConfigDict(arm_cfg.to_dict())
      stage.train.num_steps = step
      on_stage(trainer, step, runner.train_grid(
          name, trainer, arm_dir, metrics, swept, seeds, stage, names, mesh))
  params = runner.load_or_train(path, name, trainer, arm_dir, metrics, swept,
                                seeds, arm_cfg, names, mesh)
  if on_stage is not None:
    on_stage(trainer, arm_cfg.train.num_steps, params)
  return trainer, params


def curve_rows(run: str, name: str, trainer, step: int, params, grid,
               data, norm, eval_cfg, metric: str) -> list[dict]:
  """One curve.csv row per grid point: test rate and metric at `step`."""
  ev, _ = realdata_eval.evaluate_one(trainer, params, data, norm, eval_cfg)
  side = realdata_eval.SIDE_GAIN[metric]
  return [{"run": run, "split": "test", "arm": name, "step": step,
           "lmbda": float(grid[0][p]), "beta_mi": float(grid[1][p]),
           "seed": int(grid[2][p]),
           **{c: float(ev[c][p]) for c in ("op_bpd_mean", metric,
                                           f"alone_{metric}", side)
              if c in ev}} for p in range(len(grid[0]))]


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       mesh=None) -> list[dict]:
  """Runs the protocol for every arm, writes the results, returns rd rows.

  `mesh` (see `sharding.make_mesh`) lays each grid over devices."""
  parts = protocol.load_splits(config.data)
  runs = protocol.protocol_runs(config.protocol, parts)
  meta = json.loads(json.dumps({k: v for k, v in parts["test"].meta.items()
                                if k not in ("split", "rows", "samples")},
                               default=str))
  image = realdata_eval.is_image(parts["test"].shapes[0])
  prepared = prepare_runs(config, parts["test"], runs, meta["name"])
  runner.check_workdir(config, workdir, data=meta)  # writes config.json
  cols = columns(len(parts["test"].sources), image)
  rows, base_rows, sizes, t_start = [], [], [], time.time()
  curve = []
  if any(a.eval.get("curve") for a in config.arms.values()):
    # Each curve stage compiles the same program anew: a persistent cache
    # (in workdir) makes stages 2.. load it (it takes effect if nothing has
    # compiled in this process yet).
    jax.config.update("jax_compilation_cache_dir",
                      os.path.join(workdir, "jax_cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  range_bits = float(entropy_model.RANGE_BITS)
  for (run, train, heldout), (norm, trainers) in zip(runs, prepared):
    sizes.append({"run": run, "train": train.num_examples,
                  **{k: v.num_examples for k, v in heldout.items()}})
    if "baselines" in config:
      base_rows += [{**r, "run": run, "num_train": train.num_examples}
                    for r in classical.baseline_rows(config.baselines, train,
                                                     heldout)]
    for name, arm_cfg in config.arms.items():
      t0 = time.time()
      grid = [np.asarray(g) for g in multisource.sweep_grid(arm_cfg)]
      kw = {}
      if arm_cfg.eval.get("curve") and "test" in heldout:
        kw["on_stage"] = lambda tr, step, p: curve.extend(curve_rows(
            run, name, tr, step, p, grid, heldout["test"], norm,
            config.eval, "psnr_db" if image else "prd_pct"))
      trainer, params = train_arm(name, arm_cfg, trainers[name],
                                  os.path.join(workdir, run), mesh, **kw)
      train_s = time.time() - t0
      evals = realdata_eval.evaluate(trainer, params, heldout, norm,
                                     config.eval)
      for split, data in heldout.items():
        ev, recon = evals[split]
        for p in range(len(grid[0])):
          rows.append({
              "run": run, "split": split, "kind": "learned", "arm": name,
              "mi_estimator": arm_cfg.model.mi_estimator,
              "lmbda": float(grid[0][p]), "beta_mi": float(grid[1][p]),
              "seed": int(grid[2][p]), "setting": float("nan"),
              "num_train": train.num_examples,
              "num_heldout": data.num_examples, "train_s": train_s,
              **{c: float(ev[c][p]) for c in cols if c in ev},
              **{f"{n}_{i + 1}": float(ev[n][p, i]) for n in RATES
                 for i in range(len(data.sources))},
              **{f"header_bits_{i + 1}": range_bits
                 for i in range(len(data.sources))}})
        if (run, split, name) == (runs[0][0], list(heldout)[-1],
                                  next(iter(config.arms))):
          near0 = np.abs(grid[1]) == np.abs(grid[1]).min()
          picks = [int(np.flatnonzero(near0 & (grid[0] == f(grid[0][near0])))
                       [0]) for f in (np.min, np.max)]
          picks = sorted(set(picks))
          if runner.is_writer():
            realdata_plots.reconstructions(
                data, [recon[p] for p in picks],
                [f"λ={grid[0][p]:g} β={grid[1][p]:g}, "
                 f"{ev['op_bpd_mean'][p]:.3f} bpd" for p in picks],
                os.path.join(workdir, "reconstructions.png"),
                config.eval.num_figure_examples)
  gap_metric = "psnr_db" if image else "prd_pct"
  classical.add_gaps(rows, base_rows, gap_metric)
  classical.add_gaps(curve, base_rows, gap_metric)
  add_separate_gains(rows, config, gap_metric)
  add_separate_gains(curve, config, gap_metric, ("run", "split", "seed",
                                                 "step"))
  prot = protocol_table(rows, cols)
  base_prot = protocol_table(base_rows, cols, BASELINE_KEYS)
  metric = config.claim.metric
  summary = {"data": meta, "protocol": config.protocol.to_dict(),
             "sizes": sizes, "wall_s": time.time() - t_start,
             "notes": _notes(config, runs[0][2].get("test") or
                             next(iter(runs[0][2].values()))),
             "claim": check_claim(prot, config.claim)}
  if runner.is_writer():
    results.write_csv(os.path.join(workdir, "rd.csv"),
                      _filled(rows + base_rows, cols), cols)
    results.write_csv(os.path.join(workdir, "protocol.csv"), prot,
                      protocol_columns(cols))
    base_cols = protocol_columns(cols, BASELINE_KEYS)
    results.write_csv(os.path.join(workdir, "baselines_protocol.csv"),
                      _filled(base_prot, base_cols), base_cols)
    ablation = beta_ablation(prot, metric)
    results.write_csv(os.path.join(workdir, "beta_ablation.csv"), ablation,
                      tuple(ablation[0]))
    realdata_plots.rd_figure([r for r in prot if r["split"] in
                              ("test", "heldout")], metric,
                             os.path.join(workdir, "rd.png"), base_prot)
    results.write_json(os.path.join(workdir, "summary.json"), summary)
    if curve:
      side = realdata_eval.SIDE_GAIN[gap_metric]
      curve_cols = CURVE + (
          gap_metric, f"alone_{gap_metric}", side, "baseline_name",
          f"baseline_{gap_metric}", classical.GAP[gap_metric],
          f"separate_{gap_metric}", SEPARATE_GAIN[gap_metric])
      results.write_csv(os.path.join(workdir, "curve.csv"),
                        _filled(curve, curve_cols), curve_cols)
  return rows + base_rows


def format_table(rows: list[dict], config: ml_collections.ConfigDict) -> str:
  """The rows of `train_and_evaluate` as fixed-width text, rates in bits per
  dimension: the learned held-out rows with the config's claim metric, the
  best classical codec at the same rate and the gap to it (gap_db or
  gap_prd, test split), the lone decoders' and the separately trained
  codec's metric and gains where measured; then the classical rows
  (kind "baseline", arm = codec, setting = quality or step / train std) of
  the same test region, by codec and rate."""
  learned = [r for r in rows if r["kind"] == "learned"]
  base = sorted((r for r in rows if r["kind"] == "baseline"),
                key=lambda r: (r["run"], r["arm"], r["op_bpd_mean"]))
  metric = "psnr_db" if any("psnr_db" in r for r in learned) else "prd_pct"
  shown = (config.claim.metric,) + (
      (metric,) if metric != config.claim.metric else ())
  cols = ("run", "split", "arm", "lmbda", "beta_mi", "op_bpd_mean",
          "kl_bpd_sum") + shown + (
              "baseline_name", f"baseline_{metric}", classical.GAP[metric])
  for extra in ((f"alone_{metric}", realdata_eval.SIDE_GAIN[metric]),
                (f"separate_{metric}", SEPARATE_GAIN[metric])):
    if any(np.isfinite(r.get(extra[1], np.nan)) for r in learned):
      cols += extra
  cols += ("encode_us", "decode_us")
  text = tables.format_table(_filled(learned, cols), cols, width=14)
  if base:
    base_cols = ("run", "split", "arm", "setting", "op_bpd_mean",
                 "op_bpd_sum") + shown + ("encode_us", "decode_us")
    text += ("\nclassical codecs on the same test region (kind=baseline):\n"
             + tables.format_table(_filled(base, base_cols), base_cols,
                                   width=14))
  return text
