"""End-to-end test of the codec CLI on a tiny trained workdir."""

import json
import os
import tempfile

import jax
import numpy as np
from absl import flags
from absl.testing import absltest

from experiments import codec_main
from experiments.configs import wyner_ziv
from ndc_jax.codec import api as codec
from ndc_jax.core import results
from ndc_jax.wyner_ziv import train


def _run(*args):
  """Parses flags afresh (no values left from a previous call) and runs."""
  flags.FLAGS.unparse_flags()
  argv = flags.FLAGS(["codec_main", *args])
  codec_main.main(argv)


class CodecCliTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.tmp = tempfile.TemporaryDirectory()
    cls.dir = cls.tmp.name
    # A workdir as `wyner_ziv.job.train_and_evaluate` leaves it (config.json and
    # params/<arm>.npz), with untrained parameters: training is not tested here.
    config = wyner_ziv.get_config("quick")
    arm = config.arms.gaussian_conditional
    arm.sweep.lmbdas, arm.sweep.seeds = (100.0,), (0, 1)  # 2 grid points
    for name in ("gaussian_marginal", "laplace_marginal"):
      del config.arms[name]
    cls.workdir = os.path.join(cls.dir, "run")
    trainer = train.make_train(arm)
    lmbdas, seeds = train.sweep_grid(arm)
    results.write_json(os.path.join(cls.workdir, "config.json"),
                       {"config": config.to_dict()})
    results.save_tree(
        os.path.join(cls.workdir, "params", "gaussian_conditional.npz"),
        jax.vmap(trainer.compressor.init)(jax.vmap(jax.random.key)(seeds)),
        lmbda=lmbdas, seeds=seeds)
    x, y = trainer.source.sample(jax.random.key(7), 800)
    cls.x, cls.y = np.asarray(x), np.asarray(y)
    np.save(os.path.join(cls.dir, "x.npy"), cls.x)
    np.save(os.path.join(cls.dir, "y.npy"), cls.y)

  @classmethod
  def tearDownClass(cls):
    cls.tmp.cleanup()
    flags.FLAGS.unparse_flags()
    super().tearDownClass()

  def _path(self, name):
    return os.path.join(self.dir, name)

  def _common(self, index=1):
    return [f"--workdir={self.workdir}", "--arm=gaussian_conditional",
            f"--lmbda_index={index}"]

  def test_compress_decompress(self):
    model = codec.load(self.workdir, "gaussian_conditional", 1)
    for mode in ("conditional", "slepian_wolf"):
      side = [f"--side_info={self._path('y.npy')}"] * (mode == "conditional")
      _run("compress", *self._common(), f"--mode={mode}", "--sw_block=300",
           f"--input={self._path('x.npy')}", f"--output={self._path('x.ndc')}",
           *side)
      _run("decompress", *self._common(), f"--input={self._path('x.ndc')}",
           f"--side_info={self._path('y.npy')}",
           f"--output={self._path('x_hat.npy')}")
      u = codec.encode_indices(model, self.x)
      np.testing.assert_array_equal(np.load(self._path("x_hat.npy")),
                                    codec.reconstruct(model, u, self.y))

  def test_errors_exit_with_a_message(self):
    _run("compress", *self._common(), "--mode=conditional",
         f"--input={self._path('x.npy')}", f"--output={self._path('c.ndc')}",
         f"--side_info={self._path('y.npy')}")
    with self.assertRaisesRegex(SystemExit, "another model"):
      _run("decompress", *self._common(0), f"--input={self._path('c.ndc')}",
           f"--side_info={self._path('y.npy')}",
           f"--output={self._path('bad.npy')}")
    with self.assertRaisesRegex(SystemExit, "samples"):
      np.save(self._path("short.npy"), self.y[:-3])
      _run("decompress", *self._common(), f"--input={self._path('c.ndc')}",
           f"--side_info={self._path('short.npy')}",
           f"--output={self._path('bad.npy')}")
    with self.assertRaisesRegex(SystemExit, "cannot read"):
      _run("compress", *self._common(), f"--input={self._path('c.ndc')}",
           f"--output={self._path('bad.ndc')}")
    self.assertFalse(os.path.exists(self._path("bad.npy")))

  def test_bench_prints_the_table(self):
    _run("bench", f"--workdir={self.workdir}", "--num_samples=600",
         "--sw_samples=600", "--sw_block=300",
         f"--bench_output={self._path('bench.jsonl')}")
    rows = [l for l in open(self._path("bench.jsonl"))]
    self.assertLen(rows, 4)  # 2 grid points × (conditional, slepian_wolf)
    for row in map(json.loads, rows):
      self.assertTrue(row["roundtrip"])
      self.assertEqual(row["undetected"], 0)
      if row["mode"] == "conditional":  # one block: the file is the block's
        self.assertEqual(row["file_bits"], row["meas_bits"])
        self.assertTrue(np.isnan(row["na_bits"]))
      else:  # two blocks behind one header instead of two files
        self.assertLess(row["file_bits"], row["meas_bits"])
        # per scalar sample like the others: above the estimate, below the
        # 300-index files (their 32-byte headers alone cost 0.85 bits each)
        self.assertBetween(row["na_bits"], row["est_bits"], row["meas_bits"])
        self.assertAlmostEqual(row["na_gap"],
                               row["na_bits"] / row["est_bits"] - 1)

  def test_bench_runs_the_grid_points_asked_for(self):
    out = self._path("one.jsonl")
    _run("bench", f"--workdir={self.workdir}", "--arm=gaussian_conditional",
         "--num_samples=300", "--sw_samples=300", "--sw_block=300",
         "--bench_lmbdas=1", f"--bench_output={out}")
    model = codec.load(self.workdir, "gaussian_conditional", 1)
    rows = [json.loads(l) for l in open(out)]
    self.assertEqual([(r["lmbda"], r["mode"]) for r in rows],
                     [(model.lmbda, "conditional"),
                      (model.lmbda, "slepian_wolf")])
    with self.assertRaisesRegex(SystemExit, r"grid points \[2\] .* 0 to 1"):
      _run("bench", f"--workdir={self.workdir}", "--arm=gaussian_conditional",
           "--bench_lmbdas=0,2")

  def test_thresholds_bracket_each_plane(self):
    out = self._path("thresholds.jsonl")
    _run("thresholds", f"--workdir={self.workdir}", "--arm=gaussian_conditional",
         "--sw_samples=600", "--sw_block=300", f"--bench_output={out}")
    rows = [json.loads(l) for l in open(out)]
    self.assertNotEmpty(rows)
    self.assertEqual({(r["grid"], r["block"]) for r in rows},
                     {(0, 0), (0, 1), (1, 0), (1, 1)})
    for r in rows:  # BP never recovers a plane from much less than its bits
      # (nor than its 300 raw bits: the untrained q(u|y) may cost more)
      self.assertBetween(r["thr_checks"], 0.95 * min(r["info_bits"], 300), 300)
      self.assertAlmostEqual(r["thr_ratio"], r["thr_checks"] / r["info_bits"])


if __name__ == "__main__":
  absltest.main()
