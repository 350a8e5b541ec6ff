"""The stereo job end to end on its `:quick` config: the launcher's job
registry finds it, every arm and classical codec lands in rd.csv with real
rates, the figures are written, and the printed table has the learned
rows."""

import os
import tempfile

import numpy as np
from absl.testing import absltest

from experiments.configs import stereo_conv
from ndc_jax import jobs
from ndc_jax.core import results
from ndc_jax.stereo import job


class JobTest(absltest.TestCase):

  def test_quick_run_writes_learned_and_classical_rows(self):
    config = stereo_conv.get_config("quick")
    self.assertIs(jobs.get(config), job)
    workdir = tempfile.mkdtemp()
    rows = job.train_and_evaluate(config, workdir)
    table = results.read_csv(os.path.join(workdir, "rd.csv"))
    self.assertEqual(list(table[0]), list(job.COLUMNS))
    learned = [r for r in table if r["kind"] == "learned"]
    self.assertEqual(sorted(r["arm"] for r in learned), sorted(config.arms))
    self.assertEqual({r["arm"] for r in table if r["kind"] == "baseline"},
                     set(config.baselines.codecs))
    h, w = 50, 741  # the Motorcycle test band, coded as one image
    for r in learned:
      bpp, head = float(r["bpp"]), float(r["header_bits"])
      # A whole number of bytes, more than the header, over H·W pixels.
      self.assertAlmostEqual(bpp * h * w / 8, round(bpp * h * w / 8), 2)
      self.assertGreater(bpp * h * w, head)
      self.assertTrue(np.isfinite(float(r["psnr_db"])))
      self.assertTrue(0.0 < float(r["ms_ssim"]) <= 1.0)
    ndic = next(r for r in learned if r["arm"] == "ndic")
    self.assertEqual(ndic["fusion"], "concat")
    for name in ("rd.png", "reconstructions.png", "summary.json",
                 "metrics.jsonl", "params/ndic.npz"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    text = job.format_table(rows, config)
    self.assertEqual(len(text.splitlines()), 1 + len(learned))


if __name__ == "__main__":
  absltest.main()
