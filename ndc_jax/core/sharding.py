"""Sweeps laid out on a device mesh: λ × seed (× β) models over devices and hosts.

A sweep is M independent models (the flattened grid of `train.sweep_grid`).
Its axis 0 is laid out on the mesh axis ``sweep`` with `NamedSharding`, so one
`jit(vmap(train_chunk))` runs every local device's share of the models and,
after `distributed_init()`, every host's. An optional mesh axis ``batch``
splits each model's training batch (data parallelism inside a model; the
parameters are then replicated along it): the Wyner-Ziv trainer applies
`batch_constraint` to its sampled batches; the multi-source trainer does not
yet, so there a ``batch`` axis only replicates the work. No pmap: XLA's SPMD partitioner
inserts whatever communication the layout needs, and a vmapped sweep needs
none along ``sweep``.

Each device trains its share `models_at_once` models at a time (vmapped) and
loops over such groups inside the program (`lax.map`): on a CPU a wide vmap
only pushes the working set out of the cache (`resolve_models_at_once`).

M need not divide the number of devices: the grid is padded to a multiple of
the ``sweep`` axis size by repeating its last point (valid λ and seed, so the
padding trains finite models), and `Sweep.to_host` drops the padding; a grid
of fewer models than devices uses only as many (`fit_mesh`).

On a CPU, `split_cpu` (the launchers' `--cpu_devices=-1`) makes each core an
XLA device, so the shares of a small-batch sweep run concurrently; larger
batches keep to one device (`fit_mesh`).

  mesh = make_mesh("sweep=4,batch=2")      # or "" for all devices on sweep
  sweep = shard_sweep(trainer, mesh, lmbdas, seeds)
  state = sweep.init()
  state, m = sweep.train_chunk(state, sweep.lmbdas)
  metrics = sweep.to_host(m)               # numpy, [M] per leaf, no padding
"""

import math
import os
from typing import Any, Callable, NamedTuple, Sequence

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

SWEEP, BATCH = "sweep", "batch"
AXES = (SWEEP, BATCH)
CPU_ROWS = 2048         # auto models_at_once on CPU: models · batch <= this
CPU_SPLIT_BATCH = 128   # larger batches train on one CPU device (fit_mesh)


def distributed_init(coordinator_address: str | None = None,
                     num_processes: int | None = None,
                     process_id: int | None = None) -> tuple[int, int]:
  """Joins a multi-host job (`jax.distributed.initialize`); call it first.

  With no arguments the cluster is detected (SLURM, Open MPI, Cloud TPU, GKE);
  otherwise give all three. Does nothing if already initialized. Returns
  (process_index, process_count); only process 0 should write results.
  """
  given = (coordinator_address, num_processes, process_id)
  if any(v is not None for v in given) and any(v is None for v in given):
    raise ValueError(
        "distributed_init: give coordinator_address, num_processes and "
        f"process_id together, or none of them to detect the cluster; got "
        f"{given}")
  if not jax.distributed.is_initialized():
    jax.distributed.initialize(coordinator_address, num_processes, process_id)
  return jax.process_index(), jax.process_count()


def split_cpu(count: int = 0) -> int:
  """Exposes the host CPU as `count` XLA devices (`jax_num_cpu_devices`).

  A sweep laid on the ``sweep`` axis then runs one share per device
  concurrently, each on its own thread (they share the cores' intra-op pool):
  on the 2-core benchmark machine two devices trained a 16-λ sweep at batch
  64 1.2–1.35× faster than one in alternating runs (sweep_bench). Only
  the CPU backend is affected; call it before any JAX operation. Float sums
  may then be ordered differently than on one device (numbers can differ in
  the ~5th digit), so it is opt-in.

  Args:
    count: 0 leaves JAX's setting (one CPU device, or the count that XLA_FLAGS'
      --xla_force_host_platform_device_count gives); >= 1 devices; -1 one per
      core (`os.cpu_count()`).
  Returns:
    The device count set, or 0 when nothing was changed.
  """
  if not (isinstance(count, int) and count >= -1):
    raise ValueError(f"cpu_devices={count!r} is invalid; allowed: 0 (leave "
                     "as is), an integer >= 1, or -1 for one device per core")
  if count == 0:
    return 0
  if count == -1:
    count = os.cpu_count() or 1
  jax.config.update("jax_num_cpu_devices", count)
  return count


