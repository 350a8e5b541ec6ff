"""The real-data job's classical rows and honest tiling: held-out sets are
non-overlapping tiles, regions assemble back, baseline rows land in rd.csv
beside the learned rows with gap_db / gap_prd."""

import os
import tempfile
from unittest import mock

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl.testing import absltest

from experiments.configs import eeg_physionet, stereo_middlebury
from ndc_jax.core import results
from ndc_jax.models import train as multisource
from ndc_jax.realdata import classical, protocol, tiling
from ndc_jax.realdata import job as realdata_job


def untrained(name, arm_cfg, trainer, run_dir, mesh):
  """Init params instead of training: the job's plumbing, fast."""
  del name, run_dir, mesh
  inits = [trainer.init(jax.random.key(int(s))).params
           for s in multisource.sweep_grid(arm_cfg)[2]]
  return trainer, jax.tree.map(lambda *a: jnp.stack(a), *inits)


class TilingTest(absltest.TestCase):

  def test_overlapping_held_out_becomes_tiles_of_the_same_region(self):
    config = stereo_middlebury.get_config()  # 16 px patches, stride 8
    parts = protocol.load_splits(config.data)
    test = tiling.nonoverlapping(parts["test"])
    rc = test.extras["origin_rc"]
    self.assertEqual(test.num_examples, 3 * 46)  # rows 450-498, cols 0-736
    self.assertTrue(np.all(np.diff(np.unique(rc[:, 0])) == 16))
    self.assertTrue(np.all(np.diff(np.unique(rc[:, 1])) == 16))
    img = tiling.region(test, 0)
    self.assertEqual(img.shape, (48, 736, 1))
    left = np.asarray(parts["test"].sources[0]).reshape(-1, 16, 16, 1)
    first = np.flatnonzero((parts["test"].extras["origin_rc"] ==
                            [466, 32]).all(1))[0]
    np.testing.assert_array_equal(img[16:32, 32:48], left[first])
    runs = protocol.protocol_runs(config.protocol, parts)
    self.assertEqual(runs[0][2]["test"].num_examples, test.num_examples)
    self.assertEqual(runs[0][1].num_examples, parts["train"].num_examples)

  def test_signal_windows_tile_in_time(self):
    parts = protocol.load_splits(eeg_physionet.get_config().data)
    test = tiling.nonoverlapping(parts["test"])  # window 32, hop 8
    starts = test.extras["start_sample"]
    self.assertTrue(np.all(np.diff(starts) == 32))
    seg = tiling.region(test, 1)
    self.assertEqual(seg.shape, (27, 32 * test.num_examples))
    np.testing.assert_array_equal(
        seg[:, 32:64], test.sources[1][1].reshape(27, 32))


class GapTest(absltest.TestCase):

  def test_gap_at_equal_rate(self):
    base = [{"run": "r", "split": "test", "arm": a, "op_bpd_mean": x,
             "psnr_db": y} for a, x, y in
            (("jpeg", 0.1, 30.0), ("jpeg", 0.3, 34.0),
             ("webp", 0.1, 31.0), ("webp", 0.2, 32.0))]
    rows = [{"run": "r", "split": "test", "op_bpd_mean": m, "psnr_db": 29.0}
            for m in (0.15, 0.25, 0.5)]
    classical.add_gaps(rows, base, "psnr_db")
    self.assertEqual(rows[0]["baseline_name"], "webp")  # 31.5 > 31
    self.assertAlmostEqual(rows[0]["gap_db"], -2.5)
    self.assertEqual(rows[1]["baseline_name"], "jpeg")  # webp ends at 0.2
    self.assertAlmostEqual(rows[1]["baseline_psnr_db"], 33.0)
    self.assertTrue(np.isnan(rows[2]["gap_db"]))  # no extrapolation


