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
    for name in [a for a in config.arms if a != "gaussian_conditional"]:
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
    with self.assertRaisesRegex(SystemExit, "c.ndc is not a .npy file"):
      _run("compress", *self._common(), f"--input={self._path('c.ndc')}",
           f"--output={self._path('bad.ndc')}")
    self.assertFalse(os.path.exists(self._path("bad.npy")))

  def _fails(self, regex, *args):
    with self.assertRaisesRegex(SystemExit, regex):
      _run(*args)

  def test_bad_input_files_name_the_flag_and_file(self):
    empty, npz, text, huge, strings, short = (self._path(n) for n in (
        "empty.npy", "x.npz", "x.txt", "huge.npy", "str.npy", "short.npy"))
    open(empty, "wb").close()
    np.savez(npz, x=self.x)
    with open(text, "w") as f:
      f.write("0.1 0.2\n")
    with open(huge, "wb") as f:  # a header claiming 10^10 floats
      np.lib.format.write_array_header_1_0(
          f, {"descr": "<f4", "fortran_order": False, "shape": (10**10, 1)})
      f.write(b"\0" * 64)
    np.save(strings, np.array(["a", "b"]))
    np.save(short, self.x)
    with open(short, "r+b") as f:
      f.truncate(os.path.getsize(short) - 4)
    out = self._path("never.ndc")
    cases = [(empty, r"--input=.*empty.npy is empty \(0 bytes\)"),
             (npz, r"--input=.*x.npz is a .npz archive"),
             (text, r"--input=.*x.txt is not a .npy file"),
             (huge, r"--input=.*huge.npy: its header announces shape "
              r"\(10000000000, 1\) .* but 64 bytes follow"),
             (strings, r"--input=.*str.npy holds dtype <U1; allowed: real"),
             (short, r"--input=.*short.npy: its header announces"),
             ("/dev/zero", r"--input=/dev/zero is not a regular file"),
             (self._path("missing.npy"), r"--input=.*missing.npy: cannot "
              r"read it")]
    for path, regex in cases:
      self._fails(regex, "compress", *self._common(), "--mode=slepian_wolf",
                  f"--input={path}", f"--output={out}")
    self._fails(r"--side_info=.*empty.npy is empty", "compress",
                *self._common(), "--mode=conditional",
                f"--input={self._path('x.npy')}", f"--side_info={empty}",
                f"--output={out}")
    self._fails(r"--input=/dev/zero is not a regular file", "decompress",
                *self._common(), "--input=/dev/zero",
                f"--side_info={self._path('y.npy')}", f"--output={out}")
    self.assertFalse(os.path.exists(out))

  def test_output_equal_to_an_input_is_refused(self):
    x = self._path("x.npy")
    before = open(x, "rb").read()
    self._fails(r"--output=.*x.npy is the --input file", "compress",
                *self._common(), "--mode=slepian_wolf", f"--input={x}",
                f"--output={x}")
    _run("compress", *self._common(), "--mode=slepian_wolf", "--sw_block=300",
         f"--input={x}", f"--output={self._path('s.ndc')}")
    for flag, path in (("input", self._path("s.ndc")),
                       ("side_info", self._path("y.npy"))):
      self._fails(f"is the --{flag} file", "decompress", *self._common(),
                  f"--input={self._path('s.ndc')}",
                  f"--side_info={self._path('y.npy')}", f"--output={path}")
    self.assertEqual(open(x, "rb").read(), before)

  def test_flag_values_out_of_range(self):
    x, out = self._path("x.npy"), self._path("never.ndc")
    for block in (1, 2, 5, 255, 2**32):
      self._fails(rf"--sw_block={block} is invalid; allowed: 256 \(the "
                  r"shortest Slepian-Wolf block .*\) to 4294967295",
                  "compress", *self._common(), "--mode=slepian_wolf",
                  f"--sw_block={block}", f"--input={x}", f"--output={out}")
    self._fails(r"--sw_max_failure=0.0 is invalid", "compress",
                *self._common(), "--mode=slepian_wolf", "--sw_max_failure=0",
                f"--input={x}", f"--output={out}")
    self.assertFalse(os.path.exists(out))
    self._fails(r"--num_samples=-5 is invalid; allowed: at least 1", "bench",
                f"--workdir={self.workdir}", "--num_samples=-5")
    self._fails(r"--sw_samples=0 is invalid; allowed: at least 256",
                "thresholds", f"--workdir={self.workdir}",
                "--arm=gaussian_conditional", "--sw_samples=0")

  def test_outputs_follow_the_umask_and_state_the_failure(self):
    old = os.umask(0o022)
    try:
      out = self._path("umask.ndc")
      _run("compress", *self._common(), "--mode=slepian_wolf",
           "--sw_block=300", f"--input={self._path('x.npy')}",
           f"--output={out}")
      self.assertEqual(os.stat(out).st_mode & 0o777, 0o644)
    finally:
      os.umask(old)

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