def parse_mesh_spec(spec: str | None, num_devices: int) -> dict[str, int]:
  """'sweep=4,batch=2' -> {'sweep': 4, 'batch': 2}, checked against devices.

  An omitted ``batch`` is 1; an omitted ``sweep`` (or ``sweep=-1``) takes the
  devices left over. '' or None puts every device on ``sweep``. The product
  of the sizes must equal `num_devices` (all devices of all hosts).
  """
  sizes = {}
  for item in filter(None, (spec or "").replace(" ", "").split(",")):
    name, eq, value = item.partition("=")
    if name not in AXES or not eq:
      raise ValueError(f"mesh spec {spec!r}: item {item!r} is not "
                       f"'<axis>=<size>' with axis one of {AXES}")
    if name in sizes:
      raise ValueError(f"mesh spec {spec!r} names axis {name!r} twice")
    try:
      sizes[name] = int(value)
    except ValueError:
      raise ValueError(f"mesh spec {spec!r}: size {value!r} of axis {name!r} "
                       "is not an integer") from None
    if sizes[name] < 1 and not (name == SWEEP and sizes[name] == -1):
      raise ValueError(f"mesh spec {spec!r}: axis {name!r} has size "
                       f"{sizes[name]}; sizes must be >= 1 (sweep may be -1)")
  sizes.setdefault(BATCH, 1)
  if sizes.get(SWEEP, -1) == -1:
    if num_devices % sizes[BATCH]:
      raise ValueError(f"mesh spec {spec!r}: batch={sizes[BATCH]} does not "
                       f"divide the {num_devices} devices")
    sizes[SWEEP] = num_devices // sizes[BATCH]
  if sizes[SWEEP] * sizes[BATCH] != num_devices:
    raise ValueError(
        f"mesh spec {spec!r} asks for sweep={sizes[SWEEP]} × "
        f"batch={sizes[BATCH]} = {sizes[SWEEP] * sizes[BATCH]} devices, but "
        f"there are {num_devices} ({jax.process_count()} process(es)); the "
        "product must equal the device count")
  return {name: sizes[name] for name in AXES}


def make_mesh(spec: str | None = None,
              devices: Sequence[jax.Device] | None = None) -> Mesh:
  """A (sweep, batch) `Mesh` over `devices` (default: all, of all hosts)."""
  devices = list(jax.devices() if devices is None else devices)
  sizes = parse_mesh_spec(spec, len(devices))
  return jax.make_mesh(tuple(sizes.values()), AXES,
                       axis_types=(jax.sharding.AxisType.Auto,) * len(AXES),
                       devices=devices)


def fit_mesh(mesh: Mesh, num: int, batch_size: int | None = None) -> Mesh:
  """The part of `mesh` that a sweep of `num` models at `batch_size` uses.

  With one process and ``batch`` = 1, the ``sweep`` axis is cut to its first
  d devices: d <= `num`, so that no device trains a padded copy, and on CPU
  devices d = 1 when `batch_size` > CPU_SPLIT_BATCH: XLA already spreads such
  a model's matmuls over the cores, and a second device only competes for
  them (sweep benchmark on 2 cores: 2 devices trained 16 λ at batch 64
  1.2–1.35× faster than 1, the README's 5-λ batch-1024 arm 1.4× slower, and
  a 1-λ sweep padded to 2 ran at half speed). Otherwise `mesh` itself.
  """
  use = min(mesh.shape[SWEEP], max(num, 1))
  if (batch_size is not None and batch_size > CPU_SPLIT_BATCH
      and mesh.devices.flat[0].platform == "cpu"):
    use = 1
  if (use == mesh.shape[SWEEP] or mesh.shape[BATCH] != 1
      or jax.process_count() != 1):
    return mesh
  return Mesh(mesh.devices[:use], mesh.axis_names,
              axis_types=mesh.axis_types)


def padded_size(num: int, mesh: Mesh) -> int:
  """The smallest multiple of the mesh's ``sweep`` size that is >= `num`."""
  if num < 1:
    raise ValueError(f"the sweep axis has size {num}; a sweep needs at least "
                     "one grid point (check sweep.lmbdas and sweep.seeds)")
  n = mesh.shape[SWEEP]
  return math.ceil(num / n) * n


