"""The Wyner-Ziv job: `train_and_evaluate(config, workdir)`, the function the
launcher, the notebooks and the tests all run.

For each arm of the config (one source, one model, one λ × seed grid) the
whole grid trains as one compiled program (`runner.load_or_train`), then is
evaluated with hard indices (`evaluate.evaluate`). Results in `workdir`:
  config.json, metrics.jsonl, rd.csv, rd.png, binning.png,
  params/<arm>.npz (trained parameters, axis 0 = grid point, with the grid),
  checkpoints/<arm>.npz (resumable training state).
"""

import os
from typing import NamedTuple

import jax
import ml_collections
import numpy as np

from ndc_jax.baselines import wz_quantizers
from ndc_jax.core import results, runner, sharding, tables
from ndc_jax.wyner_ziv import compressor as compressor_lib
from ndc_jax.wyner_ziv import evaluate, plots, sources, train

RD_COLUMNS = ("arm", "source", "dim", "rate_model", "encoder", "lmbda", "seed",
              "rate_bits", "rate_se_bits", "distortion", "distortion_se",
              "distortion_db", "bound_name",
              "bound_bits", "gap_bits", "gap_db", "no_side_info_bits",
              "baseline_name", "baseline_bits", "gap_to_baseline_bits",
              "index_entropy_bits", "used_indices", "max_intervals",
              "binned_indices", "validation_lagrangian", "selected")


TRAIN_METRICS = ("loss", "rate_bits", "distortion", "temperature")


class Arm(NamedTuple):
  """A trained arm, model only (no optimizer): axis 0 of `params` indexes
  the grid points, whose λ and seeds are `lmbdas` [M] and `seeds` [M]."""
  compressor: compressor_lib.Compressor
  source: sources.Source
  params: dict
  lmbdas: np.ndarray
  seeds: np.ndarray


def load_arm(config: ml_collections.ConfigDict, workdir: str, arm: str
             ) -> Arm:
  """Arm `arm` of `config` trained in `workdir`: builds the compressor and
  source alone and restores the saved parameters exactly, checking that the
  λ and seeds saved with them are the config's (`runner.load_params`)."""
  if arm not in config.arms:
    raise ValueError(f"arm {arm!r} is not in {workdir}; it holds "
                     f"{sorted(config.arms)}")
  arm_cfg = config.arms[arm]
  train.validate(arm_cfg)
  source = sources.make_source(arm_cfg.source)
  comp = compressor_lib.make_compressor(arm_cfg.model, source)
  lmbdas, seeds = train.sweep_grid(arm_cfg)
  params = runner.load_params(
      os.path.join(workdir, "params", f"{arm}.npz"), comp.init,
      runner.saved_grid({"lmbda": lmbdas}, seeds))
  return Arm(comp, source, params, np.asarray(lmbdas), np.asarray(seeds))


def baseline(arm_cfg: ml_collections.ConfigDict) -> wz_quantizers.Hull:
  """The best classical one-shot curve for the arm's source and rate model
  (`baselines.wz_quantizers.best_baseline`: nested scalar quantizers and
  Lloyd designs, lower hull; bits per scalar sample against MSE). A vector
  arm (dim n > 1) is held against the same scalar code on each component."""
  s = arm_cfg.source
  return wz_quantizers.best_baseline(
      s.name, s.var_x, s.var_noise, s.direction, s.laplace_scale,
      arm_cfg.model.rate_model, quick=arm_cfg.eval.baseline_quick)


def selected_seeds(lagrangian, lmbdas) -> np.ndarray:
  """[M] bools: per λ, the grid point of least `lagrangian` [M] (one seed
  per λ; the first on ties)."""
  lmbdas, lagrangian = np.asarray(lmbdas), np.asarray(lagrangian)
  keep = np.zeros(lmbdas.shape, bool)
  for l in np.unique(lmbdas):
    at = np.flatnonzero(lmbdas == l)
    keep[at[np.argmin(lagrangian[at])]] = True
  return keep


def validation_lagrangian(arm_cfg, trainer, params, lmbdas) -> np.ndarray:
  """[M] rate + λ·distortion (bits per scalar sample) of each model on
  `eval.validation_samples` draws, a stream apart from the test set's."""
  key = jax.random.fold_in(jax.random.key(arm_cfg.eval.seed), 1)
  ev = evaluate.evaluate(trainer, params, lmbdas, key,
                         arm_cfg.eval.validation_samples)
  return ev["rate_bits"] + np.asarray(lmbdas) * ev["distortion"]


