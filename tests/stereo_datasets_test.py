"""Stereo benchmark loaders on tiny PNGs written in each official layout."""

import os
import struct
import tempfile
import zlib

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from PIL import Image

from ndc_jax.stereo import datasets

CALIB = "cam0=[10 0 5; 0 10 4; 0 0 1]\ncam1=[10 0 7; 0 10 4; 0 0 1]\n" \
        "doffs=2.0\nbaseline=100.0\nwidth=80\nheight=40\n"


def _image(seed, hw=(40, 80)):
  return np.random.default_rng(seed).integers(0, 256, hw + (3,), np.uint8)


def _save(path, array):
  """PNG of the mode Pillow infers: [H, W] L or I;16, [H, W, 2|3|4] LA/RGB/A."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(array).save(path)


def _save_rgb16(path, array):
  """A 16-bit RGB PNG (Pillow cannot write one): IHDR, one IDAT, IEND."""
  h, w = array.shape[:2]
  raw = b"".join(b"\0" + array[r].astype(">u2").tobytes() for r in range(h))
  chunk = lambda t, d: (struct.pack(">I", len(d)) + t + d
                        + struct.pack(">I", zlib.crc32(t + d)))
  with open(path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _kitti_tree(root, version, scenes, frames=("10", "11"), hw=(40, 80)):
  """Writes a KITTI tree: scenes = {"training": [0, 1], "testing": [0]}."""
  left, right = datasets.KITTI_VIEW_DIRS[version][0]
  for half, ids in scenes.items():
    for scene in ids:
      for frame in frames:
        name = f"{scene:06d}_{frame}.png"
        seed = zlib.crc32(f"{version}{half}{scene}{frame}".encode())
        _save(os.path.join(root, half, left, name), _image(seed, hw))
        _save(os.path.join(root, half, right, name), _image(seed + 1, hw))
  return root


def _ndic_root(tmp):
  """2015: 3 training + 2 testing scenes; 2012: 2 + 3; frames 05, 10, 11."""
  _kitti_tree(os.path.join(tmp, datasets.KITTI_DIRS[2015]), 2015,
              {"training": [0, 1, 2], "testing": [0, 1]}, ("05", "10", "11"))
  _kitti_tree(os.path.join(tmp, datasets.KITTI_DIRS[2012]), 2012,
              {"training": [0, 1], "testing": [0, 1, 2]}, ("05", "10", "11"))
  return tmp


def _cityscapes_tree(root, counts=None):
  counts = counts or {"train": {"aachen": 2, "bonn": 1}, "val": {"lindau": 1},
                      "test": {"berlin": 1}}
  for split, cities in counts.items():
    for city, n in cities.items():
      for k in range(n):
        frame = f"{city}_{k:06d}_000019"
        _save(os.path.join(root, "leftImg8bit", split, city,
                           f"{frame}_leftImg8bit.png"), _image(2 * k))
        _save(os.path.join(root, "rightImg8bit", split, city,
                           f"{frame}_rightImg8bit.png"), _image(2 * k + 1))
  return root


def _middlebury_scene(root, name="Motorcycle-perfect"):
  scene = os.path.join(root, name)
  _save(os.path.join(scene, "im0.png"), _image(0))
  _save(os.path.join(scene, "im1.png"), _image(1))
  with open(os.path.join(scene, "calib.txt"), "w") as f:
    f.write(CALIB)
  return scene


class _TestCase(parameterized.TestCase):

  def _tmp(self):
    return self.enterContext(tempfile.TemporaryDirectory())


class LayoutTest(_TestCase):

  @parameterized.parameters(2012, 2015)
  def test_kitti_pairs_read_the_official_layout(self, version):
    root = _kitti_tree(self._tmp(), version,
                       {"training": [0, 1], "testing": [3]})
    left, right = datasets.KITTI_VIEW_DIRS[version][0]
    pairs = datasets.kitti_pairs(root, version, "training")
    self.assertEqual([p.id for p in pairs],
                     [f"kitti{version}/training/00000{k}_10/left"
                      for k in (0, 1)])
    self.assertEqual(pairs[0].x_path,
                     os.path.join(root, "training", left, "000000_10.png"))
    self.assertEqual(pairs[0].y_path,
                     os.path.join(root, "training", right, "000000_10.png"))
    x, y = datasets.load_pair(pairs[0])
    self.assertEqual(x.dtype, np.float32)
    np.testing.assert_array_equal(x, np.asarray(Image.open(pairs[0].x_path)))
    np.testing.assert_array_equal(y, np.asarray(Image.open(pairs[0].y_path)))
    both = datasets.kitti_pairs(root, version, "testing", ("10", "11"),
                                ("left", "right"))
    self.assertEqual([p.id for p in both],
                     [f"kitti{version}/testing/000003_{f}/{v}"
                      for v in ("left", "right") for f in ("10", "11")])
    self.assertEqual(both[2].x_path, both[0].y_path)  # Swapped direction.

  def test_cityscapes_pairs_and_ndic_resize(self):
    root = _cityscapes_tree(self._tmp())
    pairs = datasets.cityscapes_pairs(root, "train")
    self.assertEqual([p.id for p in pairs],
                     ["cityscapes/train/aachen_000000_000019",
                      "cityscapes/train/aachen_000001_000019",
                      "cityscapes/train/bonn_000000_000019"])
    self.assertIn("rightImg8bit", pairs[0].y_path)
    data = datasets.ndic_cityscapes(root)
    self.assertEqual({s: d.x.shape for s, d in data.items()},
                     {"train": (3, 128, 256, 3), "val": (1, 128, 256, 3),
                      "test": (1, 128, 256, 3)})
    expected = np.asarray(Image.open(pairs[0].x_path).resize(
        (256, 128), Image.Resampling.BILINEAR), np.float32)
    np.testing.assert_array_equal(data["train"].x[0], expected)
    self.assertEqual(data["val"].meta["y_files"],
                     ["rightImg8bit/val/lindau/lindau_000000_000019_"
                      "rightImg8bit.png"])

  def test_middlebury_scene_through_the_realdata_loader(self):
    root = self._tmp()
    scene = _middlebury_scene(root)
    _middlebury_scene(root, "Piano-perfect")
    self.assertEqual(datasets.middlebury_scene_dirs(root),
                     [scene, os.path.join(root, "Piano-perfect")])
    self.assertEqual(datasets.middlebury_scene_dirs(scene), [scene])
    data = datasets.load_middlebury(scene)
    self.assertEqual(data.x.shape, (1, 40, 80, 3))
    np.testing.assert_array_equal(data.x[0], _image(0))
    np.testing.assert_array_equal(data.y[0], _image(1))
    self.assertEqual(data.ids, ("middlebury2014/Motorcycle-perfect",))
    self.assertEqual(data.meta["calib"]["baseline"], 100.0)


class NdicProtocolTest(_TestCase):

  @parameterized.parameters(((375, 1242), (2, 251)), ((376, 1241), (3, 250)),
                            ((370, 1224), (0, 242)))
  def test_centre_crop_origin_rounds_as_torchvision(self, hw, origin):
    self.assertEqual(datasets.centre_crop_origin(*hw, (370, 740)), origin)

  def test_crop_takes_the_centre_pixels(self):
    root = _kitti_tree(self._tmp(), 2015,
                       {"training": [0]}, ("10",), hw=(25, 50))
    pair, = datasets.kitti_pairs(root, 2015)
    x, y = datasets.load_pair(pair, crop_hw=(20, 40))
    np.testing.assert_array_equal(
        x, np.asarray(Image.open(pair.x_path))[2:22, 5:45])
    np.testing.assert_array_equal(
        y, np.asarray(Image.open(pair.y_path))[2:22, 5:45])

  def test_default_crop_and_resize_give_128_by_256(self):
    root = _kitti_tree(self._tmp(), 2015,
                       {"training": [0]}, ("10", "11"), hw=(375, 1242))
    pairs = datasets.kitti_pairs(root, 2015, frames=("10", "11"))
    split = datasets.load_split(pairs, root, datasets.NDIC_KITTI_CROP_HW,
                                datasets.NDIC_RESIZE_HW)
    self.assertEqual(split.x.shape, (2, 128, 256, 3))
    self.assertEqual(split.y.shape, (2, 128, 256, 3))
    reference = Image.open(pairs[1].y_path).crop((251, 2, 991, 372)).resize(
        (256, 128), Image.Resampling.BILINEAR)
    np.testing.assert_array_equal(split.y[1], np.asarray(reference))
    self.assertTrue(np.all(split.x == np.round(split.x)))
    self.assertTrue(0 <= split.x.min() and split.x.max() <= 255)

  def test_default_split_counts_frames_and_directions(self):
    root = _ndic_root(self._tmp())
    pairs = datasets.ndic_kitti_pairs(root)
    # train: (3 + 2) scenes x 2 frames x 2 directions; val, test: 5 x 2.
    self.assertEqual({s: len(p) for s, p in pairs.items()},
                     {"train": 20, "val": 10, "test": 10})
    self.assertEqual(pairs["train"][:3], [
        datasets.PairFiles(
            f"kitti2015/training/{stem}/left",
            os.path.join(root, "data_scene_flow_multiview/training/image_2",
                         stem + ".png"),
            os.path.join(root, "data_scene_flow_multiview/training/image_3",
                         stem + ".png"))
        for stem in ("000000_10", "000000_11", "000001_10")])
    self.assertTrue(all(p.id.split("/")[2].endswith("_11")
                        for p in pairs["val"]))
    self.assertTrue(all("/testing/" in p.id and p.id.split("/")[2]
                        .endswith("_10") for p in pairs["test"]))
    self.assertEqual(pairs["test"][-1].id, "kitti2012/testing/000002_10/right")
    self.assertIn("colored_1", pairs["test"][-1].x_path)

  def test_split_counts_from_a_dsin_style_list(self):
    root = _ndic_root(self._tmp())
    lists = self._tmp()
    lines = {"train": ["data_scene_flow_multiview/training/image_2/000001_10",
                       "data_scene_flow_multiview/training/image_3/000001_10",
                       "data_scene_flow_multiview/training/image_3/000001_11",
                       "data_scene_flow_multiview/training/image_2/000001_11",
                       "data_stereo_flow_multiview/training/image_2/000000_10",
                       "data_stereo_flow_multiview/training/image_3/000000_10"],
             "val": ["data_stereo_flow_multiview/testing/colored_1/000002_11",
                     "data_stereo_flow_multiview/testing/colored_0/000002_11"],
             "test": ["data_scene_flow_multiview/testing/image_2/000000_10",
                      "", "data_scene_flow_multiview/testing/image_3/000000_10"]}
    for split, paths in lines.items():
      with open(os.path.join(lists, f"KITTI_stereo_{split}.txt"), "w") as f:
        f.write("".join(p + (".png\n" if p else "\n") for p in paths))
    data = datasets.ndic_kitti(root, lists, crop_hw=(32, 64),
                               resize_hw=(16, 32))
    self.assertEqual({s: d.x.shape[0] for s, d in data.items()},
                     {"train": 3, "val": 1, "test": 1})
    self.assertEqual(data["train"].x.shape[1:], (16, 32, 3))
    self.assertEqual(data["train"].ids[1:], (
        "kitti2015/training/000001_11/right",
        "kitti2012/training/000000_10/left"))
    # DSIN's 2012 image_2 names the official colored_0.
    self.assertEqual(data["train"].meta["x_files"][2],
                     "data_stereo_flow_multiview/training/colored_0/"
                     "000000_10.png")
    self.assertEqual(data["val"].ids, ("kitti2012/testing/000002_11/right",))

  def test_split_list_round_trip_and_determinism(self):
    root = _ndic_root(self._tmp())
    lists = self._tmp()
    default = datasets.ndic_kitti_pairs(root)
    for split, pairs in default.items():
      datasets.write_split_list(
          os.path.join(lists, f"KITTI_stereo_{split}.txt"), pairs, root)
    self.assertEqual(datasets.ndic_kitti_pairs(root, lists), default)
    first = datasets.ndic_kitti(root, crop_hw=(32, 64), resize_hw=(16, 32),
                                splits=("val",))["val"]
    again = datasets.ndic_kitti(root, lists, crop_hw=(32, 64),
                                resize_hw=(16, 32), splits=("val",))["val"]
    np.testing.assert_array_equal(first.x, again.x)
    np.testing.assert_array_equal(first.y, again.y)
    self.assertEqual(first.ids, again.ids)
    self.assertEqual(first.meta["num_pairs"], 10)
    self.assertEqual(first.meta["crop_hw"], [32, 64])

  def test_split_list_follows_the_umask(self):
    # mkstemp's 0o600 must not reach the list (another user reads it).
    root = _ndic_root(self._tmp())
    path = os.path.join(self._tmp(), "KITTI_stereo_val.txt")
    old = os.umask(0o022)
    try:
      datasets.write_split_list(path, datasets.ndic_kitti_pairs(
          root, splits=("val",))["val"], root)
    finally:
      os.umask(old)
    self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)
    self.assertEqual(os.listdir(os.path.dirname(path)), ["KITTI_stereo_val.txt"])


class BadInputTest(_TestCase):

  def setUp(self):
    super().setUp()
    self.root = _kitti_tree(self._tmp(), 2015,
                            {"training": [0]}, ("10",))
    self.pair, = datasets.kitti_pairs(self.root, 2015)

  def assert_raises_naming(self, error, fragments, fn, *args, **kwargs):
    with self.assertRaises(error) as ctx:
      fn(*args, **kwargs)
    for fragment in fragments:
      self.assertIn(fragment, str(ctx.exception))
    return ctx.exception

  def test_missing_directories_raise_a_file_not_found_value_error(self):
    missing = os.path.join(self.root, "nowhere")
    e = self.assert_raises_naming(FileNotFoundError, [missing],
                                  datasets.kitti_pairs, missing, 2015)
    self.assertIsInstance(e, ValueError)
    os.rename(os.path.join(self.root, "training", "image_3"),
              os.path.join(self.root, "training", "elsewhere"))
    self.assert_raises_naming(ValueError, ["image_3", "image_2/ + image_3/"],
                              datasets.kitti_pairs, self.root, 2015)
    self.assert_raises_naming(ValueError, ["leftImg8bit"],
                              datasets.cityscapes_pairs, self.root, "train")
    self.assert_raises_naming(ValueError, ["2012 or 2015"],
                              datasets.kitti_pairs, self.root, 2016)

  def test_left_view_without_right_view(self):
    os.remove(self.pair.y_path)
    self.assert_raises_naming(ValueError, [self.pair.x_path, self.pair.y_path],
                              datasets.kitti_pairs, self.root, 2015)
    city = _cityscapes_tree(self._tmp())
    right = os.path.join(city, "rightImg8bit", "val", "lindau",
                         "lindau_000000_000019_rightImg8bit.png")
    os.remove(right)
    self.assert_raises_naming(ValueError, [right], datasets.cityscapes_pairs,
                              city, "val")

  def test_views_of_different_sizes(self):
    _save(self.pair.y_path, _image(5, (40, 81)))
    self.assert_raises_naming(ValueError, [self.pair.x_path, self.pair.y_path,
                                           "40x80", "40x81"],
                              datasets.load_pair, self.pair)

  @parameterized.named_parameters(
      ("grey", lambda: _image(0)[..., 0], "8-bit grey"),
      ("grey_alpha", lambda: _image(0)[..., :2], "8-bit grey+alpha"),
      ("rgba", lambda: np.dstack([_image(0), _image(1)[..., :1]]),
       "8-bit RGBA"),
      ("grey_16_bit", lambda: _image(0)[..., 0].astype(np.uint16) * 257,
       "16-bit grey"))
  def test_non_rgb8_views_are_refused(self, make, described):
    _save(self.pair.y_path, make())
    self.assert_raises_naming(ValueError, [self.pair.y_path, described,
                                           "8-bit RGB PNGs only"],
                              datasets.load_pair, self.pair)

  def test_16_bit_rgb_is_refused_though_pillow_would_truncate_it(self):
    _save_rgb16(self.pair.x_path, _image(0).astype(np.uint16) * 257)
    self.assertEqual(Image.open(self.pair.x_path).mode, "RGB")
    self.assert_raises_naming(ValueError, [self.pair.x_path, "16-bit RGB"],
                              datasets.load_pair, self.pair)

  def test_not_a_png(self):
    with open(self.pair.x_path, "wb") as f:
      f.write(b"GIF89a" + bytes(40))
    self.assert_raises_naming(ValueError, [self.pair.x_path, "not a PNG"],
                              datasets.load_pair, self.pair)

  @parameterized.parameters((41, 80), (40, 81), (370, 740))
  def test_crop_larger_than_the_image(self, *crop_hw):
    self.assert_raises_naming(ValueError, [self.pair.x_path, "40x80",
                                           "at most (40, 80)"],
                              datasets.load_pair, self.pair, crop_hw)

  @parameterized.parameters((0, 10), (10,), (1.5, 2), (True, 2), (-1, 5))
  def test_bad_crop_and_resize_values(self, *hw):
    for name in ("crop_hw", "resize_hw"):
      self.assert_raises_naming(ValueError, [name, "two ints >= 1"],
                                datasets.load_pair, self.pair,
                                **{name: tuple(hw)})

  def test_stacking_full_resolution_pairs_of_different_sizes(self):
    _kitti_tree(self.root, 2015, {"training": [1]}, ("10",), hw=(42, 80))
    pairs = datasets.kitti_pairs(self.root, 2015)
    self.assert_raises_naming(ValueError, [pairs[1].x_path, "crop_hw"],
                              datasets.load_split, pairs, self.root)
    self.assertEqual(datasets.load_split(pairs, self.root, (40, 80)).x.shape,
                     (2, 40, 80, 3))
    shapes = [x.shape for _, x, _ in datasets.iter_pairs(pairs)]
    self.assertEqual(shapes, [(40, 80, 3), (42, 80, 3)])

  def _list(self, *lines):
    path = os.path.join(self._tmp(), "list.txt")
    with open(path, "w") as f:
      f.write("".join(line + "\n" for line in lines))
    return path

  def test_split_lists_naming_absent_or_malformed_pairs(self):
    root = _ndic_root(self._tmp())
    base = "data_scene_flow_multiview/training/image_{}/{}_10.png"
    absent = self._list(base.format(2, "000000"), base.format(3, "000000"),
                        base.format(2, "000007"), base.format(3, "000007"))
    self.assert_raises_naming(ValueError, [absent + ":3", "000007_10.png",
                                           "not present"],
                              datasets.read_split_list, absent, root)
    odd = self._list(base.format(2, "000000"))
    self.assert_raises_naming(ValueError, [odd, "1 paths", "even"],
                              datasets.read_split_list, odd, root)
    grey = self._list(base.format(2, "000000"), base.format(1, "000000"))
    self.assert_raises_naming(ValueError, [grey + ":2", "image_1"],
                              datasets.read_split_list, grey, root)
    same = self._list(base.format(2, "000000"), base.format(2, "000000"))
    self.assert_raises_naming(ValueError, [same + ":1-2", "left and right"],
                              datasets.read_split_list, same, root)
    frames = self._list(base.format(2, "000000"),
                        base.format(3, "000000").replace("_10", "_11"))
    self.assert_raises_naming(ValueError, [frames + ":1-2", "one KITTI frame"],
                              datasets.read_split_list, frames, root)
    empty = self._list()
    self.assert_raises_naming(ValueError, [empty, "0 paths"],
                              datasets.read_split_list, empty, root)
    missing = os.path.join(root, "KITTI_stereo_val.txt")
    self.assert_raises_naming(FileNotFoundError, [missing],
                              datasets.ndic_kitti_pairs, root, root, ("val",))

  def test_empty_splits(self):
    self.assert_raises_naming(ValueError, ["image_2", "('11',)"],
                              datasets.kitti_pairs, self.root, 2015,
                              frames=("11",))
    self.assert_raises_naming(ValueError, ["'test'", "empty"],
                              datasets.load_split, [], self.root,
                              meta={"split": "test"})
    city = self._tmp()
    os.makedirs(os.path.join(city, "leftImg8bit", "val", "lindau"))
    os.makedirs(os.path.join(city, "rightImg8bit", "val"))
    self.assert_raises_naming(ValueError, ["leftImg8bit", "no *_leftImg8bit"],
                              datasets.cityscapes_pairs, city, "val")
    self.assert_raises_naming(ValueError, ["no scene directory"],
                              datasets.middlebury_scene_dirs, city)
    self.assert_raises_naming(ValueError, ["splits=", "'train'"],
                              datasets.ndic_kitti_pairs, city,
                              splits=("training",))

  def test_middlebury_missing_or_grey_view(self):
    scene = _middlebury_scene(self._tmp())
    _save(os.path.join(scene, "im1.png"), _image(1)[..., 0])
    self.assert_raises_naming(ValueError, ["im1.png", "8-bit grey"],
                              datasets.load_middlebury, scene)
    os.remove(os.path.join(scene, "im1.png"))
    self.assert_raises_naming(FileNotFoundError, ["im1.png"],
                              datasets.load_middlebury, scene)


if __name__ == "__main__":
  absltest.main()
