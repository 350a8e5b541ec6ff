"""Marginal Wyner-Ziv recipes on this machine: throughput and the R-D reached.

Three recipes train the Gaussian marginal arm (Y = X + N, σ²_N = 0.01) of
experiments/configs/wyner_ziv.py on the same λ values, vmapped over λ:
* default: `wyner_ziv.binning_arm` (deterministic annealing of the argmin
  encoder, mixture decoder, exact E_{y|x} on a 256-point y-grid), its full
  schedule;
* published (sampled): `wyner_ziv.published_arm`, 16 draws of y|x, with the
  schedule shortened to `--published_steps` (the decoder warm-up kept at 15%
  of the steps and the ×0.1 step decay at 70%, as in the 30k / 200k original);
* published (exact): the same with E_{y|x} on the 256-point y-grid.
Each prints its wall time (compilation apart), λ·steps/s, the wall time its
full schedule would take at that rate, and the R-D it reaches on
`--eval_samples` samples beside the best classical one-shot baseline (the
same metric code and rate accounting as rd.csv).

  python -m experiments.benchmarks.recipe_bench
  python -m experiments.benchmarks.recipe_bench --lmbdas=500 --steps=200 \
      --published_steps=200 --eval_samples=10000      # a quick look
"""

import time

import jax
from absl import app, flags

from experiments.configs import wyner_ziv
from ndc_jax.core import tables
from ndc_jax.wyner_ziv import evaluate
from ndc_jax.wyner_ziv import job
from ndc_jax.wyner_ziv import train

_LMBDAS = flags.DEFINE_list("lmbdas", ["300", "1000"], "λ values (vmapped).")
_STEPS = flags.DEFINE_integer("steps", 0, "Steps of the default recipe "
                              "(0: its full schedule).")
_PUBLISHED_STEPS = flags.DEFINE_integer(
    "published_steps", 2000, "Steps of the shortened published recipe.")
_EVAL = flags.DEFINE_integer("eval_samples", 200_000, "Evaluation samples.")
_FULL_PUBLISHED = 200_000


def _shorten(arm, steps: int) -> None:
  """Shortens an arm's schedule to `steps`, keeping its proportions."""
  t = arm.train
  frac = steps / t.num_steps
  chunk = max(1, min(t.chunk_steps, steps // 4))
  t.update(num_steps=steps - steps % chunk, chunk_steps=chunk,
           decoder_warmup_steps=int(t.decoder_warmup_steps * frac),
           temperature_decay_steps=max(1.0, t.temperature_decay_steps * frac))


def _recipes(lmbdas):
  default = wyner_ziv.binning_arm("gaussian", lmbdas)
  full_default = default.train.num_steps
  if _STEPS.value:
    _shorten(default, _STEPS.value)
  sampled = wyner_ziv.published_arm("gaussian", lmbdas)
  _shorten(sampled, _PUBLISHED_STEPS.value)
  exact = wyner_ziv.published_arm("gaussian", lmbdas)
  exact.model.side_info_grid = 256
  _shorten(exact, _PUBLISHED_STEPS.value)
  return [("default", default, full_default),
          ("published (sampled)", sampled, _FULL_PUBLISHED),
          ("published (exact)", exact, _FULL_PUBLISHED)]


def main(argv):
  del argv
  lmbdas = tuple(float(l) for l in _LMBDAS.value)
  rows = []
  for name, arm, full in _recipes(lmbdas):
    arm.eval.num_samples = _EVAL.value
    trainer = train.make_train(arm)
    grid, seeds = train.sweep_grid(arm)
    keys = jax.vmap(jax.random.key)(seeds)
    run = jax.jit(jax.vmap(trainer.train))
    t0 = time.perf_counter()
    compiled = run.lower(grid, keys).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    state, _ = compiled(grid, keys)
    jax.block_until_ready(state.params)
    wall = time.perf_counter() - t0
    rate = len(lmbdas) * arm.train.num_steps / wall
    ev = evaluate.evaluate(trainer, state.params, grid, jax.random.key(1234),
                           arm.eval.num_samples)
    for r in job.rd_rows(name, arm, trainer, ev, grid, seeds):
      rows.append({**r, "steps": arm.train.num_steps, "wall_s": wall,
                   "compile_s": compile_s, "lmbda_steps_per_s": rate,
                   "full_schedule_s": len(lmbdas) * full / rate})
  cols = ("arm", "lmbda", "steps", "wall_s", "compile_s", "lmbda_steps_per_s",
          "full_schedule_s", "rate_bits", "distortion", "baseline_bits",
          "gap_to_baseline_bits", "max_intervals")
  print(f"backend {jax.default_backend()}, {jax.device_count()} device(s); "
        f"{_EVAL.value} evaluation samples")
  print(tables.format_table(rows, cols, width=14))


if __name__ == "__main__":
  app.run(main)
