"""Sweeps on a device mesh: same numbers as unsharded, each device its share.

The mesh checks run in subprocesses with fake CPU devices
(`--xla_force_host_platform_device_count`): 8 devices in one process, and
2 processes × 4 devices joined by `jax.distributed` (the several-hosts path).
Fake devices prove correctness and layout, not speed.
"""

import os
import socket
import subprocess
import sys
import tempfile
import textwrap

from absl.testing import absltest
from absl.testing import parameterized
import chex
import jax
import numpy as np

from experiments.configs import wyner_ziv
from ndc_jax.core import sharding
from ndc_jax.wyner_ziv import train

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# 3 λ × 2 seeds = 6 models on 8 devices: 6 of them used, one model each.
_SWEEP_CHECK = """
import chex, jax, numpy as np
from experiments.configs import wyner_ziv
from ndc_jax.core import sharding
from ndc_jax.wyner_ziv import train

assert jax.device_count() == 8, jax.devices()
cfg = wyner_ziv.get_config("quick").arms.gaussian_conditional
cfg.sweep.lmbdas, cfg.sweep.seeds = (300., 1000., 3000.), (0, 1)
cfg.train.chunk_steps = 5  # one chunk of the quick run is trained
cfg.train.batch_size = 16
trainer = train.make_train(cfg)
lmbdas, seeds = train.sweep_grid(cfg)

# Unsharded, as experiment._train_arm runs it (one device).
ref = jax.jit(jax.vmap(trainer.init))(jax.vmap(jax.random.key)(seeds))
ref_init = sharding.to_host(ref)
ref, ref_m = jax.jit(jax.vmap(trainer.train_chunk))(ref, lmbdas)

mesh = sharding.make_mesh("sweep=8")
sweep = sharding.shard_sweep(trainer, mesh, lmbdas, seeds)
assert (sweep.num, sweep.padded) == (6, 6), (sweep.num, sweep.padded)
assert list(sweep.mesh.devices.flat) == jax.devices()[:6], sweep.mesh
state = sweep.init()
chex.assert_trees_all_equal(sweep.to_host(state), ref_init)
state, m = sweep.train_chunk(state, *sweep.swept)
got, got_m = sweep.to_host((state, m))
# The sharded program may order float sums differently; with the codebook
# head this reaches 2.6e-6 on 42 of 3072 encoder-MLP weights after 5 Adam
# steps of up to lr = 1e-3 each (likely near-zero gradients, which Adam's
# g/sqrt(v) scales up). Forming the head's distances directly instead of
# x·c − ‖c‖²/2 gave the same difference.
chex.assert_trees_all_close(got.params, sharding.to_host(ref.params),
                            rtol=1e-5, atol=1e-5)
chex.assert_trees_all_close(got_m, sharding.to_host(ref_m), rtol=1e-5,
                            atol=1e-6)
assert np.all(got.step == 5) and np.all(np.isfinite(got_m["loss"]))
assert got_m["loss"].shape == (6,)

# Each device holds only its share: 1 of 6 models, no copy elsewhere.
for leaf in jax.tree.leaves(state.params):
  shards = leaf.addressable_shards
  assert len(shards) == 6 and len({s.device for s in shards}) == 6
  assert all(s.data.shape == (1,) + leaf.shape[1:] for s in shards)
  assert sum(s.data.nbytes for s in shards) == leaf.nbytes

# 2 devices, 3 models each, trained 2 at once (a vmapped pair, then the
# remaining one, looped inside the program): the same models.
mesh_two = sharding.make_mesh("sweep=2", jax.devices()[:2])
grouped = sharding.shard_sweep(trainer, mesh_two, lmbdas, seeds, 2)
g_state, g_m = grouped.train_chunk(grouped.init(), *grouped.swept)
g_got, g_got_m = grouped.to_host((g_state, g_m))
chex.assert_trees_all_close(g_got.params, got.params, rtol=1e-5, atol=1e-5)
chex.assert_trees_all_close(g_got_m, got_m, rtol=1e-5, atol=1e-6)
assert all(s.data.shape[0] == 3 for leaf in jax.tree.leaves(g_state.params)
           for s in leaf.addressable_shards)

# 4 devices: padded to 8 (the last grid point twice more), 2 per device.
mesh_four = sharding.make_mesh("sweep=4", jax.devices()[:4])
padded = sharding.shard_sweep(trainer, mesh_four, lmbdas, seeds)
assert (padded.num, padded.padded) == (6, 8), (padded.num, padded.padded)
p_got = padded.to_host(padded.train_chunk(padded.init(), *padded.swept)[0])
chex.assert_trees_all_close(p_got.params, got.params, rtol=1e-5, atol=1e-5)

# fit_mesh: no more devices than models; above CPU_SPLIT_BATCH one CPU
# device; a batch axis keeps the whole mesh.
def used(mesh, num, batch=None):
  return sharding.fit_mesh(mesh, num, batch).devices.size
big = sharding.CPU_SPLIT_BATCH + 1
assert used(mesh, 6) == 6 and used(mesh, 20) == 8 and used(mesh, 1) == 1
assert used(mesh, 20, sharding.CPU_SPLIT_BATCH) == 8
assert used(mesh, 20, big) == 1
assert used(sharding.make_mesh("sweep=4,batch=2"), 2, big) == 8

# sweep=4,batch=2: 2 models per device, each replicated over the batch axis.
mesh2 = sharding.make_mesh("sweep=4,batch=2")
placed = sharding.place(sharding.pad(got.params, 8), mesh2)
for leaf in jax.tree.leaves(placed):
  assert all(s.data.shape == (2,) + leaf.shape[1:]
             for s in leaf.addressable_shards)
chex.assert_trees_all_equal(sharding.to_host(placed, 6), got.params)

# The batch hook splits a vmapped [M, batch, n] over both mesh axes.
constrain = sharding.batch_constraint(mesh2, 16)
s = jax.sharding.NamedSharding(mesh2, jax.sharding.PartitionSpec("sweep"))
f = jax.jit(jax.vmap(lambda k: constrain(jax.random.normal(k, (16, 3))),
                     spmd_axis_name="sweep"), in_shardings=s)
x = f(sharding.place(jax.vmap(jax.random.key)(np.arange(8)), mesh2))
assert x.sharding.spec[:2] == ("sweep", "batch"), x.sharding
assert {sh.data.shape for sh in x.addressable_shards} == {(2, 8, 3)}
try:
  sharding.batch_constraint(mesh2, 15)
  raise AssertionError("batch 15 on batch=2 must fail")
except ValueError as e:
  assert "not a multiple" in str(e), e
print("sweep check ok")
"""

