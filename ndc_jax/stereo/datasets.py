"""Stereo benchmark loaders: KITTI Stereo 2012/2015, Cityscapes, Middlebury 2014.

A pair is (x, y): x the view the encoder codes, y the other view, which only
the decoder sees (side information). Loaded images are float32 [H, W, 3] in
[0, 255] (8-bit RGB intensities, integer-valued), colour, at full resolution
unless a protocol crops or resizes.

The NDIC protocol (Mital, Ozyilkan, Garjani, Gündüz, "Neural distributed image
compression using common information", DCC 2022, arXiv:2106.11723; code
github.com/ipc-lab/NDIC, dataset/PairKitti.py and PairCityscape.py):
* KITTI: centre crop 370 x 740 (torchvision's center_crop: top =
  round((H - 370) / 2), left = round((W - 740) / 2), Python rounding), then
  resize to 128 x 256 with PIL bilinear (torchvision's TF.resize default on PIL
  images; PIL widens the bilinear kernel when downscaling, so it antialiases),
  on the 8-bit images. Split lists: NDIC reads dataset/data_paths/
  KITTI_stereo_{train,val,test}.txt, the lists of DSIN (Ayzik & Avidan 2020,
  github.com/ayziksha/DSIN, data_paths/): two lines per pair, x's path then
  y's, relative to a root holding data_stereo_flow_multiview/ (KITTI 2012) and
  data_scene_flow_multiview/ (KITTI 2015). They hold train = every training
  scene of both sets at frames 10 and 11 in both directions (x = left and
  x = right), 2 * 2 * (200 + 194) = 1576 pairs; val = every testing scene at
  frame 11 in both directions, 2 * (200 + 195) = 790; test = the same scenes
  at frame 10, 790 (val and test share scenes, one frame apart; the three
  lists' lengths, 181216 / 89260 / 89260 bytes, are exactly these sets').
  Without a list, `ndic_kitti_pairs` builds these splits from the
  directories, sorted (2015 before 2012, x = left before x = right, then
  scene, then frame).
  DSIN's lists name the KITTI 2012 views image_2/ and image_3/; the official
  2012 names are colored_0/ and colored_1/, and either is read.
* Cityscapes: the whole 1024 x 2048 frame resized to 128 x 256 (PIL bilinear),
  no crop; the official train/val/test folders (2975/500/1525 pairs), x = left
  (leftImg8bit), y = right (rightImg8bit).
NDIC also flips training pairs horizontally at random: augmentation, left to
the trainer.

Images must be 8-bit RGB PNGs (bit depth 8, colour type 2, read from the PNG
header): grey, grey+alpha, RGBA, palette and 16-bit PNGs are refused, not
converted (Pillow would silently truncate 16-bit RGB to 8 bits). Bad input
raises ValueError naming the file and the sizes or values allowed; a missing
file or directory raises `StereoFileNotFoundError`, a FileNotFoundError that
is also a ValueError.

Licences: KITTI, CC BY-NC-SA 3.0 (cite Geiger et al. CVPR 2012 and Menze &
Geiger CVPR 2015); Cityscapes, its own non-commercial research licence (cite
Cordts et al. CVPR 2016); Middlebury, see ndc_jax/data/stereo.py.
"""

import os
import re
import struct
from typing import Any, Iterator, Mapping, NamedTuple, Optional, Sequence

import numpy as np
from PIL import Image

from ndc_jax.core import results
from ndc_jax.data import stereo as middlebury

NDIC_KITTI_CROP_HW = (370, 740)
NDIC_RESIZE_HW = (128, 256)
RESAMPLING = "PIL bilinear (Image.Resampling.BILINEAR; antialiased downscale)"
UNITS = "8-bit RGB intensity as float32 in [0, 255]"
NDIC = ("Mital, Ozyilkan, Garjani, Gündüz. Neural distributed image "
        "compression using common information. DCC 2022 (arXiv:2106.11723)")
