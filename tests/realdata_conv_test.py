"""The real-data job with the learned conv codec: the quick EEG config
writes conv rows (measured rates, PRD, the lone decoders' PRD and the side
gain) beside the classical rows, and curve.csv; a conv arm that does not fit
the data is refused; the pooled normaliser."""

import os
import tempfile

import numpy as np
from absl.testing import absltest

from experiments.configs import ecg_conv, eeg_conv
from ndc_jax.core import results
from ndc_jax.realdata import classical, protocol
from ndc_jax.realdata import job as realdata_job


class ConvJobTest(absltest.TestCase):

  def test_quick_mi_config_writes_learned_conv_rows(self):
    # The MI-regularized variant (`:mi`, InfoNCE, β_MI ∈ {−0.1, 0, 0.1})
    # on the real EEG data (the separately trained twin arm is left out:
    # it doubles this test's time; its parts are tested apart).
    config = eeg_conv.get_config("quick,mi,separate=0")
    for c in config.arms.values():
      c.train.num_steps = c.train.chunk_steps = 10  # one curve stage
    with tempfile.TemporaryDirectory() as d:
      out = realdata_job.train_and_evaluate(config, d)
      rows = results.read_csv(os.path.join(d, "rd.csv"))
      curve = results.read_csv(os.path.join(d, "curve.csv"))
      table = realdata_job.format_table(out, config)
      self.assertTrue(os.path.exists(os.path.join(d, "rd.png")))
      mi_bits = [m["mi_bits"] for m in results.read_jsonl(
          os.path.join(d, "split", "conv", "metrics.jsonl"))]
    self.assertTrue(np.all(np.isfinite(mi_bits)) and np.any(mi_bits))
    conv_rows = [r for r in rows if r["arm"] == "conv"]
    self.assertEqual({r["split"] for r in conv_rows}, {"val", "test"})
    self.assertEqual(sorted({float(r["beta_mi"]) for r in conv_rows}),
                     [-0.1, 0.0, 0.1])
    self.assertTrue(all(r["mi_estimator"] == "infonce" for r in conv_rows))
    self.assertTrue(all(r["kind"] == "learned" for r in conv_rows))
    for r in conv_rows:
      self.assertTrue(np.isnan(float(r["kl_bpd_sum"])))  # no posterior
      for col in ("op_bpd_1", "op_bpd_2", "op_bpd_mean", "prd_pct",
                  "alone_prd_pct", "alone_prd_pct_2", "side_gain_prd"):
        self.assertTrue(np.isfinite(float(r[col])), col)
      self.assertAlmostEqual(float(r["side_gain_prd"]),
                             float(r["alone_prd_pct"]) - float(r["prd_pct"]),
                             delta=1e-3)  # rd.csv keeps 6 digits
      # Real ANS streams with their symbol range, per unique sample.
      self.assertGreater(float(r["op_bpd_1"]) * 2 * 32 * float(
          r["num_heldout"]), float(r["header_bits_1"]))
    base = [r for r in rows if r["kind"] == "baseline"]
    self.assertEqual({r["arm"] for r in base},
                     {"dwt", "dct", "klt_dwt", classical.LOSSLESS})
    test = [r for r in conv_rows if r["split"] == "test"][0]
    self.assertTrue(all(r["num_heldout"] == test["num_heldout"]
                        for r in base))  # the same tiles
    self.assertLen(curve, 3)  # 3 β_MI, one stage
    self.assertEqual({int(r["step"]) for r in curve}, {10})
    at_test = {(r["arm"], r["lmbda"], r["beta_mi"]): r["prd_pct"]
               for r in rows if r["split"] == "test" and r["kind"] == "learned"}
    for r in curve:
      self.assertAlmostEqual(float(r["prd_pct"]), float(at_test[
          r["arm"], r["lmbda"], r["beta_mi"]]), delta=1e-3)
    self.assertIn("side_gain_prd", table)

  def test_channels_that_do_not_fit_are_refused(self):
    config = ecg_conv.get_config("quick")
    config.data.path = "/nonexistent"  # refused before any data is read
    arm = config.arms.conv
    with self.assertRaisesRegex(ValueError, "model.channels"):
      realdata_job.check_arm("conv", arm, _FakeData(((2, 32), (2, 32))))
    with self.assertRaisesRegex(ValueError, "images"):
      realdata_job.check_arm("conv", arm, _FakeData(((16, 16, 1),) * 2))
    realdata_job.check_arm("conv", arm, _FakeData(((1, 32), (1, 32))))


class ValidationOrderTest(absltest.TestCase):
  """A config the job refuses leaves its workdir empty: every check runs
  before config.json is written (regression: check_arm, the trainers' own
  checks and the baselines' ran after it)."""

  def _refused(self, config, pattern):
    with tempfile.TemporaryDirectory() as d:
      with self.assertRaisesRegex(ValueError, pattern):
        realdata_job.train_and_evaluate(config, d)
      self.assertEqual(os.listdir(d), [])

  def test_arm_that_does_not_fit_the_data(self):
    config = eeg_conv.get_config("quick")
    config.arms.conv.model.channels = (3, 2)
    self._refused(config, r"config.arms.conv: model.channels=\(3, 2\)")

  def test_trainer_check(self):
    config = eeg_conv.get_config("quick")
    config.arms.conv.train.chunk_steps = 7  # 40 steps: not a multiple
    self._refused(config, r"config.arms.conv: train.num_steps=40 must be a "
                  r"multiple of train.chunk_steps=7")

  def test_separate_arm_that_is_not_a_separate_conv_arm(self):
    config = eeg_conv.get_config("quick")
    config.arms.conv.eval.separate_arm = "conv"
    self._refused(config, r"config.arms.conv.eval.separate_arm='conv'; "
                  r"allowed: another conv arm .*decoder='separate'")

  def test_baseline_step(self):
    config = eeg_conv.get_config("quick")
    config.baselines.signal_steps = (0.5, -1.0)
    self._refused(config, r"config.baselines.signal_steps=\(0.5, -1.0\)")


class _FakeData:
  def __init__(self, shapes):
    self.shapes = shapes


class NormalizerTest(absltest.TestCase):

  def test_source_mode_pools_the_std_over_channels(self):
    parts = protocol.load_splits(eeg_conv.get_config("quick").data)
    train = parts["train"]
    norm = protocol.fit_normalizer(train, "source")
    x = train.unflatten(0).astype(np.float64)  # [N, 2, window]
    centred = x - x.mean((0, 2), keepdims=True)
    np.testing.assert_allclose(norm.std[0], np.sqrt(np.mean(centred ** 2)),
                               rtol=1e-5)
    np.testing.assert_allclose(norm.mean[0].reshape(2, -1)[:, 0],
                               x.mean((0, 2)), rtol=1e-5)
    with self.assertRaisesRegex(ValueError, "normalize"):
      protocol.fit_normalizer(train, "pixel")


if __name__ == "__main__":
  absltest.main()
