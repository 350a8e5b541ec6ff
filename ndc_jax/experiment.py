"""`train_and_evaluate(config, workdir)`: the job the launcher, the notebooks
and the tests all run.

For each arm of the config (one source, one model, one λ × seed grid) the
whole grid trains as one compiled program: `jit(vmap(train_chunk))` over the
flattened grid, called once per chunk of `train.chunk_steps` steps (no Python
dispatch per step). After each chunk the training state is checkpointed, so an
interrupted run resumes where it stopped. Results in `workdir`:
  config.json, metrics.jsonl, rd.csv, rd.png, binning.png,
  params/<arm>.npz (trained parameters, axis 0 = grid point),
  checkpoints/<arm>.npz (resumable training state).
"""

import json
import os
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from ndc_jax import evaluate, plotting, results, sharding, train

RD_COLUMNS = ("arm", "source", "dim", "rate_model", "encoder", "lmbda", "seed",
              "rate_bits", "distortion", "distortion_db", "bound_name",
              "bound_bits", "gap_bits", "gap_db", "no_side_info_bits",
              "index_entropy_bits", "used_indices", "max_intervals",
              "binned_indices")


TRAIN_METRICS = ("loss", "rate_bits", "distortion", "temperature")


def _is_writer() -> bool:
  return jax.process_index() == 0


# Names of the swept values in messages.
SWEPT_LABELS = {"lmbda": "λ", "beta_mi": "β_MI"}


def build(config: ml_collections.ConfigDict, make_train=train.make_train
          ) -> dict:
  """Validates every arm (before any training) and builds its trainer with
  `make_train(arm_config)`; errors name the arm."""
  if "arms" not in config or not config.arms:
    raise ValueError("config.arms is empty; give at least one arm")
  out = {}
  for name, arm in config.arms.items():
    try:
      out[name] = make_train(arm)
      _models_at_once(arm)
    except ValueError as e:
      raise ValueError(f"config.arms.{name}: {e}") from None
  return out


def load_params(path: str, trainer, seeds):
  """Parameters saved by `train_and_evaluate`, restored exactly ([M, ...])."""
  like = jax.eval_shape(jax.vmap(trainer.init),
                        jax.vmap(jax.random.key)(seeds)).params
  return results.load_tree(path, like)[0]


def load_arm(workdir: str, arm: str):
  """A trained arm from `workdir`: (trainer, params [M, ...], lmbdas, seeds).

  Parameters are restored exactly as saved; axis 0 indexes the grid points.
  """
  with open(os.path.join(workdir, "config.json")) as f:
    config = ml_collections.ConfigDict(json.load(f)["config"])
  if arm not in config.arms:
    raise ValueError(f"arm {arm!r} is not in {workdir}; it holds "
                     f"{sorted(config.arms)}")
  trainer = train.make_train(config.arms[arm])
  lmbdas, seeds = train.sweep_grid(config.arms[arm])
  params = load_params(os.path.join(workdir, "params", f"{arm}.npz"), trainer,
                       seeds)
  return trainer, params, np.asarray(lmbdas), np.asarray(seeds)


def check_workdir(config: ml_collections.ConfigDict, workdir: str,
                  **extra) -> None:
  """Writes config.json ({"config": ..., **extra}, e.g. a data set's licence
  and citation), or refuses a workdir that holds another record."""
  path = os.path.join(workdir, "config.json")
  record = json.loads(json.dumps({"config": config.to_dict(), **extra},
                                 default=str))
  if os.path.exists(path):
    with open(path) as f:
      if json.load(f)["config"] != record["config"]:
        raise ValueError(f"{workdir} holds results of another config; choose a "
                         "new --workdir or delete it")
  elif _is_writer():
    results.write_json(path, record)


def _models_at_once(arm: ml_collections.ConfigDict) -> int:
  """The arm's `sweep.models_at_once` (default -1, auto) for this backend."""
  return sharding.resolve_models_at_once(
      arm.sweep.get("models_at_once", -1), arm.train.batch_size)