KITTI_CITATION = ("A. Geiger, P. Lenz, R. Urtasun. Are we ready for "
                  "autonomous driving? The KITTI vision benchmark suite. CVPR "
                  "2012; M. Menze, A. Geiger. Object scene flow for "
                  "autonomous vehicles. CVPR 2015")
CITYSCAPES_CITATION = ("M. Cordts et al. The Cityscapes dataset for semantic "
                       "urban scene understanding. CVPR 2016")
# The KITTI trees under an NDIC root, and each set's (left, right) colour view
# directories: official names first, DSIN's list names for 2012 second.
KITTI_DIRS = {2012: "data_stereo_flow_multiview",
              2015: "data_scene_flow_multiview"}
KITTI_VIEW_DIRS = {2012: (("colored_0", "colored_1"), ("image_2", "image_3")),
                   2015: (("image_2", "image_3"),)}
# NDIC split -> (KITTI half, frames), as DSIN's lists hold them.
NDIC_KITTI_SPLITS = {"train": ("training", ("10", "11")),
                     "val": ("testing", ("11",)),
                     "test": ("testing", ("10",))}
NDIC_LIST_NAME = "KITTI_stereo_{split}.txt"
CITYSCAPES_SPLITS = ("train", "val", "test")
_FRAME_RE = re.compile(r"(\d{6})_(\d{2})\.png")
_LIST_RE = re.compile(r"(data_stereo_flow_multiview|data_scene_flow_multiview)/"
                      r"(training|testing)/(\w+)/(\d{6}_\d{2}\.png)")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOURS = {0: "grey", 2: "RGB", 3: "palette", 4: "grey+alpha", 6: "RGBA"}


class StereoFileNotFoundError(FileNotFoundError, ValueError):
  """A file or directory a loader needs is missing (says the layout)."""


class PairFiles(NamedTuple):
  """One stereo pair on disk: x_path the coded view, y_path the other view."""
  id: str
  x_path: str
  y_path: str


class StereoSplit(NamedTuple):
  """One split of pairs, stacked.

  Attributes:
    x: [N, H, W, 3] float32 in [0, 255], the views the encoder codes.
    y: [N, H, W, 3] float32 in [0, 255], the decoder's side information.
    ids: N pair ids (e.g. "kitti2015/training/000000_10/left": x is the left
      view), row k of x and y is pair ids[k].
    meta: JSON-serialisable: dataset, split, root, protocol, crop_hw,
      resize_hw, resampling, units, num_pairs, x_files and y_files (relative
      to root), citation, licence.
  """
  x: np.ndarray
  y: np.ndarray
  ids: tuple[str, ...]
  meta: Mapping[str, Any]


def png_header(path: str) -> tuple[int, int, int, str]:
  """(height, width, bit depth, colour type name) from a PNG's IHDR chunk."""
  try:
    with open(path, "rb") as f:
      head = f.read(26)
  except FileNotFoundError as e:
    raise StereoFileNotFoundError(f"{path!r} does not exist") from e
  if len(head) < 26 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
    raise ValueError(f"{path}: not a PNG file; the stereo loaders read 8-bit "
                     "RGB PNGs")
  width, height = struct.unpack(">II", head[16:24])
  return height, width, head[24], _PNG_COLOURS.get(head[25], str(head[25]))


def rgb8_size(path: str) -> tuple[int, int]:
  """(height, width) of an 8-bit RGB PNG; ValueError for any other PNG."""
  height, width, depth, colour = png_header(path)
  if (depth, colour) != (8, "RGB"):
    raise ValueError(
        f"{path}: {depth}-bit {colour} PNG; the stereo loaders take 8-bit RGB "
        "PNGs only (bit depth 8, colour type 2), as KITTI, Cityscapes and "
        "Middlebury ship their colour images (KITTI 2012: colored_0/1, not "
        "the grey image_0/1); convert it to 8-bit RGB first")
  return height, width


