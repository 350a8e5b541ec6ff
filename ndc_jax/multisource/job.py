"""The multi-source job: `train_and_evaluate(config, workdir)`.

As every job (`core.runner`): each arm's whole λ × β_MI × seed grid trains
as one compiled program (`jit(vmap(train_chunk))`, one call per chunk of
`train.chunk_steps`), checkpointed after every chunk so a run resumes. Results
in `workdir` (written by process 0, atomically, with `results.py`):
  config.json, metrics.jsonl, rd.csv (one row per arm × λ × β_MI × seed),
  beta_effect.csv, rd.png, beta_effect.png,
  params/<arm>.npz (axis 0 = grid point), checkpoints/<arm>.npz.
"""

import os

import jax
import ml_collections
import numpy as np

from ndc_jax.core import results, runner, tables
from ndc_jax.models import train as multisource
from ndc_jax.models import evaluate as multisource_eval
from ndc_jax.multisource import plots as multisource_plots

PER_SOURCE = ("kl_bpd", "op_bpd", "op_est_bpd", "mse_vae", "mse_op")
SCALARS = ("kl_bpd_sum", "op_bpd_sum", "op_est_bpd_sum", "mi_bits",
           "two_terminal_op_bits", "joint_op_bits", "gap_op_bits",
           "two_terminal_kl_bits", "gap_kl_bits")
FIXED = ("arm", "source", "num_sources", "dim", "rho", "mi_estimator",
         "critic", "mi_term", "update_mode", "lmbda", "beta_mi", "seed")


def rd_columns(num_sources: int) -> tuple[str, ...]:
  """rd.csv header: rates in bits per source dimension, MSE per component."""
  per = tuple(f"{n}_{i + 1}" for n in PER_SOURCE for i in range(num_sources))
  return FIXED + per + SCALARS


def load_or_train_arm(path, name, trainer, arm_cfg, workdir, mesh=None):
  """One arm's λ × β_MI × seed grid, loaded from `path` or trained (with
  metrics.jsonl and checkpoints in `workdir`) and saved there
  (`runner.load_or_train`); returns the parameters [M, ...]."""
  lmbdas, betas, seeds = multisource.sweep_grid(arm_cfg)
  metrics = results.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  return runner.load_or_train(
      path, name, trainer, workdir, metrics,
      {"lmbda": lmbdas, "beta_mi": betas}, seeds, arm_cfg,
      multisource.METRICS, mesh)


def _rows(name, arm_cfg, trainer, ev, grid):
  src = trainer.source
  fixed = {"arm": name, "source": src.name, "num_sources": src.num_sources,
           "dim": src.dims[0],
           "rho": float("nan") if src.rho is None else src.rho,
           "mi_estimator": arm_cfg.model.mi_estimator,
           "critic": arm_cfg.model.critic, "mi_term": arm_cfg.model.mi_multiway,
           "update_mode": arm_cfg.train.update_mode}
  rows = []
  for p in range(len(grid[0])):
    row = {**fixed, "lmbda": float(grid[0][p]), "beta_mi": float(grid[1][p]),
           "seed": int(grid[2][p])}
    row.update({f"{n}_{i + 1}": float(ev[n][p, i]) for n in PER_SOURCE
                for i in range(src.num_sources)})
    row.update({n: float(ev[n][p]) for n in SCALARS})
    rows.append(row)
  return rows


def beta_effect(rows: list[dict]) -> list[dict]:
  """Per arm and β_MI: mean over λ and seeds of the sum rates' excess over
  the two-terminal bound at the achieved distortion (the equal-distortion
  comparison), and of the MI estimate."""
  out = []
  for arm in sorted({r["arm"] for r in rows}):
    for beta in sorted({r["beta_mi"] for r in rows if r["arm"] == arm}):
      sub = [r for r in rows if r["arm"] == arm and r["beta_mi"] == beta]
      mean = lambda k: float(np.mean([r[k] for r in sub]))
      out.append({"arm": arm, "beta_mi": beta, "points": len(sub),
                  "mean_gap_op_bits": mean("gap_op_bits"),
                  "mean_gap_kl_bits": mean("gap_kl_bits"),
                  "mean_op_bpd_sum": mean("op_bpd_sum"),
                  "mean_mse_op": float(np.mean([(r["mse_op_1"] + r["mse_op_2"])
                                                / 2 for r in sub])),
                  "mean_mi_bits": mean("mi_bits")})
  return out


BETA_COLUMNS = ("arm", "beta_mi", "points", "mean_gap_op_bits",
                "mean_gap_kl_bits", "mean_op_bpd_sum", "mean_mse_op",
                "mean_mi_bits")


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       source=None, mesh=None) -> list[dict]:
  """Trains and evaluates every arm, writes the results, returns rd rows.

  `source` (a `models.sources.MultiSource`, e.g. `from_data(...)`)
  replaces every arm's `source` config, so a data set runs the same job.
  """
  trainers = runner.build(
      config, lambda arm: multisource.make_train(arm, source))
  runner.check_workdir(config, workdir)
  rows = []
  for name, trainer in trainers.items():
    arm_cfg = config.arms[name]
    grid = multisource.sweep_grid(arm_cfg)
    params = load_or_train_arm(os.path.join(workdir, "params", f"{name}.npz"),
                               name, trainer, arm_cfg, workdir, mesh)
    ev = multisource_eval.evaluate(trainer, params,
                                   jax.random.key(arm_cfg.eval.seed),
                                   arm_cfg.eval.num_samples)
    rows += _rows(name, arm_cfg, trainer, ev, grid)
  if runner.is_writer():
    num = rows[0]["num_sources"]
    results.write_csv(os.path.join(workdir, "rd.csv"), rows, rd_columns(num))
    if num == 2:
      results.write_csv(os.path.join(workdir, "beta_effect.csv"),
                        beta_effect(rows), BETA_COLUMNS)
      multisource_plots.rd_figure(rows, os.path.join(workdir, "rd.png"))
      multisource_plots.beta_figure(rows, os.path.join(workdir,
                                                       "beta_effect.png"))
  return rows


TABLE_COLUMNS = ("arm", "lmbda", "beta_mi", "op_bpd_sum", "kl_bpd_sum",
                 "mse_op_1", "mse_op_2", "two_terminal_op_bits", "gap_op_bits",
                 "mi_bits")


def format_table(rows: list[dict],
                 config: ml_collections.ConfigDict | None = None) -> str:
  """The R-D rows as fixed-width text (sum rates in bits per sample pair). Every config of
  this job prints the same columns, so `config` (the launcher passes it to
  every job's table) selects nothing."""
  return tables.format_table(rows, TABLE_COLUMNS, width=20)