class SeparateGainTest(absltest.TestCase):

  def test_separate_codec_at_the_joint_rate(self):
    config = ml_collections.ConfigDict({"arms": {
        "joint": {"eval": {"separate_arm": "sep"}}, "sep": {"eval": {}}}})
    row = lambda arm, rate, prd, seed=0: {
        "run": "r", "split": "test", "seed": seed, "arm": arm,
        "op_bpd_mean": rate, "prd_pct": prd}
    rows = [row("sep", 0.1, 50.0), row("sep", 0.3, 30.0),
            row("sep", 0.2, 0.0, seed=1),  # another seed: not a point
            row("joint", 0.15, 40.0), row("joint", 0.4, 20.0)]
    realdata_job.add_separate_gains(rows, config, "prd_pct")
    self.assertAlmostEqual(rows[3]["separate_prd_pct"], 45.0)
    self.assertAlmostEqual(rows[3]["separate_gain_prd"], 5.0)  # joint better
    self.assertTrue(np.isnan(rows[4]["separate_gain_prd"]))  # no extrapolation
    self.assertNotIn("separate_prd_pct", rows[0])


class JobBaselineRowsTest(absltest.TestCase):

  def _run(self, config):
    with tempfile.TemporaryDirectory() as d, mock.patch.object(
        realdata_job, "train_arm", untrained):
      out = realdata_job.train_and_evaluate(config, d)
      rows = results.read_csv(os.path.join(d, "rd.csv"))
      self.assertTrue(os.path.exists(os.path.join(
          d, "baselines_protocol.csv")))
      table = realdata_job.format_table(out, config)
    learned = [r for r in out if r["kind"] == "learned"]
    base = [r for r in rows if r["kind"] == "baseline"]
    self.assertEqual([r["kind"] for r in rows], [r["kind"] for r in out])
    # The printed table: learned rows with their gap, then every classical
    # row (one line each) under its own header.
    learned_text, base_text = table.split(
        "classical codecs on the same test region (kind=baseline):\n")
    self.assertIn(classical.GAP["psnr_db" if "psnr_db" in learned[0]
                                else "prd_pct"], learned_text.split("\n")[0])
    self.assertLen(learned_text.strip().split("\n"), 1 + len(learned))
    self.assertLen(base_text.split("\n"), 1 + len(base))
    for r in base:
      self.assertIn(r["arm"], base_text)
    self.assertTrue(all(r["split"] == "test" for r in base))
    test_learned = [r for r in rows if r["kind"] == "learned"
                    and r["split"] == "test"]
    self.assertTrue(all(r["num_heldout"] == test_learned[0]["num_heldout"]
                        for r in base))  # the same tiles
    self.assertIn("baseline_name", table)
    return learned, base

  def test_stereo_quick_writes_image_codec_rows(self):
    config = stereo_middlebury.get_config("quick")
    config.baselines.image_qualities = {
        k: v[:2] for k, v in config.baselines.image_qualities.items()}
    learned, base = self._run(config)
    self.assertEqual({r["arm"] for r in base}, {
        "jpeg", "webp", "jpeg2000", "jpegxl", "avif"})
    self.assertLen(base, 10)
    for r in base:
      self.assertGreater(float(r["psnr_db"]), 20)
      self.assertTrue(0 < float(r["ms_ssim"]) <= 1)
      # Rate = file bits / unique pixels; the summed rate is per view.
      self.assertAlmostEqual(float(r["op_bpd_sum"]), float(r["op_bpd_1"]) +
                             float(r["op_bpd_2"]), places=4)
      if r["arm"] != "jpegxl":
        self.assertLess(float(r["header_bits_1"]), float(r["op_bpd_1"]) *
                        48 * 732)
    self.assertIn("gap_db", learned[0])
    self.assertTrue(all(r["header_bits_1"] == 64.0 for r in learned))

  def test_eeg_quick_writes_signal_codec_rows(self):
    config = eeg_physionet.get_config("quick")
    learned, base = self._run(config)
    self.assertEqual({r["arm"] for r in base},
                     {"dwt", "dct", "klt_dwt", classical.LOSSLESS})
    lossless = [r for r in base if r["arm"] == classical.LOSSLESS][0]
    self.assertEqual(float(lossless["prd_pct"]), 0.0)
    self.assertTrue(4 < float(lossless["op_bpd_mean"]) < 12)
    prd = [float(r["prd_pct"]) for r in sorted(
        (r for r in base if r["arm"] == "klt_dwt"),
        key=lambda r: float(r["setting"]))]
    self.assertLen(prd, 3)
    self.assertLess(prd[0], prd[-1])  # a finer step, a smaller error
    test = [r for r in learned if r["split"] == "test"]
    self.assertTrue(all("gap_prd" in r for r in test))


if __name__ == "__main__":
  absltest.main()
