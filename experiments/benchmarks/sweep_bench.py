"""Sweep throughput: M λ values vmapped (on the device mesh) vs one after another.

Four modes train the same models of the default arm of
experiments/configs/wyner_ziv.py (gaussian_conditional) for `--steps` steps:
* per-step: one model after another, one jitted training step per Python
  call (the usual training loop: `jit(train_chunk)` with one step per chunk);
* scanned: one model after another, `jit(train_chunk)` with all `--steps`
  steps in one `lax.scan` (no Python per step: the stronger baseline);
* vmapped: `sharding.shard_sweep`'s `jit(vmap(train_chunk))` over all λ at
  once, `--steps` steps in one `lax.scan`, laid out on the part of `--mesh`
  that `sharding.fit_mesh` picks, as the launcher does (on a CPU
  `--cpu_devices=-1` makes each core a device, as in the launcher, and
  batches above sharding.CPU_SPLIT_BATCH keep to one);
* sweep: what the launcher runs, `shard_sweep` with `--models_at_once`
  (default auto: on CPU groups of max(1, sharding.CPU_ROWS // batch) models
  vmapped, the groups one after another inside the one compiled program);
  the devices it used in brackets.
Times are the best of at least `--repeats` steady-state calls per mode (modes
interleaved), more where a mode's calls add up to less than `--min_seconds`
(a mode that has both drops out of the rounds);
compile time (lowering + XLA compilation) is measured apart. Memory: XLA's
compiled memory analysis (arguments + outputs + temporaries) of the vmapped
program, the process's peak resident set size at the end and, on a GPU, the
device's peak bytes in use.

  python -m experiments.benchmarks.sweep_bench --cpu_devices=-1
  python -m experiments.benchmarks.sweep_bench --batch_sizes=64 \
      --num_lmbdas=1,4,16 --steps=10 --repeats=2      # a quick look
  python -m experiments.benchmarks.sweep_bench --config_arg=quick \
      --batch_sizes=8 --num_lmbdas=2 --steps=2 --matmul_models=0  # smoke run
"""

import os
import platform
import resource
import sys
import time

import jax
import numpy as np
from absl import app, flags

from experiments import device_flags
from experiments.configs import wyner_ziv
from ndc_jax.core import sharding
from ndc_jax.wyner_ziv import train

_BATCH = flags.DEFINE_list("batch_sizes", ["64", "128", "1024"],
                           "Training batch sizes.")
_NUM = flags.DEFINE_list("num_lmbdas", ["1", "4", "16", "64"],
                         "Sweep sizes (number of λ values, one seed each).")
_STEPS = flags.DEFINE_integer("steps", 20, "Training steps per timed call.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed calls per mode (best).")
_MIN_SECONDS = flags.DEFINE_float(
    "min_seconds", 1.0, "More timed calls per mode (interleaved) until each "
    "mode's add up to this: short calls on a noisy machine need many.")
_ARM = flags.DEFINE_string("arm", "gaussian_conditional",
                           "Arm of experiments/configs/wyner_ziv.py.")
_CONFIG_ARG = flags.DEFINE_string(
    "config_arg", "", "Argument of experiments/configs/wyner_ziv.py's "
    "get_config ('quick': its small nets, a smoke run of this bench).")
