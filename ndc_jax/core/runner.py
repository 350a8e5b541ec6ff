"""The runner every job uses: validate every arm, train each arm's grid as
one compiled program with checkpoints, or load what a previous run saved.

`check_fields` checks the fields every job's arms share (the swept values,
seeds, sample counts, layer widths, step counts and learning rates) for type
and range; `build` and `check_workdir` run it on every arm before anything
trains or is written, so a bad value in the last arm fails before the first
arm's results exist.

`train_grid` calls `jit(vmap(train_chunk))` over the flattened grid once per
chunk of `train.chunk_steps` steps (no Python dispatch per step) and
checkpoints the training state after each chunk, so an interrupted run
resumes where it stopped and gives the same numbers. `load_or_train` returns
an arm's saved parameters (checking the grid they were trained on) or trains
and saves them. Only process 0 writes (`is_writer`).
"""

import json
import math
import numbers
import os
import time
from typing import Callable

import jax
import ml_collections
import numpy as np
from absl import logging

from ndc_jax.core import results, sharding
from ndc_jax.core.trainer import Trainer


def is_writer() -> bool:
  """True on the process that writes results (process 0)."""
  return jax.process_index() == 0


# Names of the swept values in messages.
SWEPT_LABELS = {"lmbda": "λ", "beta_mi": "β_MI"}


FLOAT32_MAX = float(np.finfo(np.float32).max)  # swept values are float32
SEED_MAX = 2**31 - 1  # seeds are int32; jax.random.key(2**32) is key(0)


def _is_int(v) -> bool:
  return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
  return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_values(field: str, values, ok, allowed: str,
                  empty_ok: bool = False) -> None:
  """Raises ValueError unless `values` is a list or tuple (non-empty unless
  `empty_ok`) whose every entry passes `ok`."""
  if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
    raise ValueError(f"{field}={values!r} is invalid; allowed: a list of "
                     f"{allowed}")
  values = tuple(values)
  if not values and not empty_ok:
    raise ValueError(f"{field}=() is invalid; allowed: a non-empty list of "
                     f"{allowed}")
  for v in values:
    if not ok(v):
      hint = (" (a flag override is read as Python literals: nan and inf "
              "are not numbers there)" if isinstance(v, str) else "")
      raise ValueError(f"{field}={values!r} is invalid: entry {v!r} is "
                       f"not allowed; allowed: a list of {allowed}{hint}")


def _check_value(field: str, v, ok, allowed: str) -> None:
  if not ok(v):
    raise ValueError(f"{field}={v!r} is invalid; allowed: {allowed}")


