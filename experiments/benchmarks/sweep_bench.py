"""Sweep throughput: M λ values vmapped (on the device mesh) vs one after another.

Three modes train the same models of the default arm of
experiments/configs/wyner_ziv.py (gaussian_conditional) for `--steps` steps:
* per-step: one model after another, one jitted training step per Python
  call (the usual training loop: `jit(train_chunk)` with one step per chunk);
* scanned: one model after another, `jit(train_chunk)` with all `--steps`
  steps in one `lax.scan` (no Python per step: the stronger baseline);
* vmapped: `sharding.shard_sweep`'s `jit(vmap(train_chunk))` over all λ at
  once, `--steps` steps in one `lax.scan`, laid out on `--mesh` (all devices
  on the sweep axis by default).
Times are the best of `--repeats` steady-state calls (modes interleaved);
compile time (lowering + XLA compilation) is measured apart. Memory: XLA's
compiled memory analysis (arguments + outputs + temporaries) of the vmapped
program, and the process's peak resident set size at the end.

  python -m experiments.benchmarks.sweep_bench
  python -m experiments.benchmarks.sweep_bench --batch_sizes=64 \
      --num_lmbdas=1,4,16 --steps=10 --repeats=2      # a quick look
"""

import os
import platform
import resource
import sys
import time

import jax
import numpy as np
from absl import app, flags

from experiments.configs import wyner_ziv
from ndc_jax import sharding, train

_BATCH = flags.DEFINE_list("batch_sizes", ["64", "128", "1024"],
                           "Training batch sizes.")
_NUM = flags.DEFINE_list("num_lmbdas", ["1", "4", "16", "64"],
                         "Sweep sizes (number of λ values, one seed each).")
_STEPS = flags.DEFINE_integer("steps", 20, "Training steps per timed call.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed calls per mode (best).")
_MESH = flags.DEFINE_string("mesh", "", "Mesh spec, e.g. 'sweep=8' or "
                            "'sweep=4,batch=2'; '' = every device on sweep.")
_ARM = flags.DEFINE_string("arm", "gaussian_conditional",
                           "Arm of experiments/configs/wyner_ziv.py.")
_MATMUL = flags.DEFINE_integer(
    "matmul_models", 16, "Also time M [batch, 100] × [100, 100] matmuls, "
    "one model alone vs vmapped vs unrolled (0: skip).")


def _machine() -> str:
  cpu = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo") as f:
      cpu = next(l.split(":", 1)[1].strip() for l in f
                 if l.startswith("model name"))
  except (OSError, StopIteration):
    pass
  dev = jax.devices()[0]
  return (f"{cpu} ({os.cpu_count()} cores); {jax.device_count()} × "
          f"{dev.platform} device(s) [{dev.device_kind}]; jax {jax.__version__}")


def _timed(fn):
  t0 = time.perf_counter()
  out = jax.block_until_ready(fn())
  return time.perf_counter() - t0, out


def _xla_bytes(compiled) -> float:
  m = compiled.memory_analysis()
  if m is None:
    return float("nan")
  return float(m.argument_size_in_bytes + m.output_size_in_bytes +
               m.temp_size_in_bytes - m.alias_size_in_bytes)