# One of 2 processes, 4 fake devices each: a padded sweep of 6 over 8 devices.
_HOSTS_CHECK = """
import sys, jax, numpy as np
from ndc_jax.core import sharding

pid, port = int(sys.argv[1]), sys.argv[2]
assert sharding.distributed_init(f"localhost:{port}", 2, pid) == (pid, 2)
assert (jax.device_count(), jax.local_device_count()) == (8, 4)
mesh = sharding.make_mesh("")
x = np.arange(18, dtype=np.float32).reshape(6, 3)
keys = jax.vmap(jax.random.key)(np.arange(6))
gx, gk = sharding.place(sharding.pad((x, keys), 8), mesh)
assert not gx.is_fully_addressable
assert [s.data.shape for s in gx.addressable_shards] == [(1, 3)] * 4
s = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("sweep"))
f = jax.jit(jax.vmap(lambda a, k: a * 2 + jax.random.uniform(k)),
            in_shardings=(s, s), out_shardings=s)
out = sharding.to_host(f(gx, gk), 6)
want = x * 2 + np.asarray(jax.vmap(jax.random.uniform)(keys))[:, None]
np.testing.assert_allclose(out, want, rtol=1e-6)
np.testing.assert_array_equal(
    jax.random.key_data(sharding.to_host(gk, 6)), jax.random.key_data(keys))
print("hosts check ok", pid)
"""