def _is_key(x) -> bool:
  return jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def pad(tree: Any, size: int) -> Any:
  """Pads every leaf's axis 0 to `size` by repeating its last entry."""
  def pad_leaf(x):
    if not np.ndim(x):
      raise ValueError("a scalar leaf has no sweep axis to pad")
    num = x.shape[0]
    if num == 0:
      raise ValueError("the sweep axis has size zero; a sweep needs at least "
                       "one grid point")
    if num > size:
      raise ValueError(f"cannot pad a sweep axis of size {num} to {size}")
    if num == size:
      return x
    if _is_key(x):
      return jax.random.wrap_key_data(pad_leaf(jax.random.key_data(x)),
                                      impl=jax.random.key_impl(x))
    x = np.asarray(x)
    return np.concatenate([x, np.repeat(x[-1:], size - num, axis=0)])
  return jax.tree.map(pad_leaf, tree)


def place(tree: Any, mesh: Mesh) -> Any:
  """Lays every leaf's axis 0 on the mesh's ``sweep`` axis (global arrays).

  Each device receives only its block of axis 0 (replicated along ``batch``);
  on several hosts each process must pass the same (host) values. Axis 0 must
  already be a multiple of the ``sweep`` size (see `pad`).
  """
  sharding = NamedSharding(mesh, P(SWEEP))

  def put(x):
    if not np.ndim(x) or x.shape[0] % mesh.shape[SWEEP]:
      raise ValueError(f"a leaf of shape {np.shape(x)} cannot be laid out on "
                       f"sweep={mesh.shape[SWEEP]}: pad axis 0 first")
    if isinstance(x, jax.Array) and x.sharding == sharding:
      return x
    if _is_key(x):
      return jax.random.wrap_key_data(put(jax.random.key_data(x)),
                                      impl=jax.random.key_impl(x))
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
      return jax.device_put(x, sharding)
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda i: x[i])
  return jax.tree.map(put, tree)


def to_host(tree: Any, num: int | None = None) -> Any:
  """Gathers a (sweep-sharded) tree to every host, keeping axis 0 up to `num`.

  Leaves become numpy arrays; PRNG keys stay key arrays (on the default
  device), so `results.save_tree`/`load_tree` round-trip them.
  """
  def get(x):
    if _is_key(x):
      return jax.random.wrap_key_data(get(jax.random.key_data(x)),
                                      impl=jax.random.key_impl(x))
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
      x = multihost_utils.process_allgather(x, tiled=True)
    return np.asarray(x)[:num]
  return jax.tree.map(get, tree)


def batch_constraint(mesh: Mesh, batch_size: int) -> Callable:
  """x [batch, ...] -> x laid out along the mesh's ``batch`` axis.

  For use inside the per-model training step (e.g. on the sampled x, y): with
  `jax.vmap(..., spmd_axis_name='sweep')` the models' axis adds ``sweep``, so
  a stacked batch [M, batch, n] is split over both mesh axes. The identity
  when the ``batch`` axis has size 1.
  """
  n = mesh.shape[BATCH]
  if batch_size % n:
    raise ValueError(f"train.batch_size={batch_size} is not a multiple of the "
                     f"mesh's batch={n}")
  if n == 1:
    return lambda x: x
  sharding = NamedSharding(mesh, P(BATCH))
  return lambda x: jax.lax.with_sharding_constraint(x, sharding)


class Sweep(NamedTuple):
  """A grid of `num` models laid out on `mesh` (padded to `padded`).

  `swept` (a tuple: λ, or λ and β_MI), `seeds`: the padded grid as
  sweep-sharded global arrays [padded]. `init()` -> state;
  `train_chunk(state, *swept)` -> (state, metrics), both sweep-sharded, as
  `jit(vmap(trainer.train_chunk))` or its grouped form (the state is
  donated). `place(tree)` pads
  and lays out a host tree of [num] leaves (a restored checkpoint);
  `to_host(tree)` gathers and drops the padding.
  """
  mesh: Mesh
  num: int
  padded: int
  swept: tuple
  seeds: jax.Array
  init: Callable
  train_chunk: Callable
  place: Callable
  to_host: Callable