def _trainer(batch: int, chunk_steps: int):
  cfg = wyner_ziv.get_config().arms[_ARM.value]
  cfg.train.batch_size = batch
  cfg.train.chunk_steps = chunk_steps  # num_steps only validates
  cfg.train.num_steps = chunk_steps * -(-cfg.train.num_steps // chunk_steps)
  return train.make_train(cfg)


def bench_batch(batch: int, sizes: list[int], steps: int, repeats: int,
                mesh) -> list[dict]:
  """Rows of one batch size: per sweep size, the three modes' times."""
  trainer = _trainer(batch, steps)
  init1 = jax.jit(trainer.init)
  state1 = init1(jax.random.key(0))
  t0 = time.perf_counter()
  single = jax.jit(trainer.train_chunk).lower(
      state1, np.float32(1000.)).compile()
  seq_compile = time.perf_counter() - t0
  one_step = jax.jit(_trainer(batch, 1).train_chunk).lower(
      state1, np.float32(1000.)).compile()

  def per_step(states, lmbdas):
    out = []
    for s, l in zip(states, lmbdas):
      for _ in range(steps):
        s, _ = one_step(s, l)
      out.append(s)
    return out

  rows = []
  for m in sizes:
    lmbdas = np.geomspace(300., 30000., m).astype(np.float32)
    seeds = np.arange(m, dtype=np.int32)
    states = [init1(jax.random.key(int(s))) for s in seeds]
    sweep = sharding.shard_sweep(trainer, mesh, lmbdas, seeds)
    vstate = sweep.init()
    t0 = time.perf_counter()
    vchunk = sweep.train_chunk.lower(vstate, *sweep.swept).compile()
    vmap_compile = time.perf_counter() - t0
    # Warm-up (first calls allocate), then interleaved timed calls.
    jax.block_until_ready([single(s, l) for s, l in zip(states, lmbdas)])
    jax.block_until_ready(per_step(states, lmbdas))
    vstate, _ = jax.block_until_ready(vchunk(vstate, *sweep.swept))
    step_t, seq_t, vmap_t = [], [], []
    for _ in range(repeats):
      step_t.append(_timed(lambda: per_step(states, lmbdas))[0])
      dt, _ = _timed(lambda: [single(s, l) for s, l in zip(states, lmbdas)])
      seq_t.append(dt)
      dt, (vstate, _) = _timed(lambda: vchunk(vstate, *sweep.swept))
      vmap_t.append(dt)
    per, seq, vm = min(step_t), min(seq_t), min(vmap_t)
    rows.append(dict(batch=batch, models=m,
                     step_model_steps_s=m * steps / per,
                     seq_model_steps_s=m * steps / seq,
                     vmap_steps_s=steps / vm,
                     vmap_model_steps_s=m * steps / vm,
                     speedup_step=per / vm, speedup=seq / vm,
                     seq_compile_s=seq_compile, vmap_compile_s=vmap_compile,
                     xla_mib=_xla_bytes(vchunk) / 2**20))
    print(_format_row(rows[-1]), flush=True)
  return rows


_HEADER = ("| batch | λ values | per-step models·steps/s "
           "| scanned models·steps/s | vmapped steps/s "
           "| vmapped models·steps/s | vmapped / per-step "
           "| vmapped / scanned | compile s (scanned, vmapped) "
           "| XLA MiB (vmapped) |\n"
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def _format_row(r: dict) -> str:
  return (f"| {r['batch']} | {r['models']} | {r['step_model_steps_s']:.0f} | "
          f"{r['seq_model_steps_s']:.0f} | {r['vmap_steps_s']:.0f} | "
          f"{r['vmap_model_steps_s']:.0f} | {r['speedup_step']:.2f}× | "
          f"{r['speedup']:.2f}× | "
          f"{r['seq_compile_s']:.1f}, {r['vmap_compile_s']:.1f} | "
          f"{r['xla_mib']:.1f} |")


def matmul_rates(models: int, batch: int, reps: int = 200) -> dict:
  """GFLOP/s of the hidden layer's matmul [batch, 100] × [100, 100], chained
  `reps` times in one lax.scan: one model, `models` models vmapped (one
  batched dot) and the same models unrolled (`models` separate dots)."""
  def rate(body, m):
    a = np.full((m, batch, 100), 0.01, np.float32)
    w = np.full((m, 100, 100), 0.01, np.float32)
    fn = jax.jit(lambda a, w: jax.lax.scan(lambda c, _: (body(c, w), None), a,
                                           None, length=reps)[0])
    jax.block_until_ready(fn(a, w))
    best = min(_timed(lambda: fn(a, w))[0] for _ in range(3))
    return 2 * m * batch * 100 * 100 * reps / best / 1e9
  batched = jax.vmap(lambda c, w: c @ w)
  return {"one model": rate(batched, 1),
          f"{models} vmapped": rate(batched, models),
          f"{models} unrolled": rate(lambda c, w: jax.numpy.stack(
              [c[i] @ w[i] for i in range(models)]), models)}


def _targets(rows: list[dict]) -> list[str]:
  """The issues' speed targets, each against both sequential baselines."""
  out = []
  for key, name in (("speedup_step", "per-step"), ("speedup", "scanned")):
    out.append(f"vs {name}: vmapped never slower (ratio >= 1 at every size): "
               f"{all(r[key] >= 1 for r in rows)} "
               f"(min {min(r[key] for r in rows):.2f}×)")
    for batch, m, want in [(64, 16, 5), (64, 64, 10), (128, 64, 10)]:
      got = next((r[key] for r in rows
                  if r["batch"] == batch and r["models"] == m), None)
      if got is not None:
        out.append(f"vs {name}: batch {batch}, {m} λ vmapped >= {want}× "
                   f"faster: {got >= want} ({got:.1f}×)")
  return out


def main(argv):
  del argv
  mesh = sharding.make_mesh(_MESH.value)
  print(f"machine: {_machine()}")
  print(f"arm {_ARM.value}, mesh {dict(mesh.shape)}, {_STEPS.value} steps per "
        f"timed call, best of {_REPEATS.value}; python {sys.version.split()[0]}")
  print(_HEADER, flush=True)
  rows = []
  for batch in map(int, _BATCH.value):
    rows += bench_batch(batch, list(map(int, _NUM.value)), _STEPS.value,
                        _REPEATS.value, mesh)
  if _MATMUL.value:
    for batch in map(int, _BATCH.value):
      rates = matmul_rates(_MATMUL.value, batch)
      print(f"matmul [{batch}, 100] × [100, 100], GFLOP/s: " + ", ".join(
          f"{name} {r:.1f}" for name, r in rates.items()), flush=True)
  peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  print(f"peak resident memory (max RSS): {peak_mib:.0f} MiB")
  for line in _targets(rows):
    print(line)


if __name__ == "__main__":
  app.run(main)