# split_cpu before any JAX operation: argv[1] devices asked, argv[2] wanted.
_SPLIT_CHECK = """
import sys, jax
from ndc_jax.core import sharding

set_to = sharding.split_cpu(int(sys.argv[1]))
assert (set_to, jax.device_count()) == (int(sys.argv[2]), int(sys.argv[3])), (
    set_to, jax.devices())
print("split check ok")
"""


def _env(num_devices: int) -> dict:
  env = dict(os.environ)
  env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_"
                      f"device_count={num_devices}").strip()
  env["JAX_PLATFORMS"] = "cpu"
  env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT,
                                                    env.get("PYTHONPATH")]))
  return env


def _script(folder: str, text: str) -> str:
  path = os.path.join(folder, "check.py")
  with open(path, "w") as f:
    f.write(textwrap.dedent(text))
  return path


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


class MeshSpecTest(parameterized.TestCase):

  @parameterized.parameters(
      ("", 8, (8, 1)), (None, 1, (1, 1)), ("sweep=8", 8, (8, 1)),
      ("sweep=4,batch=2", 8, (4, 2)), ("batch=2", 8, (4, 2)),
      ("sweep=-1, batch=4", 8, (2, 4)))
  def test_parse(self, spec, devices, want):
    got = sharding.parse_mesh_spec(spec, devices)
    self.assertEqual((got["sweep"], got["batch"]), want)

  @parameterized.parameters(
      ("sweep=3", "product must equal the device count"),
      ("sweep=4,batch=4", "product must equal the device count"),
      ("batch=3", "does not divide"), ("model=8", "not '<axis>=<size>'"),
      ("sweep", "not '<axis>=<size>'"), ("sweep=x", "not an integer"),
      ("sweep=0", "sizes must be >= 1"), ("sweep=2,sweep=4", "twice"))
  def test_bad_spec(self, spec, message):
    with self.assertRaisesRegex(ValueError, message):
      sharding.parse_mesh_spec(spec, 8)

  def test_mesh_must_match_devices(self):
    n = jax.device_count()
    with self.assertRaisesRegex(ValueError, f"there are {n}"):
      sharding.make_mesh(f"sweep={n + 1}")
    mesh = sharding.make_mesh("")
    self.assertEqual(dict(mesh.shape), {"sweep": n, "batch": 1})

  def test_empty_sweep(self):
    mesh = sharding.make_mesh("")
    with self.assertRaisesRegex(ValueError, "size zero"):
      sharding.pad(np.zeros((0, 3)), 4)
    with self.assertRaisesRegex(ValueError, "at least one grid point"):
      sharding.shard_sweep(None, mesh, np.zeros(0), np.zeros(0, int))
    with self.assertRaisesRegex(ValueError, "1-D arrays of one length"):
      sharding.shard_sweep(None, mesh, np.ones(3), np.zeros(2, int))

  def test_pad_repeats_last_point_and_unpad_drops_it(self):
    lmbdas = np.array([1., 2., 3.], np.float32)
    keys = jax.vmap(jax.random.key)(np.arange(3))
    got, got_keys = sharding.pad((lmbdas, keys), 5)
    np.testing.assert_array_equal(got, [1., 2., 3., 3., 3.])
    np.testing.assert_array_equal(jax.random.key_data(got_keys)[3:],
                                  np.asarray(jax.random.key_data(keys))[[2, 2]])
    np.testing.assert_array_equal(sharding.to_host(got, 3), lmbdas)
    n = jax.device_count()
    self.assertEqual(sharding.padded_size(5, sharding.make_mesh("")),
                     -(-5 // n) * n)

  def test_batch_constraint_is_identity_without_batch_axis(self):
    mesh = sharding.make_mesh("batch=1")
    self.assertIs(sharding.batch_constraint(mesh, 7)(3), 3)

  def test_partial_distributed_args(self):
    with self.assertRaisesRegex(ValueError, "together"):
      sharding.distributed_init("localhost:1234")


class ModelsAtOnceTest(parameterized.TestCase):

  @parameterized.parameters((3, 64, "cpu", 3), (0, 64, "gpu", 0),
                            (-1, 64, "cpu", 32), (-1, 4096, "cpu", 1),
                            (-1, 64, "gpu", 0), (-1, 64, "tpu", 0))
  def test_resolve(self, setting, batch, platform, want):
    self.assertEqual(
        sharding.resolve_models_at_once(setting, batch, platform), want)

  @parameterized.parameters(-2, 1.5, "4")
  def test_bad_setting(self, setting):
    with self.assertRaisesRegex(ValueError, "sweep.models_at_once=.*allowed"):
      sharding.resolve_models_at_once(setting, 64)

  def test_groups_train_the_same_models_as_one_vmap(self):
    cfg = wyner_ziv.get_config("quick").arms.gaussian_conditional
    cfg.sweep.lmbdas, cfg.train.chunk_steps = (100., 300., 1e3, 3e3, 1e4), 5
    trainer = train.make_train(cfg)
    lmbdas, seeds = train.sweep_grid(cfg)
    mesh = sharding.make_mesh("")
    out = []
    for at_once in (0, 1, 2):  # all; one by one; pairs and a remainder
      sweep = sharding.shard_sweep(trainer, mesh, lmbdas, seeds, at_once)
      out.append(sweep.to_host(sweep.train_chunk(sweep.init(),
                                                 *sweep.swept)))
    for state, metrics in out[1:]:
      chex.assert_trees_all_close(state.params, out[0][0].params,
                                  rtol=1e-5, atol=1e-5)
      chex.assert_trees_all_close(metrics, out[0][1], rtol=1e-5, atol=1e-6)


class FakeDevicesTest(absltest.TestCase):

  def test_sharded_sweep_matches_unsharded(self):
    with tempfile.TemporaryDirectory() as tmp:
      run = subprocess.run([sys.executable, _script(tmp, _SWEEP_CHECK)],
                           env=_env(8), cwd=_ROOT, capture_output=True,
                           text=True, timeout=300)
    self.assertEqual(run.returncode, 0, run.stderr[-4000:])
    self.assertIn("sweep check ok", run.stdout)

  def test_split_cpu(self):
    # (XLA_FLAGS count, --cpu_devices) -> (count set, devices seen): 0
    # leaves JAX's setting (XLA_FLAGS's count or one device), a count or -1
    # (one per core) overrides it.
    env = dict(_env(1), XLA_FLAGS="")
    for xla, asked, want in ((None, 0, (0, 1)), (4, 0, (0, 4)),
                             (None, 3, (3, 3)), (4, 2, (2, 2)),
                             (4, -1, (os.cpu_count(),) * 2)):
      with self.subTest(xla=xla, asked=asked), \
          tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            [sys.executable, _script(tmp, _SPLIT_CHECK), str(asked),
             *map(str, want)], env=env if xla is None else _env(xla),
            cwd=_ROOT, capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr[-4000:])
        self.assertIn("split check ok", run.stdout)

  def test_split_cpu_rejects_bad_counts(self):
    for bad in (-2, 1.5, "2"):
      with self.assertRaisesRegex(ValueError,
                                  f"cpu_devices={bad!r} is invalid.*allowed"):
        sharding.split_cpu(bad)

  def test_two_hosts(self):
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
      path = _script(tmp, _HOSTS_CHECK)
      procs = [subprocess.Popen([sys.executable, path, str(i), str(port)],
                                env=_env(4), cwd=_ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in range(2)]
      outs = [p.communicate(timeout=300) for p in procs]
    for i, (p, (out, err)) in enumerate(zip(procs, outs)):
      self.assertEqual(p.returncode, 0, f"process {i}: {err[-4000:]}")
      self.assertIn(f"hosts check ok {i}", out)


if __name__ == "__main__":
  absltest.main()