def check_fields(arm: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming the field, its value and what is allowed,
  for the fields every job's arm shares (present ones only): sweep.lmbdas
  (finite numbers in (0, float32 max]), sweep.betas (finite float32 values),
  sweep.seeds and eval.seed (integers in [0, 2^31 − 1]), eval.num_samples,
  train.num_steps, train.chunk_steps, train.batch_size and model.latent_dim
  (integers >= 1), model.num_indices (an integer >= 2), model.*_hidden
  (lists of integers >= 1) and train.*learning_rate (finite numbers > 0).
  Jobs check their own fields and relations after it."""
  for part in ("sweep", "train", "model", "eval"):
    if part not in arm:
      continue
    if not isinstance(arm[part], ml_collections.ConfigDict):
      raise ValueError(f"{part}={arm[part]!r} is invalid; allowed: a "
                       "ConfigDict of fields")
  sweep = arm.get("sweep", {})
  if "lmbdas" in sweep:
    _check_values("sweep.lmbdas", sweep.lmbdas,
                  lambda v: _is_real(v) and 0 < v <= FLOAT32_MAX,
                  f"finite numbers in (0, {FLOAT32_MAX:.4g}] (float32)")
  if "betas" in sweep:
    _check_values("sweep.betas", sweep.betas,
                  lambda v: _is_real(v) and abs(v) <= FLOAT32_MAX,
                  f"finite numbers of either sign, |β| <= {FLOAT32_MAX:.4g} "
                  "(float32)")
  seed_ok = lambda v: _is_int(v) and 0 <= v <= SEED_MAX
  seed_allowed = f"integers in [0, {SEED_MAX}] (int32)"
  if "seeds" in sweep:
    _check_values("sweep.seeds", sweep.seeds, seed_ok, seed_allowed)
  ev = arm.get("eval", {})
  if "seed" in ev:
    _check_value("eval.seed", ev.seed, seed_ok, f"an integer in [0, "
                 f"{SEED_MAX}] (int32)")
  counts = [("eval", "num_samples", 1), ("train", "num_steps", 1),
            ("train", "chunk_steps", 1), ("train", "batch_size", 1),
            ("model", "latent_dim", 1), ("model", "num_indices", 2)]
  for part, field, least in counts:
    if part in arm and field in arm[part]:
      _check_value(f"{part}.{field}", arm[part][field],
                   lambda v, lo=least: _is_int(v) and v >= lo,
                   f"an integer >= {least}")
  for field, v in arm.get("model", {}).items():
    if field.endswith("_hidden"):
      _check_values(f"model.{field}", v, lambda w: _is_int(w) and w >= 1,
                    "layer widths, integers >= 1", empty_ok=True)
  for field, v in arm.get("train", {}).items():
    if field.endswith("learning_rate"):
      _check_value(f"train.{field}", v,
                   lambda r: _is_real(r) and 0 < r < math.inf,
                   "a finite number > 0")


def check_counts(cfg: ml_collections.ConfigDict, fields) -> None:
  """Raises ValueError naming the first of `fields` (dotted names,
  "model.filters", of `cfg`) that is not an integer >= 1 (bools refused)."""
  for field in fields:
    part, name = field.split(".")
    v = cfg[part][name]
    if isinstance(v, bool) or not (isinstance(v, int) and v >= 1):
      raise ValueError(f"{field}={v!r} is invalid; it must be an integer >= 1")


def check_schedule(arm: ml_collections.ConfigDict) -> None:
  """`check_counts` on train.num_steps, chunk_steps and batch_size of an
  arm, and num_steps a multiple of chunk_steps (`loops.scan_loops` runs
  whole chunks)."""
  check_counts(arm, ("train.num_steps", "train.chunk_steps",
                     "train.batch_size"))
  t = arm.train
  if t.num_steps % t.chunk_steps:
    raise ValueError(f"train.num_steps={t.num_steps} must be a multiple of "
                     f"train.chunk_steps={t.chunk_steps}")


def check_arms(config: ml_collections.ConfigDict) -> None:
  """`check_fields` on every arm of `config`; errors name the arm."""
  if "arms" not in config or not config.arms:
    raise ValueError("config.arms is empty; give at least one arm")
  for name, arm in config.arms.items():
    try:
      check_fields(arm)
    except ValueError as e:
      raise ValueError(f"config.arms.{name}: {e}") from None


def build(config: ml_collections.ConfigDict,
          make_train: Callable[[ml_collections.ConfigDict], Trainer]) -> dict:
  """Validates every arm (`check_arms`, then each job's own checks in
  `make_train`, before any training) and builds its trainer with
  `make_train(arm_config)`; errors name the arm."""
  check_arms(config)
  out = {}
  for name, arm in config.arms.items():
    try:
      out[name] = make_train(arm)
      _models_at_once(arm)
    except ValueError as e:
      raise ValueError(f"config.arms.{name}: {e}") from None
  return out


def saved_grid(swept: dict, seeds) -> dict:
  """The grid saved beside an arm's parameters: the swept values by name
  (e.g. "lmbda", "beta_mi") and "seeds", each an [M] host array."""
  return {**{k: np.asarray(v) for k, v in swept.items()},
          "seeds": np.asarray(seeds)}


def _check_grid(path: str, grid: dict) -> None:
  """Raises ValueError unless the arrays saved with `path` hold `grid`
  (read before the parameters, so another grid is named as such even where
  its size makes the arrays' shapes differ too)."""
  with np.load(path) as f:
    saved = {k[len("extra_"):]: f[k] for k in f.files
             if k.startswith("extra_")}
  for name, want in grid.items():
    got = saved.get(name)
    if got is None or got.shape != want.shape or not np.array_equal(got, want):
      raise ValueError(
          f"{path} holds a model trained on {name}="
          f"{None if got is None else got.tolist()}, but the config asks for "
          f"{want.tolist()}; choose a new --workdir or delete {path}")


def load_params(path: str, init_params: Callable, grid: dict):
  """Parameters [M, ...] saved by `load_or_train`, restored exactly with the
  structure of `init_params(key)` (a model's initializer: no optimizer).

  `grid` (see `saved_grid`) must equal the grid saved with them: the
  parameters of other λ (or β_MI, seeds) are never reported under these
  labels. Raises ValueError naming the file and both grids otherwise.
  """
  like = jax.eval_shape(jax.vmap(init_params),
                        jax.vmap(jax.random.key)(grid["seeds"]))
  _check_grid(path, grid)
  params, _ = results.load_tree(path, like)
  return params


def load_or_train(path: str, name: str, trainer: Trainer, workdir: str,
                  metrics: list[dict], swept: dict, seeds,
                  arm: ml_collections.ConfigDict, metric_names,
                  mesh=None):
  """The arm's parameters [M, ...]: loaded from `path` if it exists (see
  `load_params`), else trained by `train_grid` and saved to `path` with
  their grid (`saved_grid`)."""
  grid = saved_grid(swept, seeds)
  if os.path.exists(path):
    return load_params(path, lambda key: trainer.init(key).params, grid)
  params = train_grid(name, trainer, workdir, metrics, swept, seeds, arm,
                      metric_names, mesh)
  if is_writer():
    results.save_tree(path, params, **grid)
  return params


def check_workdir(config: ml_collections.ConfigDict, workdir: str,
                  **extra) -> None:
  """Writes config.json ({"config": ..., **extra}, e.g. a data set's licence
  and citation), or refuses a workdir that holds another record. Every
  arm's shared fields are checked first (`check_arms`), so a config that
  cannot run leaves no config.json behind; an empty `workdir` is refused."""
  if not isinstance(workdir, str) or not workdir.strip():
    raise ValueError(f"workdir={workdir!r} is empty; allowed: a folder for "
                     "the results")
  check_arms(config)
  path = os.path.join(workdir, "config.json")
  record = json.loads(json.dumps({"config": config.to_dict(), **extra},
                                 default=str))
  if os.path.exists(path):
    with open(path) as f:
      if json.load(f)["config"] != record["config"]:
        raise ValueError(f"{workdir} holds results of another config; choose a "
                         "new --workdir or delete it")
  elif is_writer():
    results.write_json(path, record)


def _models_at_once(arm: ml_collections.ConfigDict) -> int:
  """The arm's `sweep.models_at_once` (default -1, auto) for this backend."""
  return sharding.resolve_models_at_once(
      arm.sweep.get("models_at_once", -1), arm.train.batch_size)


def train_grid(name: str, trainer: Trainer, workdir: str, metrics: list[dict],
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
  grid = saved_grid(swept, seeds)
  if os.path.exists(ckpt):  # stored unpadded: any mesh can resume
    _check_grid(ckpt, grid)
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
    if is_writer():
      results.write_jsonl(os.path.join(workdir, "metrics.jsonl"), metrics)
      results.save_tree(ckpt, host_state, **grid)
    logging.info("%s: step %d/%d (%.1fs) %s", name, step, num_steps,
                 time.time() - t0,
                 ", ".join(f"{k} {m[k].mean():.4g}" for k in metric_names))
  return sweep.to_host(state.params)