def _check_hw(name: str, hw: Optional[Sequence[int]]) -> Optional[tuple]:
  if hw is None:
    return None
  if (len(hw) != 2 or any(isinstance(v, bool) or not isinstance(v, int)
                          or v < 1 for v in hw)):
    raise ValueError(f"{name}={hw!r} is invalid; it must be None or "
                     "(height, width), two ints >= 1")
  return tuple(hw)


def centre_crop_origin(height: int, width: int,
                       crop_hw: Sequence[int]) -> tuple[int, int]:
  """(top, left) of torchvision's center_crop: round((size - crop) / 2)."""
  return (int(round((height - crop_hw[0]) / 2.0)),
          int(round((width - crop_hw[1]) / 2.0)))


def check_pair(pair: PairFiles,
               crop_hw: Optional[Sequence[int]] = None) -> tuple[int, int]:
  """(height, width) of a pair from its PNG headers, after the checks.

  Raises:
    ValueError: a view is not an 8-bit RGB PNG, the views differ in size, or
      crop_hw does not fit (each names the file and the sizes allowed).
  """
  size, y_size = rgb8_size(pair.x_path), rgb8_size(pair.y_path)
  if y_size != size:
    raise ValueError(f"pair {pair.id}: {pair.x_path} is {size[0]}x{size[1]} "
                     f"but {pair.y_path} is {y_size[0]}x{y_size[1]} (height "
                     "x width); the two views of a pair must be equal sizes")
  if crop_hw is not None and (crop_hw[0] > size[0] or crop_hw[1] > size[1]):
    raise ValueError(f"crop_hw={tuple(crop_hw)} does not fit {pair.x_path}, "
                     f"which is {size[0]}x{size[1]} (height x width); the "
                     f"crop must be at most ({size[0]}, {size[1]})")
  return size


def load_pair(pair: PairFiles, crop_hw: Optional[Sequence[int]] = None,
              resize_hw: Optional[Sequence[int]] = None
              ) -> tuple[np.ndarray, np.ndarray]:
  """(x, y), each float32 [H, W, 3] in [0, 255]: centre crop, then resize.

  Args:
    pair: the two PNG files.
    crop_hw: (height, width) of the centre crop in pixels, at most the image
      size; None keeps the whole image.
    resize_hw: (height, width) after PIL bilinear resampling; None keeps size.

  Raises:
    ValueError: as `check_pair`, or a bad crop_hw / resize_hw.
  """
  crop_hw = _check_hw("crop_hw", crop_hw)
  resize_hw = _check_hw("resize_hw", resize_hw)
  height, width = check_pair(pair, crop_hw)
  views = []
  for path in (pair.x_path, pair.y_path):
    with Image.open(path) as image:
      if crop_hw is not None:
        top, left = centre_crop_origin(height, width, crop_hw)
        image = image.crop((left, top, left + crop_hw[1], top + crop_hw[0]))
      if resize_hw is not None:
        image = image.resize(resize_hw[::-1], Image.Resampling.BILINEAR)
      views.append(np.asarray(image, np.float32))
  return views[0], views[1]


def iter_pairs(pairs: Sequence[PairFiles],
               crop_hw: Optional[Sequence[int]] = None,
               resize_hw: Optional[Sequence[int]] = None
               ) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
  """Lazily yields (id, x, y) per pair, as `load_pair` (any image sizes)."""
  for pair in pairs:
    yield (pair.id,) + load_pair(pair, crop_hw, resize_hw)


