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

from ndc_jax import evaluate, plotting, results, train

RD_COLUMNS = ("arm", "source", "dim", "rate_model", "encoder", "lmbda", "seed",
              "rate_bits", "distortion", "distortion_db", "bound_name",
              "bound_bits", "gap_bits", "gap_db", "no_side_info_bits",
              "index_entropy_bits", "used_indices", "max_intervals",
              "binned_indices")


def _is_writer() -> bool:
  return jax.process_index() == 0


def build(config: ml_collections.ConfigDict) -> dict[str, train.Trainer]:
  """Validates every arm (before any training) and builds its Trainer."""
  if "arms" not in config or not config.arms:
    raise ValueError("config.arms is empty; give at least one arm")
  out = {}
  for name, arm in config.arms.items():
    try:
      out[name] = train.make_train(arm)
    except ValueError as e:
      raise ValueError(f"config.arms.{name}: {e}") from None
  return out


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
  like = jax.eval_shape(jax.vmap(trainer.compressor.init),
                        jax.vmap(jax.random.key)(seeds))
  params, _ = results.load_tree(os.path.join(workdir, "params", f"{arm}.npz"),
                                like)
  return trainer, params, np.asarray(lmbdas), np.asarray(seeds)


def _check_workdir(config, workdir):
  path = os.path.join(workdir, "config.json")
  record = {"config": config.to_dict()}
  if os.path.exists(path):
    with open(path) as f:
      if json.load(f)["config"] != json.loads(json.dumps(record["config"])):
        raise ValueError(f"{workdir} holds results of another config; choose a "
                         "new --workdir or delete it")
  elif _is_writer():
    results.write_json(path, record)


def _train_arm(name, trainer, arm_cfg, workdir, metrics):
  """Trains one arm's grid (resuming from its checkpoint); returns params."""
  t = arm_cfg.train
  lmbdas, seeds = train.sweep_grid(arm_cfg)
  state = jax.jit(jax.vmap(trainer.init))(jax.vmap(jax.random.key)(seeds))
  ckpt = os.path.join(workdir, "checkpoints", f"{name}.npz")
  if os.path.exists(ckpt):
    state, _ = results.load_tree(ckpt, state)
    logging.info("%s: resumed at step %d", name, int(state.step[0]))
  chunk = jax.jit(jax.vmap(trainer.train_chunk))
  rows = [r for r in metrics if r["arm"] != name or
          r["step"] <= int(state.step[0])]
  metrics[:] = rows
  t0 = time.time()
  while int(state.step[0]) < t.num_steps:
    step0 = int(state.step[0])
    state, m = chunk(state, lmbdas)
    m = jax.tree.map(np.asarray, m)
    bad = np.flatnonzero(m["first_nonfinite"] >= 0)
    if bad.size:
      i = bad[0]
      raise FloatingPointError(
          f"arm {name}: non-finite loss at λ={float(lmbdas[i]):g} (seed "
          f"{int(seeds[i])}) at step {step0 + int(m['first_nonfinite'][i])}; "
          "results written so far are valid; lower the learning rate or λ")
    step = step0 + t.chunk_steps
    for i in range(len(lmbdas)):
      metrics.append({"arm": name, "lmbda": float(lmbdas[i]),
                      "seed": int(seeds[i]), "step": step,
                      **{k: float(m[k][i]) for k in
                         ("loss", "rate_bits", "distortion", "temperature")}})
    if _is_writer():
      results.write_jsonl(os.path.join(workdir, "metrics.jsonl"), metrics)
      results.save_tree(ckpt, state)
    logging.info("%s: step %d/%d (%.1fs) mean rate %.3f bits, distortion %.5f",
                 name, step, t.num_steps, time.time() - t0,
                 m["rate_bits"].mean(), m["distortion"].mean())
  return state.params


def _rd_rows(name, arm_cfg, trainer, ev, lmbdas, seeds):
  fixed = {"arm": name, "source": arm_cfg.source.name,
           "dim": arm_cfg.source.dim, "rate_model": arm_cfg.model.rate_model,
           "encoder": arm_cfg.model.encoder,
           "bound_name": trainer.source.bound_name}
  return [{**fixed, "lmbda": float(lmbdas[i]), "seed": int(seeds[i]),
           **{k: float(v[i]) for k, v in ev.items()}}
          for i in range(len(lmbdas))]


def format_table(rows: list[dict]) -> str:
  """The R-D table as fixed-width text (bits per sample, MSE, dB)."""
  cols = ("arm", "lmbda", "seed", "rate_bits", "distortion", "bound_bits",
          "gap_bits", "gap_db", "no_side_info_bits", "max_intervals")
  lines = [" ".join(f"{c:>18}" for c in cols)]
  for r in rows:
    lines.append(" ".join(f"{r[c]:>18.4g}" if isinstance(r[c], float)
                          else f"{r[c]!s:>18}" for c in cols))
  return "\n".join(lines)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str
                       ) -> list[dict]:
  """Trains and evaluates every arm; writes the results; returns rd rows."""
  trainers = build(config)
  _check_workdir(config, workdir)
  metrics = results.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  rows, panels = [], []
  for name, trainer in trainers.items():
    arm_cfg = config.arms[name]
    lmbdas, seeds = train.sweep_grid(arm_cfg)
    params_path = os.path.join(workdir, "params", f"{name}.npz")
    if os.path.exists(params_path):
      _, params, _, _ = load_arm(workdir, name)
    else:
      params = _train_arm(name, trainer, arm_cfg, workdir, metrics)
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