def _sweep_fn(fn: Callable, devices: int, size: int, at_once: int
              ) -> Callable:
  """fn(state, *values) mapped over a sweep axis of `size` models laid on
  `devices` shares: each device trains its size / devices models `at_once`
  at a time (vmapped), looping over such groups inside the program; 0 = all
  of them at once (one vmap)."""
  per_device = size // devices
  if size == 1:  # XLA runs a size-1 vmap ~30% slower than the plain program
    def single(*args):
      out = fn(*jax.tree.map(lambda a: a[0], args))
      return jax.tree.map(lambda a: a[None], out)
    return single
  if at_once == 0 or at_once >= per_device:
    return jax.vmap(fn, spmd_axis_name=SWEEP)

  def share(*args):  # one device's models, axis 0 [per_device]
    return jax.lax.map(lambda a: fn(*a), args,
                       batch_size=None if at_once == 1 else at_once)
  if devices == 1:
    return share

  def split(*args):  # [devices · per_device] -> [devices, per_device]
    out = jax.vmap(share, spmd_axis_name=SWEEP)(*jax.tree.map(
        lambda a: a.reshape(devices, per_device, *a.shape[1:]), args))
    return jax.tree.map(lambda a: a.reshape(size, *a.shape[2:]), out)
  return split


def resolve_models_at_once(setting: int, batch_size: int,
                           platform: str | None = None) -> int:
  """How many models a device trains at once (`shard_sweep`'s argument)
  for the config value `sweep.models_at_once`: n >= 1 as given, 0 for all,
  -1 (auto) for all on an accelerator and max(1, CPU_ROWS // batch_size) on
  a CPU, where a larger vmapped group only leaves the cache (see the sweep
  benchmark)."""
  if not (isinstance(setting, int) and setting >= -1):
    raise ValueError(f"sweep.models_at_once={setting!r} is invalid; allowed: "
                     "an integer >= 1, 0 (all at once) or -1 (auto)")
  if setting >= 0:
    return setting
  if (platform or jax.default_backend()) != "cpu":
    return 0
  return max(1, CPU_ROWS // batch_size)


def shard_sweep(trainer, mesh: Mesh, swept, seeds: jax.typing.ArrayLike,
                models_at_once: int = 0, batch_size: int | None = None
                ) -> Sweep:
  """Lays the grid of `trainer` on `mesh`.

  Args:
    trainer: has `init(key)` and `train_chunk(state, *swept)`.
    mesh: from `make_mesh`; the sweep uses the part `fit_mesh` gives (fewer
      devices for a grid smaller than the ``sweep`` axis, one CPU device for
      a `batch_size` above CPU_SPLIT_BATCH).
    swept: the traced grid values, one [M] float array (λ) or a tuple of them
      (λ, β_MI), passed to `train_chunk` in order.
    seeds: [M] ints; model i starts from
      `trainer.init(jax.random.key(seeds[i]))`, exactly as an unsharded
      `jit(vmap(trainer.init))` of those keys does.
    models_at_once: models each device trains at once (vmapped); its share
      is trained in such groups one after another inside the one compiled
      program. 0: all at once (`resolve_models_at_once` gives the auto value).
    batch_size: each model's training batch (None: not known, no CPU rule).
  """
  swept = tuple(np.asarray(v, np.float32) for v in
                (swept if isinstance(swept, tuple) else (swept,)))
  seeds = np.asarray(seeds, np.int32)
  if any(v.ndim != 1 or v.shape != seeds.shape for v in swept):
    raise ValueError(f"swept values {[v.shape for v in swept]} and seeds "
                     f"{seeds.shape} must be 1-D arrays of one length (the "
                     "flattened grid)")
  num = seeds.shape[0]
  mesh = fit_mesh(mesh, num, batch_size)
  size = padded_size(num, mesh)
  s = NamedSharding(mesh, P(SWEEP))
  g_swept, g_seeds = place(pad((swept, seeds), size), mesh)
  init = jax.jit(jax.vmap(lambda seed: trainer.init(jax.random.key(seed))),
                 in_shardings=s, out_shardings=s)
  chunk_fn = _sweep_fn(trainer.train_chunk, mesh.shape[SWEEP], size,
                       models_at_once)
  chunk = jax.jit(chunk_fn, in_shardings=(s,) * (1 + len(swept)),
                  out_shardings=(s, s), donate_argnums=0)
  return Sweep(mesh, num, size, tuple(g_swept), g_seeds,
               lambda: init(g_seeds), chunk,
               lambda tree: place(pad(tree, size), mesh),
               lambda tree: to_host(tree, num))