def train_grid(name: str, trainer, workdir: str, metrics: list[dict],
               swept: dict, seeds, arm: ml_collections.ConfigDict,
               metric_names, mesh=None) -> dict:
  """Trains one arm's grid as one compiled program, resuming from its
  checkpoint; appends chunk metrics to `metrics`; returns the params.

  Args:
    swept: name -> [M] traced values passed to `trainer.train_chunk` in order
      (e.g. {"lmbda": ...} or {"lmbda": ..., "beta_mi": ...}).
    seeds: [M] int seeds (one model per grid point).
    arm: the arm's config (train.num_steps, train.chunk_steps,
      train.batch_size, sweep.models_at_once).
    metric_names: the chunk metrics written to metrics.jsonl.
    mesh: a `jax.sharding.Mesh` from `sharding.make_mesh` (default: every
      device on the sweep axis); the grid is padded to fit it.
  Returns:
    The trained parameters as host arrays, [M, ...] (padding dropped).
  """
  sweep = sharding.shard_sweep(trainer, mesh or sharding.make_mesh(""),
                               tuple(swept.values()), seeds,
                               _models_at_once(arm), arm.train.batch_size)
  num_steps, chunk_steps = arm.train.num_steps, arm.train.chunk_steps
  logging.info("%s: %d models on %d device(s) (sweep axis, padded to %d)",
               name, sweep.num, sweep.mesh.shape[sharding.SWEEP], sweep.padded)
  state = sweep.init()
  ckpt = os.path.join(workdir, "checkpoints", f"{name}.npz")
  if os.path.exists(ckpt):  # stored unpadded: any mesh can resume
    host, _ = results.load_tree(ckpt, sweep.to_host(state))
    state = sweep.place(host)
  step = int(sweep.to_host(state.step)[0])
  if step:
    logging.info("%s: resumed at step %d", name, step)
  metrics[:] = [r for r in metrics if r["arm"] != name or r["step"] <= step]
  values = {k: np.asarray(v) for k, v in swept.items()}
  t0 = time.time()
  while step < num_steps:
    state, m = sweep.train_chunk(state, *sweep.swept)
    m = sweep.to_host(m)
    bad = np.flatnonzero(m["first_nonfinite"] >= 0)
    if bad.size:
      i = bad[0]
      where = ", ".join(f"{SWEPT_LABELS.get(k, k)}={float(v[i]):g}"
                        for k, v in values.items())
      raise FloatingPointError(
          f"arm {name}: non-finite loss at {where} (seed {int(seeds[i])}) at "
          f"step {step + int(m['first_nonfinite'][i])}; results written so "
          "far are valid; lower the learning rate or λ")
    step += chunk_steps
    for i in range(len(seeds)):
      metrics.append({"arm": name, "seed": int(seeds[i]), "step": step,
                      **{k: float(v[i]) for k, v in values.items()},
                      **{k: float(m[k][i]) for k in metric_names}})
    host_state = sweep.to_host(state)  # a collective on several hosts
    if _is_writer():
      results.write_jsonl(os.path.join(workdir, "metrics.jsonl"), metrics)
      results.save_tree(ckpt, host_state)
    logging.info("%s: step %d/%d (%.1fs) %s", name, step, num_steps,
                 time.time() - t0,
                 ", ".join(f"{k} {m[k].mean():.4g}" for k in metric_names))
  return sweep.to_host(state.params)


def _rd_rows(name, arm_cfg, trainer, ev, lmbdas, seeds):
  fixed = {"arm": name, "source": arm_cfg.source.name,
           "dim": arm_cfg.source.dim, "rate_model": arm_cfg.model.rate_model,
           "encoder": arm_cfg.model.encoder,
           "bound_name": trainer.source.bound_name}
  return [{**fixed, "lmbda": float(lmbdas[i]), "seed": int(seeds[i]),
           **{k: float(v[i]) for k, v in ev.items()}}
          for i in range(len(lmbdas))]


TABLE_COLUMNS = ("arm", "lmbda", "seed", "rate_bits", "distortion", "bound_bits",
                 "gap_bits", "gap_db", "no_side_info_bits", "max_intervals")


def format_table(rows: list[dict], cols=TABLE_COLUMNS, width: int = 18) -> str:
  """Rows as fixed-width text (default: the Wyner-Ziv R-D columns)."""
  lines = [" ".join(f"{c:>{width}}" for c in cols)]
  for r in rows:
    lines.append(" ".join(f"{r[c]:>{width}.4g}" if isinstance(r[c], float)
                          else f"{r[c]!s:>{width}}" for c in cols))
  return "\n".join(lines)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       mesh=None) -> list[dict]:
  """Trains and evaluates every arm; writes the results; returns rd rows.

  `mesh` (see `sharding.make_mesh`) lays each arm's grid over devices and
  hosts; by default every device is on the sweep axis.
  """
  mesh = mesh or sharding.make_mesh("")
  trainers = build(config, lambda arm: train.make_train(
      arm, sharding.batch_constraint(mesh, arm.train.batch_size)))
  check_workdir(config, workdir)
  metrics = results.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  rows, panels = [], []
  for name, trainer in trainers.items():
    arm_cfg = config.arms[name]
    lmbdas, seeds = train.sweep_grid(arm_cfg)
    params_path = os.path.join(workdir, "params", f"{name}.npz")
    if os.path.exists(params_path):
      params = load_params(params_path, trainer, seeds)
    else:
      params = train_grid(name, trainer, workdir, metrics, {"lmbda": lmbdas},
                          seeds, arm_cfg, TRAIN_METRICS, mesh)
      if _is_writer():
        results.save_tree(params_path, params, lmbdas=lmbdas, seeds=seeds)
    ev = evaluate.evaluate(trainer, params, lmbdas,
                           jax.random.key(arm_cfg.eval.seed),
                           arm_cfg.eval.num_samples)
    arm_rows = _rd_rows(name, arm_cfg, trainer, ev, lmbdas, seeds)
    rows += arm_rows
    if trainer.source.dim == 1:
      best = max(range(len(arm_rows)), key=lambda i: (
          arm_rows[i]["binned_indices"], arm_rows[i]["rate_bits"]))
      panels.append((f"{name}, λ={float(lmbdas[best]):g}", trainer,
                     jax.tree.map(lambda a: a[best], params), lmbdas[best]))
  if _is_writer():
    results.write_csv(os.path.join(workdir, "rd.csv"), rows, RD_COLUMNS)
    plotting.rd_figure(rows, {n: t.source for n, t in trainers.items()},
                       os.path.join(workdir, "rd.png"))
    if panels:
      plotting.binning_figure(panels, os.path.join(workdir, "binning.png"))
  return rows
