"""The stereo job end to end on its `:quick` config: the launcher's job
registry finds it, every arm and classical codec lands in rd.csv with real
rates, the figures are written, and the printed table has the learned
rows; on Motorcycle and on a tiny KITTI-layout tree (every test pair
coded), with the data checks before anything is written."""

import json
import os
import tempfile

import numpy as np
from absl.testing import absltest

from experiments.configs import stereo_conv
from ndc_jax import jobs
from ndc_jax.core import results
from ndc_jax.stereo import datasets, job
import stereo_datasets_test as layouts  # tiny PNG trees in each layout


def kitti_config(root, **data):
  """:quick on a KITTI 2015 tree of 32 x 64 pairs (crop = resize = 32 x 64,
  so the 40 x 80 PNGs of `layouts` are centre-cropped, not resampled)."""
  config = stereo_conv.get_config("quick")
  config.data.update(dict(name="kitti", path=root, versions=(2015,),
                          crop_hw=(32, 64), resize_hw=(32, 64)), **data)
  return config


def kitti_root():
  """2 training scenes (frames 10, 11) and 2 testing scenes: 8 training
  pairs and 4 test pairs (frame 10, both directions)."""
  root = tempfile.mkdtemp()
  layouts._kitti_tree(os.path.join(root, datasets.KITTI_DIRS[2015]), 2015,
                      {"training": [0, 1], "testing": [0, 1]})
  return root


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
      # A whole number of bytes, the header included, over H·W pixels (the
      # 4-step model may round every latent of the smooth band to 0: an
      # empty ANS stream).
      self.assertAlmostEqual(bpp * h * w / 8, round(bpp * h * w / 8), 2)
      self.assertGreaterEqual(round(bpp * h * w), head)
      self.assertTrue(np.isfinite(float(r["psnr_db"])))
      self.assertTrue(0.0 < float(r["ms_ssim"]) <= 1.0)
    ndic = next(r for r in learned if r["arm"] == "ndic")
    self.assertEqual(ndic["fusion"], "concat")
    for name in ("rd.png", "reconstructions.png", "summary.json",
                 "metrics.jsonl", "params/ndic.npz"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    text = job.format_table(rows, config)
    self.assertEqual(len(text.splitlines()), 1 + len(learned))


  def test_kitti_run_codes_every_test_pair(self):
    root = kitti_root()
    workdir = tempfile.mkdtemp()
    config = kitti_config(root)
    job.train_and_evaluate(config, workdir)
    table = results.read_csv(os.path.join(workdir, "rd.csv"))
    learned = [r for r in table if r["kind"] == "learned"]
    self.assertEqual(sorted(r["arm"] for r in learned), sorted(config.arms))
    self.assertEqual({r["arm"] for r in table if r["kind"] == "baseline"},
                     set(config.baselines.codecs))
    for r in table:
      for col in ("bpp", "psnr_db", "ms_ssim", "header_bits"):
        self.assertTrue(np.isfinite(float(r[col])), (r["arm"], col))
    split = datasets.ndic_kitti_pairs(root, splits=("test",),
                                      versions=(2015,))["test"]
    self.assertLen(split, 4)
    with open(os.path.join(workdir, "summary.json")) as f:
      summary = json.load(f)
    self.assertEqual(summary["num_test_images"], len(split))
    self.assertEqual(summary["test_shape"], [32, 64, 3])
    self.assertIn("means over the 4 test image(s)", summary["notes"]["means"])
    with open(os.path.join(workdir, "config.json")) as f:
      test_meta = json.load(f)["data"]["test"]
    self.assertEqual(test_meta["x_files"],
                     [os.path.relpath(p.x_path, root) for p in split])

  def test_max_test_images_codes_the_first_pairs(self):
    config = kitti_config(kitti_root(), max_test_images=3)
    d = job.load_data(config.data)
    self.assertEqual(d["train"][0].shape, (8, 32, 64, 3))
    self.assertEqual(d["test"][0].shape, (3, 32, 64, 3))
    self.assertEqual((d["meta"]["num_test_images"],
                      d["meta"]["num_test_pairs_in_split"]), (3, 4))
    self.assertLen(d["meta"]["test"]["x_files"], 3)
    self.assertGreaterEqual(float(d["train"][0].min()), 0.0)
    self.assertLessEqual(float(d["train"][0].max()), 1.0)

  def test_cityscapes_layout_loads_train_and_test(self):
    root = layouts._cityscapes_tree(tempfile.mkdtemp())
    config = stereo_conv.get_config("quick")
    config.data.update(dict(name="cityscapes", path=root,
                            resize_hw=(32, 64)))
    d = job.load_data(config.data)
    self.assertEqual(d["train"][1].shape, (3, 32, 64, 3))
    self.assertEqual(d["test"][1].shape, (1, 32, 64, 3))

  def assert_refused_before_writing(self, config, error, pattern):
    workdir = os.path.join(tempfile.mkdtemp(), "run")
    with self.assertRaisesRegex(error, pattern):
      job.train_and_evaluate(config, workdir)
    self.assertFalse(os.path.exists(workdir))

  def test_bad_data_is_refused_before_anything_is_written(self):
    self.assert_refused_before_writing(
        kitti_config("/nonexistent/kitti"), datasets.StereoFileNotFoundError,
        "/nonexistent/kitti.*does not exist")
    self.assert_refused_before_writing(
        kitti_config(""), ValueError, r"config.data.path=''; data.name="
        "'kitti' needs the dataset's root directory")
    self.assert_refused_before_writing(
        kitti_config(kitti_root(), resize_hw=(8, 16)), ValueError,
        r"train.crop=\(16, 32\) does not fit the training images of 8x16 px")
    self.assert_refused_before_writing(
        kitti_config(kitti_root(), crop_hw=(48, 64)), ValueError,
        r"crop_hw=\(48, 64\) does not fit .*000000_10.png, which is 40x80")
    self.assert_refused_before_writing(
        kitti_config(kitti_root(), max_test_images=-1), ValueError,
        r"max_test_images=-1; allowed: an int >= 1")
    root = kitti_root()
    layouts._save(os.path.join(root, datasets.KITTI_DIRS[2015], "testing",
                               "image_3", "000001_10.png"),
                  layouts._image(0, (40, 72)))
    self.assert_refused_before_writing(
        kitti_config(root), ValueError, r"000001_10.png is 40x80 but .*"
        r"000001_10.png is 40x72 .*must be equal sizes")
    motorcycle = stereo_conv.get_config("quick")
    motorcycle.data.path = "/data/kitti"
    self.assert_refused_before_writing(
        motorcycle, ValueError, r"config.data.path='/data/kitti' is for "
        "data.name='kitti' or 'cityscapes'")
    cityscapes = stereo_conv.get_config("quick")
    cityscapes.data.update(dict(name="cityscapes", path="/data/cityscapes",
                                crop_hw=(370, 740)))
    self.assert_refused_before_writing(
        cityscapes, ValueError, r"config.data.crop_hw=\(370, 740\) is for "
        "data.name='kitti'")
    unknown = stereo_conv.get_config("quick")
    unknown.data.name = "sintel"
    self.assert_refused_before_writing(
        unknown, ValueError, r"config.data.name='sintel' is unknown; allowed: "
        r"\('cityscapes', 'kitti', 'motorcycle'\)")


if __name__ == "__main__":
  absltest.main()