def load_split(pairs: Sequence[PairFiles], root: str,
               crop_hw: Optional[Sequence[int]] = None,
               resize_hw: Optional[Sequence[int]] = None,
               meta: Optional[Mapping[str, Any]] = None) -> StereoSplit:
  """Loads and stacks pairs (eagerly) into a StereoSplit.

  Args:
    pairs: at least one pair; after crop/resize all must share one size.
    root: the dataset root (meta's x_files / y_files are relative to it).
    crop_hw, resize_hw: as `load_pair`.
    meta: fields merged into the split's meta (dataset, split, protocol...).

  Raises:
    ValueError: no pairs, or pairs of different sizes (names both files;
      give crop_hw / resize_hw, or use `iter_pairs`), or as `load_pair`.
  """
  meta = dict(meta or {})
  if not pairs:
    raise ValueError(f"split {meta.get('split')!r} of {root} is empty; it "
                     "needs at least one pair")
  x = y = None
  for k, (pair_id, xk, yk) in enumerate(iter_pairs(pairs, crop_hw, resize_hw)):
    if x is None:
      x = np.empty((len(pairs),) + xk.shape, np.float32)  # [N, H, W, 3]
      y = np.empty_like(x)
    elif xk.shape != x.shape[1:]:
      raise ValueError(
          f"pair {pair_id} ({pairs[k].x_path}) is {xk.shape[:2]} (height, "
          f"width) after crop_hw={crop_hw}, resize_hw={resize_hw}, but "
          f"{pairs[0].x_path} is {x.shape[1:3]}; a stacked split needs one "
          "size: give crop_hw or resize_hw, or use iter_pairs")
    x[k], y[k] = xk, yk
  meta.update(
      root=root, crop_hw=None if crop_hw is None else list(crop_hw),
      resize_hw=None if resize_hw is None else list(resize_hw),
      resampling=RESAMPLING if resize_hw is not None else None, units=UNITS,
      num_pairs=len(pairs),
      x_files=[os.path.relpath(p.x_path, root) for p in pairs],
      y_files=[os.path.relpath(p.y_path, root) for p in pairs])
  return StereoSplit(x, y, tuple(p.id for p in pairs), meta)


def _require_dir(path: str, layout: str) -> None:
  if not os.path.isdir(path):
    raise StereoFileNotFoundError(f"directory {path!r} does not exist; "
                                  f"expected {layout}")


def kitti_pairs(root: str, version: int, half: str = "training",
                frames: Sequence[str] = ("10",),
                x_views: Sequence[str] = ("left",)) -> list[PairFiles]:
  """The pairs of one KITTI Stereo 2012 or 2015 tree, in its official layout.

  Args:
    root: the directory holding training/ and testing/ (2012: colored_0/ and
      colored_1/ (or DSIN's image_2/, image_3/); 2015: image_2/, image_3/),
      files <scene:6 digits>_<frame:2 digits>.png.
    version: 2012 or 2015.
    half: "training" or "testing".
    frames: frame numbers to take ("10" is the benchmark frame; the flow
      frame "11" and the multiview frames "00".."20" also exist).
    x_views: "left" (x = left view, y = right) and/or "right" (swapped), in
      this order; then sorted by scene and frame.

  Raises:
    StereoFileNotFoundError: a directory is missing, or a left view has no
      right view (names both).
    ValueError: bad arguments, or no pairs.
  """
  if version not in KITTI_VIEW_DIRS or half not in ("training", "testing"):
    raise ValueError(f"version={version!r}, half={half!r}; version must be "
                     "2012 or 2015 and half 'training' or 'testing'")
  if not set(x_views) <= {"left", "right"} or not x_views:
    raise ValueError(f"x_views={x_views!r}; allowed: 'left', 'right'")
  layout = (f"KITTI {version}: {half}/" + " or ".join(
      f"{a}/ + {b}/" for a, b in KITTI_VIEW_DIRS[version]) +
            " holding <scene>_<frame>.png")
  _require_dir(root, f"a KITTI {version} directory holding training/ and "
               "testing/")
  _require_dir(os.path.join(root, half), layout)
  view_dirs = next(((os.path.join(root, half, a), os.path.join(root, half, b))
                    for a, b in KITTI_VIEW_DIRS[version]
                    if os.path.isdir(os.path.join(root, half, a))), None)
  if view_dirs is None:
    raise StereoFileNotFoundError(f"{os.path.join(root, half)!r} has no left "
                                  f"view directory; expected {layout}")
  _require_dir(view_dirs[1], layout)
  stems = sorted(name[:-4] for name in os.listdir(view_dirs[0])
                 if (m := _FRAME_RE.fullmatch(name)) and m.group(2) in frames)
  for stem in stems:
    if not os.path.isfile(os.path.join(view_dirs[1], stem + ".png")):
      raise StereoFileNotFoundError(
          f"{os.path.join(view_dirs[0], stem + '.png')} has no right view "
          f"{os.path.join(view_dirs[1], stem + '.png')!r}")
  if not stems:
    raise ValueError(f"{view_dirs[0]} holds no frames {tuple(frames)} "
                     "(<scene:6 digits>_<frame>.png)")
  pairs = []
  for view in x_views:
    x_dir, y_dir = view_dirs if view == "left" else view_dirs[::-1]
    pairs += [PairFiles(f"kitti{version}/{half}/{stem}/{view}",
                        os.path.join(x_dir, stem + ".png"),
                        os.path.join(y_dir, stem + ".png")) for stem in stems]
  return pairs