def rd_rows(name, arm_cfg, trainer, ev, lmbdas, seeds) -> list[dict]:
  """The rd.csv rows of one arm: `evaluate.evaluate`'s figures `ev` (arrays
  [M] over the grid lmbdas [M], seeds [M], and with `eval.select_seed` a
  `validation_lagrangian`) beside the arm's bound and its classical
  baseline at each row's distortion. `selected` marks the seed kept per λ
  (every row without `eval.select_seed`)."""
  fixed = {"arm": name, "source": arm_cfg.source.name,
           "dim": arm_cfg.source.dim, "rate_model": arm_cfg.model.rate_model,
           "encoder": arm_cfg.model.encoder,
           "bound_name": trainer.source.bound_name,
           "baseline_name": BASELINE_NAMES[arm_cfg.model.rate_model]}
  ref = np.asarray(wz_quantizers.rate_at_distortion(baseline(arm_cfg),
                                                    ev["distortion"]))
  lagrangian = ev.get("validation_lagrangian")
  keep = (np.ones(len(lmbdas), bool) if lagrangian is None
          else selected_seeds(lagrangian, lmbdas))
  return [{**fixed, "lmbda": float(lmbdas[i]), "seed": int(seeds[i]),
           "validation_lagrangian": None,
           **{k: float(v[i]) for k, v in ev.items()},
           "baseline_bits": float(ref[i]),
           "gap_to_baseline_bits": float(ev["rate_bits"][i] - ref[i]),
           "selected": int(keep[i])}
          for i in range(len(lmbdas))]


# What `baseline` holds, by rate model (the rate its entropy code pays).
BASELINE_NAMES = {"marginal": "one-shot SQ hull, H(U)",
                  "conditional": "one-shot SQ hull, H(U|Y)"}


TABLE_COLUMNS = ("arm", "lmbda", "seed", "rate_bits", "rate_se_bits",
                 "distortion", "bound_bits", "gap_bits", "baseline_bits",
                 "gap_to_baseline_bits", "no_side_info_bits", "max_intervals",
                 "selected")


def format_table(rows: list[dict],
                 config: ml_collections.ConfigDict | None = None) -> str:
  """The R-D rows as fixed-width text (rates in bits per scalar sample),
  with both gaps: to the bound and to the best classical baseline. Every
  config of this job prints the same columns, so `config` (the launcher
  passes it to every job's table) selects nothing."""
  return tables.format_table(rows, TABLE_COLUMNS, width=14)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       mesh=None) -> list[dict]:
  """Trains and evaluates every arm; writes the results; returns rd rows.

  `mesh` (see `sharding.make_mesh`) lays each arm's grid over devices and
  hosts; by default every device is on the sweep axis.
  """
  mesh = mesh or sharding.make_mesh("")
  trainers = runner.build(config, lambda arm: train.make_train(
      arm, sharding.batch_constraint(mesh, arm.train.batch_size)))
  runner.check_workdir(config, workdir)
  metrics = results.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  rows, panels = [], []
  for name, trainer in trainers.items():
    arm_cfg = config.arms[name]
    lmbdas, seeds = train.sweep_grid(arm_cfg)
    params = runner.load_or_train(
        os.path.join(workdir, "params", f"{name}.npz"), name, trainer,
        workdir, metrics, {"lmbda": lmbdas}, seeds, arm_cfg, TRAIN_METRICS,
        mesh)
    ev = evaluate.evaluate(trainer, params, lmbdas,
                           jax.random.key(arm_cfg.eval.seed),
                           arm_cfg.eval.num_samples)
    if arm_cfg.eval.select_seed:
      ev["validation_lagrangian"] = validation_lagrangian(
          arm_cfg, trainer, params, lmbdas)
    arm_rows = rd_rows(name, arm_cfg, trainer, ev, lmbdas, seeds)
    rows += arm_rows
    if trainer.source.dim == 1:
      best = max((i for i, r in enumerate(arm_rows) if r["selected"]),
                 key=lambda i: (arm_rows[i]["binned_indices"],
                                arm_rows[i]["rate_bits"]))
      panels.append((f"{name}, λ={float(lmbdas[best]):g}",
                     trainer.compressor, trainer.source,
                     jax.tree.map(lambda a: a[best], params), lmbdas[best]))
  if runner.is_writer():
    results.write_csv(os.path.join(workdir, "rd.csv"), rows, RD_COLUMNS)
    plots.rd_figure([r for r in rows if r["selected"]],
                    {n: t.source for n, t in trainers.items()},
                    {n: baseline(config.arms[n]) for n in trainers},
                    os.path.join(workdir, "rd.png"))
    if panels:
      plots.binning_figure(panels, os.path.join(workdir, "binning.png"))
  return rows
