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

  def test_quick_config_writes_learned_conv_rows(self):
    config = eeg_conv.get_config("quick")
    c = config.arms.conv
    c.train.num_steps = c.train.chunk_steps = 10  # one curve stage
    with tempfile.TemporaryDirectory() as d:
      learned = realdata_job.train_and_evaluate(config, d)
      rows = results.read_csv(os.path.join(d, "rd.csv"))
      curve = results.read_csv(os.path.join(d, "curve.csv"))
      table = realdata_job.format_table(learned, config)
      self.assertTrue(os.path.exists(os.path.join(d, "rd.png")))
    conv_rows = [r for r in rows if r["arm"] == "conv"]
    self.assertEqual({r["split"] for r in conv_rows}, {"val", "test"})
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
    self.assertLen(curve, 1)
    self.assertEqual(int(curve[0]["step"]), 10)
    self.assertAlmostEqual(float(curve[0]["prd_pct"]), float(test["prd_pct"]),
                           delta=1e-3)
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