def _list_entry(list_path: str, line_no: int, rel: str, root: str):
  """(version, half, stem, view 'left'|'right', resolved path) of a list line."""
  m = _LIST_RE.fullmatch(rel)
  version = {v: k for k, v in KITTI_DIRS.items()}[m.group(1)] if m else None
  if m is None or not any(m.group(3) in pair
                          for pair in KITTI_VIEW_DIRS[version]):
    raise ValueError(f"{list_path}:{line_no}: {rel!r} is not a KITTI colour "
                     "view path; lines must read <data_stereo_flow_multiview"
                     "|data_scene_flow_multiview>/<training|testing>/<view "
                     "dir>/<scene>_<frame>.png, view dirs (left, right) "
                     f"{KITTI_VIEW_DIRS}")
  tree, half, view_dir, name = m.groups()
  side = next(pair.index(view_dir) for pair in KITTI_VIEW_DIRS[version]
              if view_dir in pair)  # 0 = left, 1 = right
  # As written first, then the other name of the same view (2012).
  tried = [os.path.join(root, rel)] + [
      os.path.join(root, tree, half, pair[side], name)
      for pair in KITTI_VIEW_DIRS[version] if pair[side] != view_dir]
  path = next((p for p in tried if os.path.isfile(p)), None)
  if path is None:
    raise StereoFileNotFoundError(f"{list_path}:{line_no} names {rel!r}, which "
                                  f"is not present (looked for {tried})")
  return version, half, name[:-4], ("left", "right")[side], path


def read_split_list(list_path: str, root: str) -> list[PairFiles]:
  """Reads an NDIC / DSIN KITTI split list: x's path, then y's, per pair.

  Args:
    list_path: e.g. NDIC's dataset/data_paths/KITTI_stereo_train.txt; blank
      lines are skipped.
    root: the directory the list's paths are relative to (holding
      data_stereo_flow_multiview/ and data_scene_flow_multiview/).

  Raises:
    StereoFileNotFoundError: the list, or a file it names, is missing.
    ValueError: an odd number of paths, a path that is not a KITTI colour
      view, a pair whose two paths are not the two views of one frame, or no
      pairs (each names the list file and line).
  """
  try:
    with open(list_path) as f:
      lines = [(k + 1, s.strip()) for k, s in enumerate(f) if s.strip()]
  except FileNotFoundError as e:
    raise StereoFileNotFoundError(f"split list {list_path!r} does not exist"
                                  ) from e
  if not lines or len(lines) % 2:
    raise ValueError(f"{list_path}: {len(lines)} paths; a split list holds a "
                     "positive even number (x's path, then y's, per pair)")
  pairs = []
  for (nx, rx), (ny, ry) in zip(lines[::2], lines[1::2]):
    x, y = _list_entry(list_path, nx, rx, root), _list_entry(list_path, ny,
                                                             ry, root)
    if x[:3] != y[:3] or x[3] == y[3]:
      raise ValueError(f"{list_path}:{nx}-{ny}: {rx!r} and {ry!r} are not "
                       "the left and right views of one KITTI frame")
    pairs.append(PairFiles(f"kitti{x[0]}/{x[1]}/{x[2]}/{x[3]}", x[4], y[4]))
  return pairs