_AT_ONCE = flags.DEFINE_integer(
    "models_at_once", -1, "The sweep mode's models per vmapped group "
    "(sweep.models_at_once: -1 auto, 0 all).")
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
  cfg = wyner_ziv.get_config(_CONFIG_ARG.value or None).arms[_ARM.value]
  cfg.train.batch_size = batch
  cfg.train.chunk_steps = chunk_steps  # num_steps only validates
  cfg.train.num_steps = chunk_steps * -(-cfg.train.num_steps // chunk_steps)
  return train.make_train(cfg)


def bench_batch(batch: int, sizes: list[int], steps: int, repeats: int,
                mesh, at_once_setting: int = -1,
                min_seconds: float = 0.0) -> list[dict]:
  """Rows of one batch size: per sweep size, the four modes' best times over
  at least `repeats` interleaved rounds, and over as many more as it takes
  for each mode's timed calls to add up to `min_seconds`."""
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
    at_once = sharding.resolve_models_at_once(at_once_setting, batch)
    group = m if at_once == 0 else min(at_once, m)
    sweeps, compiled, vstates, compile_s = {}, {}, {}, {}
    for name, n in (("vmapped", 0), ("sweep", group)):
      sweeps[name] = sharding.shard_sweep(trainer, mesh, lmbdas, seeds, n,
                                            batch)
      vstates[name] = sweeps[name].init()
      t0 = time.perf_counter()
      compiled[name] = sweeps[name].train_chunk.lower(
          vstates[name], *sweeps[name].swept).compile()
      compile_s[name] = time.perf_counter() - t0
    # Warm-up (first calls allocate), then interleaved timed calls.
    jax.block_until_ready([single(s, l) for s, l in zip(states, lmbdas)])
    jax.block_until_ready(per_step(states, lmbdas))
    def run_sweep(name):
      vstates[name], _ = compiled[name](vstates[name], *sweeps[name].swept)
      return vstates[name]
    modes = {"per-step": lambda: per_step(states, lmbdas),
             "scanned": lambda: [single(s, l) for s, l in zip(states, lmbdas)],
             "vmapped": lambda: run_sweep("vmapped"),
             "sweep": lambda: run_sweep("sweep")}
    times = {name: [] for name in modes}
    def wanted(name):
      return len(times[name]) < repeats or sum(times[name]) < min_seconds
    rep = 0
    while rep == 0 or any(map(wanted, modes)):
      # The order flips every round, since a mode timed later in a round
      # can run slower than the same program timed first. A mode with its
      # calls and seconds drops out (a fast mode needs many calls to fill
      # --min_seconds, a slow one a single call).
      for name in list(modes)[::1 if rep % 2 else -1]:
        if rep == 0:  # the first round warms up
          _timed(modes[name])
        elif wanted(name):
          times[name].append(_timed(modes[name])[0])
      rep += 1
    per, seq, vm, sw = (min(times[k]) for k in (
        "per-step", "scanned", "vmapped", "sweep"))
    rows.append(dict(batch=batch, models=m, group=group,
                     devices=sweeps["sweep"].mesh.shape[sharding.SWEEP],
                     step_model_steps_s=m * steps / per,
                     seq_model_steps_s=m * steps / seq,
                     vmap_model_steps_s=m * steps / vm,
                     sweep_model_steps_s=m * steps / sw,
                     speedup_step=per / sw, speedup=seq / sw,
                     seq_compile_s=seq_compile,
                     vmap_compile_s=compile_s["vmapped"],
                     sweep_compile_s=compile_s["sweep"],
                     xla_mib=_xla_bytes(compiled["vmapped"]) / 2**20))
    print(_format_row(rows[-1]), flush=True)
  return rows


_HEADER = ("| batch | λ values | per-step | scanned | vmapped (all) "
           "| sweep (group, devices) | sweep / per-step | sweep / scanned "
           "| compile s (scanned, vmapped, sweep) | XLA MiB (vmapped) |\n"
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def _format_row(r: dict) -> str:
  return (f"| {r['batch']} | {r['models']} | {r['step_model_steps_s']:.0f} | "
          f"{r['seq_model_steps_s']:.0f} | {r['vmap_model_steps_s']:.0f} | "
          f"{r['sweep_model_steps_s']:.0f} ({r['group']}, {r['devices']}) | "
          f"{r['speedup_step']:.2f}× | {r['speedup']:.2f}× | "
          f"{r['seq_compile_s']:.1f}, {r['vmap_compile_s']:.1f}, "
          f"{r['sweep_compile_s']:.1f} | {r['xla_mib']:.1f} |")


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
  """The speed targets, each against both sequential baselines."""
  out = []
  for key, name in (("speedup_step", "per-step"), ("speedup", "scanned")):
    out.append(f"vs {name}: the sweep never slower (ratio >= 1 at every size): "
               f"{all(r[key] >= 1 for r in rows)} "
               f"(min {min(r[key] for r in rows):.2f}×)")
    for batch, m, want in [(64, 16, 5), (64, 64, 10), (128, 64, 10)]:
      got = next((r[key] for r in rows
                  if r["batch"] == batch and r["models"] == m), None)
      if got is not None:
        out.append(f"vs {name}: batch {batch}, {m} λ swept >= {want}× "
                   f"faster: {got >= want} ({got:.1f}×)")
  return out


def main(argv):
  del argv
  device_flags.split_cpu()
  mesh = device_flags.mesh()
  print(f"machine: {_machine()}")
  config = f":{_CONFIG_ARG.value}" if _CONFIG_ARG.value else ""
  print(f"arm {_ARM.value} of wyner_ziv.py{config}, mesh {dict(mesh.shape)}, "
        f"{_STEPS.value} steps per "
        f"timed call, best of >= {_REPEATS.value} calls per mode and >= "
        f"{_MIN_SECONDS.value:g} s of them; python {sys.version.split()[0]}")
  print(_HEADER, flush=True)
  rows = []
  for batch in map(int, _BATCH.value):
    rows += bench_batch(batch, list(map(int, _NUM.value)), _STEPS.value,
                        _REPEATS.value, mesh, _AT_ONCE.value,
                        _MIN_SECONDS.value)
  if _MATMUL.value:
    for batch in map(int, _BATCH.value):
      rates = matmul_rates(_MATMUL.value, batch)
      print(f"matmul [{batch}, 100] × [100, 100], GFLOP/s: " + ", ".join(
          f"{name} {r:.1f}" for name, r in rates.items()), flush=True)
  peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  print(f"peak resident memory (max RSS): {peak_mib:.0f} MiB")
  stats = jax.devices()[0].memory_stats()  # None on a CPU
  if stats and "peak_bytes_in_use" in stats:
    print(f"peak device memory ({jax.devices()[0].device_kind}): "
          f"{stats['peak_bytes_in_use'] / 2**20:.0f} MiB")
  for line in _targets(rows):
    print(line)


if __name__ == "__main__":
  app.run(main)