def write_split_list(list_path: str, pairs: Sequence[PairFiles],
                     root: str) -> None:
  """Writes pairs as an NDIC / DSIN split list (atomically, with mode
  0o666 less the umask: `results.atomic_write`)."""
  text = "".join(f"{os.path.relpath(p.x_path, root)}\n"
                 f"{os.path.relpath(p.y_path, root)}\n" for p in pairs)
  results.atomic_write(list_path, text.encode())


def ndic_kitti_pairs(root: str, split_dir: Optional[str] = None,
                     splits: Sequence[str] = ("train", "val", "test"),
                     versions: Sequence[int] = (2015, 2012)
                     ) -> dict[str, list[PairFiles]]:
  """NDIC's KITTI splits: from split_dir's lists, or the module's default rule.

  Args:
    root: holds data_stereo_flow_multiview/ (KITTI 2012) and
      data_scene_flow_multiview/ (KITTI 2015), each with training/, testing/.
    split_dir: directory holding KITTI_stereo_{train,val,test}.txt (NDIC's
      dataset/data_paths/); None builds the default (module docstring:
      1576/790/790 pairs on the full data).
    splits: which of "train", "val", "test".
    versions: the KITTI sets of the default split (ignored with split_dir).
  """
  if not set(splits) <= set(NDIC_KITTI_SPLITS):
    raise ValueError(f"splits={splits!r}; allowed: {tuple(NDIC_KITTI_SPLITS)}")
  if split_dir is not None:
    return {s: read_split_list(os.path.join(
        split_dir, NDIC_LIST_NAME.format(split=s)), root) for s in splits}
  if not versions or not set(versions) <= set(KITTI_DIRS):
    raise ValueError(f"versions={versions!r}; allowed: 2012, 2015")
  return {s: [p for v in versions for p in kitti_pairs(
      os.path.join(root, KITTI_DIRS[v]), v, NDIC_KITTI_SPLITS[s][0],
      NDIC_KITTI_SPLITS[s][1], ("left", "right"))] for s in splits}


def ndic_kitti(root: str, split_dir: Optional[str] = None,
               splits: Sequence[str] = ("train", "val", "test"),
               crop_hw: Sequence[int] = NDIC_KITTI_CROP_HW,
               resize_hw: Sequence[int] = NDIC_RESIZE_HW,
               versions: Sequence[int] = (2015, 2012)
               ) -> dict[str, StereoSplit]:
  """KITTI Stereo under the NDIC protocol: split -> StereoSplit (eager).

  x, y: [N, 128, 256, 3] float32 in [0, 255] by default (centre crop
  370 x 740, PIL bilinear resize). Memory: 1576 train pairs take 1.2 GB.
  Arguments as `ndic_kitti_pairs` and `load_pair`.
  """
  source = (f"split lists {split_dir}" if split_dir else
            "default split rule (ndc_jax.stereo.datasets)")
  return {s: load_split(pairs, root, crop_hw, resize_hw, dict(
      dataset="kitti_stereo_2012_2015", split=s, protocol=f"NDIC: {NDIC}",
      split_source=source, citation=KITTI_CITATION, licence="CC BY-NC-SA 3.0"))
          for s, pairs in ndic_kitti_pairs(root, split_dir, splits,
                                           versions).items()}


def cityscapes_pairs(root: str, split: str) -> list[PairFiles]:
  """Cityscapes pairs (x = left, y = right), sorted by city and frame.

  Args:
    root: holds leftImg8bit/<split>/<city>/<frame>_leftImg8bit.png and
      rightImg8bit/<split>/<city>/<frame>_rightImg8bit.png.
    split: "train", "val" or "test".
  """
  if split not in CITYSCAPES_SPLITS:
    raise ValueError(f"split={split!r}; allowed: {CITYSCAPES_SPLITS}")
  layout = ("a Cityscapes root holding leftImg8bit/<split>/<city>/"
            "*_leftImg8bit.png and rightImg8bit/<split>/<city>/"
            "*_rightImg8bit.png")
  left_dir = os.path.join(root, "leftImg8bit", split)
  right_dir = os.path.join(root, "rightImg8bit", split)
  _require_dir(left_dir, layout)
  _require_dir(right_dir, layout)
  pairs = []
  for city in sorted(os.listdir(left_dir)):
    if not os.path.isdir(os.path.join(left_dir, city)):
      continue
    for name in sorted(os.listdir(os.path.join(left_dir, city))):
      if not name.endswith("_leftImg8bit.png"):
        continue
      frame = name[:-len("_leftImg8bit.png")]
      right = os.path.join(right_dir, city, frame + "_rightImg8bit.png")
      if not os.path.isfile(right):
        raise StereoFileNotFoundError(f"{os.path.join(left_dir, city, name)} "
                                      f"has no right view {right!r}")
      pairs.append(PairFiles(f"cityscapes/{split}/{frame}",
                             os.path.join(left_dir, city, name), right))
  if not pairs:
    raise ValueError(f"{left_dir} holds no *_leftImg8bit.png; expected "
                     f"{layout}")
  return pairs


def ndic_cityscapes(root: str, splits: Sequence[str] = CITYSCAPES_SPLITS,
                    resize_hw: Sequence[int] = NDIC_RESIZE_HW
                    ) -> dict[str, StereoSplit]:
  """Cityscapes under the NDIC protocol (whole frame resized, no crop)."""
  return {s: load_split(cityscapes_pairs(root, s), root, None, resize_hw, dict(
      dataset="cityscapes", split=s, protocol=f"NDIC: {NDIC}",
      citation=CITYSCAPES_CITATION, licence="Cityscapes licence "
      "(non-commercial research)")) for s in splits}


def middlebury_scene_dirs(root: str) -> list[str]:
  """Scene directories (holding im0.png) under root, or [root] if it is one."""
  _require_dir(root, middlebury.DIR_LAYOUT)
  if os.path.isfile(os.path.join(root, "im0.png")):
    return [root]
  scenes = sorted(os.path.join(root, d) for d in os.listdir(root)
                  if os.path.isfile(os.path.join(root, d, "im0.png")))
  if not scenes:
    raise ValueError(f"{root} holds no scene directory; expected "
                     f"<scene>-perfect/ subdirectories, each "
                     f"{middlebury.DIR_LAYOUT}")
  return scenes


def load_middlebury(scene_dir: str) -> StereoSplit:
  """A Middlebury 2014 scene as a one-pair split: x = im0 (left), y = im1.

  Reads with `ndc_jax.data.stereo.load_middlebury_dir` (calib.txt
  goes into meta["calib"]) after the 8-bit RGB and equal-size checks.
  """
  scene = os.path.basename(os.path.normpath(scene_dir))
  paths = [os.path.join(scene_dir, n) for n in ("im0.png", "im1.png")]
  if all(os.path.isfile(p) for p in paths):
    check_pair(PairFiles(f"middlebury2014/{scene}", *paths))
  try:
    loaded = middlebury.load_middlebury_dir(scene_dir)
  except FileNotFoundError as e:
    raise StereoFileNotFoundError(str(e)) from e
  as_float = lambda v: np.asarray(v, np.float32)[None]  # [1, H, W, 3]
  return StereoSplit(as_float(loaded.left), as_float(loaded.right),
                     (f"middlebury2014/{scene}",), dict(
                         dataset="middlebury2014", split=scene,
                         root=scene_dir, units=UNITS, num_pairs=1,
                         x_files=["im0.png"], y_files=["im1.png"],
                         calib=dict(loaded.calib),
                         citation=middlebury.CITATION,
                         licence=middlebury.LICENCE))
