"""Classical still-image codecs as baselines: real files, decoded back.

Each codec turns an 8-bit image [H, W] (grey) or [H, W, 3] (RGB) into the
bytes of a real file and decodes them back; the rate is the file's length
with every header and container byte included (`CodedImage.bits`), and the
bytes that carry no pixel data are counted apart (`header_bytes`):

| codec | library | quality knob | header bytes |
| --- | --- | --- | --- |
| jpeg | Pillow (libjpeg, baseline, 4:2:0 for RGB) | quality 1-100 | SOI .. end of the SOS header, plus EOI |
| webp | Pillow (libwebp, lossy) | quality 0-100 | RIFF header, chunk headers, VP8 frame header |
| jpeg2000 | imagecodecs (OpenJPEG, JP2 file) | target PSNR in dB (`tcp_distoratio`) | JP2 boxes, codestream main header, EOC |
| jpegxl | imagecodecs (libjxl, naked codestream) | quality 0-100 | NaN: its headers are bit-packed with the image |
| avif | imagecodecs (libavif, AV1 intra, speed 6) | quality 0-99 (100 = lossless) | every ISOBMFF byte outside the mdat payload |

Grey AVIF is coded as monochrome AV1 (YUV 4:0:0, fed as three equal RGB
planes): this imagecodecs build ignores the quality of a 2-D input and codes
it losslessly. A codec missing from the installed libraries raises an
ImportError naming the pip package.

References: ITU-T T.81 (JPEG), RFC 6386 / the WebP container spec, ISO/IEC
15444-1 (JPEG 2000), ISO/IEC 18181 (JPEG XL), AV1 Image File Format 1.1.
"""

import importlib
import io
import struct
import time
from typing import NamedTuple

import numpy as np

CODECS = ("jpeg", "webp", "jpeg2000", "jpegxl", "avif")
# A quality sweep per codec, low to high rate.
DEFAULT_QUALITIES = {
    "jpeg": (5, 10, 20, 30, 50, 70, 85, 95),
    "webp": (0, 5, 10, 20, 40, 60, 80, 95),
    "jpeg2000": (24.0, 27.0, 30.0, 33.0, 36.0, 39.0, 42.0, 46.0),
    "jpegxl": (1, 5, 15, 30, 50, 70, 85, 95),
    "avif": (1, 10, 25, 40, 55, 70, 85, 95),
}
# libavif speed 0 (slowest) .. 10; 6 codes the Middlebury test band ~30x
# faster than the default, for ~8 % more bytes at quality 40.
AVIF_SPEED = 6
PIL_PIP = "pip install Pillow"
IMAGECODECS_PIP = "pip install imagecodecs"
_IMAGECODECS_NAME = {"jpeg2000": "JPEG2K", "jpegxl": "JPEGXL", "avif": "AVIF"}


class CodedImage(NamedTuple):
  """One image coded once.

  Attributes:
    data: the file's bytes.
    decoded: uint8 [H, W] or [H, W, 3], the decoder's output.
    header_bytes: bytes of `data` that carry no pixel data (NaN if the
      format's headers are not byte-separable).
    encode_s, decode_s: wall seconds.
  """
  data: bytes
  decoded: np.ndarray
  header_bytes: float
  encode_s: float
  decode_s: float

  @property
  def bits(self) -> int:
    """The rate: 8 × the file's bytes, headers included."""
    return 8 * len(self.data)


def _pillow():
  try:
    return importlib.import_module("PIL.Image")
  except ImportError as e:
    raise ImportError(f"JPEG and WebP baselines need Pillow: `{PIL_PIP}`"
                      ) from e


def _imagecodecs(codec: str):
  try:
    ic = importlib.import_module("imagecodecs")
  except ImportError as e:
    raise ImportError(f"The {codec} baseline needs imagecodecs: "
                      f"`{IMAGECODECS_PIP}`") from e
  if not getattr(ic, _IMAGECODECS_NAME[codec]).available:
    raise ImportError(f"This imagecodecs build has no {codec} codec; install "
                      f"a full wheel: `{IMAGECODECS_PIP} --upgrade`")
  return ic


def check_available(codec: str) -> None:
  """Raises ValueError for an unknown codec, ImportError (naming the pip
  package) when its library is missing."""
  if codec not in CODECS:
    raise ValueError(f"image codec {codec!r} is unknown; allowed: {CODECS}")
  if codec in ("jpeg", "webp"):
    _pillow()
    features = importlib.import_module("PIL.features")
    if not features.check("webp" if codec == "webp" else "jpg"):
      raise ImportError(f"This Pillow build cannot write {codec}; "
                        f"`{PIL_PIP} --upgrade`")
  else:
    _imagecodecs(codec)


def _check_image(image: np.ndarray) -> np.ndarray:
  image = np.asarray(image)
  if image.dtype != np.uint8 or not (
      image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 3)):
    raise ValueError(f"image of dtype {image.dtype} and shape {image.shape}; "
                     "codecs take uint8 [H, W] or [H, W, 3]")
  return image


def encode(codec: str, image: np.ndarray, quality: float) -> bytes:
  """The bytes of `image` (uint8 [H, W] or [H, W, 3]) as a `codec` file."""
  image = _check_image(image)
  check_available(codec)
  if codec in ("jpeg", "webp"):
    buf = io.BytesIO()
    _pillow().fromarray(image).save(buf, "JPEG" if codec == "jpeg" else
                                    "WEBP", quality=int(quality))
    return buf.getvalue()
  ic = _imagecodecs(codec)
  if codec == "jpeg2000":
    return bytes(ic.jpeg2k_encode(image, level=float(quality)))
  if codec == "jpegxl":
    return bytes(ic.jpegxl_encode(image, level=int(quality)))
  if image.ndim == 2:  # monochrome AV1; a 2-D input would be coded lossless
    return bytes(ic.avif_encode(np.repeat(image[..., None], 3, -1),
                                level=int(quality), speed=AVIF_SPEED,
                                pixelformat=ic.AVIF.PIXEL_FORMAT.YUV400))
  return bytes(ic.avif_encode(image, level=int(quality), speed=AVIF_SPEED))


def decode(codec: str, data: bytes, channels: int) -> np.ndarray:
  """uint8 [H, W] (channels 1) or [H, W, 3] (channels 3) from a file."""
  check_available(codec)
  if codec in ("jpeg", "webp"):
    img = _pillow().open(io.BytesIO(data))
    out = np.asarray(img.convert("L" if channels == 1 else "RGB"))
  else:
    ic = _imagecodecs(codec)
    out = np.asarray({"jpeg2000": ic.jpeg2k_decode, "jpegxl": ic.jpegxl_decode,
                      "avif": ic.avif_decode}[codec](data))
    if channels == 1 and out.ndim == 3:
      out = out[..., 0]
  return out.astype(np.uint8)


def _boxes(data: bytes, start: int = 0, stop: int | None = None):
  """(type, header start, payload start, end) of ISOBMFF / JP2 boxes."""
  pos, stop = start, len(data) if stop is None else stop
  while pos + 8 <= stop:
    size, kind = struct.unpack(">I4s", data[pos:pos + 8])
    head = 8
    if size == 1:
      size, head = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
    elif size == 0:
      size = stop - pos
    yield kind.decode("latin-1"), pos, pos + head, pos + size
    pos += size


def _jpeg_header(data: bytes) -> int:
  pos = 2  # SOI
  while pos + 4 <= len(data):
    marker, length = struct.unpack(">HH", data[pos:pos + 4])
    pos += 2 + length
    if marker == 0xFFDA:  # SOS: entropy-coded data follows
      return pos + 2  # + EOI
  raise ValueError("no SOS marker: not a baseline JPEG file")


def _webp_header(data: bytes) -> int:
  total = 12  # RIFF, size, WEBP
  for kind, head, payload, end in _riff_chunks(data):
    total += payload - head + (end - payload) % 2  # chunk header, padding
    if kind == "VP8 ":
      total += 10  # frame tag (3), start code (3), width and height (4)
    elif kind == "VP8L":
      total += 5  # signature (1), width, height, alpha, version (4)
  return total


def _riff_chunks(data: bytes):
  pos = 12
  while pos + 8 <= len(data):
    kind, size = struct.unpack("<4sI", data[pos:pos + 8])
    yield kind.decode("latin-1"), pos, pos + 8, pos + 8 + size
    pos += 8 + size + size % 2


def _j2k_main_header(code: bytes) -> int:
  sot = code.find(b"\xff\x90")  # the first tile-part
  if not code.startswith(b"\xff\x4f") or sot < 0:
    raise ValueError("not a JPEG 2000 codestream")
  return sot + 2  # + EOC


def header_bytes(codec: str, data: bytes) -> float:
  """Bytes of a `codec` file that carry no pixel data (see the module
  table); NaN for JPEG XL."""
  if codec == "jpeg":
    return float(_jpeg_header(data))
  if codec == "webp":
    return float(_webp_header(data))
  if codec == "jpeg2000":
    if data.startswith(b"\xff\x4f"):
      return float(_j2k_main_header(data))
    for kind, head, payload, end in _boxes(data):
      if kind == "jp2c":
        return float(payload + _j2k_main_header(data[payload:end]))
    raise ValueError("JP2 file without a jp2c box")
  if codec == "avif":
    payload = sum(end - p for kind, _, p, end in _boxes(data)
                  if kind == "mdat")
    return float(len(data) - payload)
  return float("nan")


def code_image(codec: str, image: np.ndarray, quality: float) -> CodedImage:
  """Codes uint8 `image` once with `codec` at `quality` and decodes it.

  Raises:
    RuntimeError: the decoded image's shape or dtype differs from the input.
  """
  image = _check_image(image)
  t0 = time.perf_counter()
  data = encode(codec, image, quality)
  t1 = time.perf_counter()
  out = decode(codec, data, 1 if image.ndim == 2 else 3)
  t2 = time.perf_counter()
  if out.shape != image.shape or out.dtype != image.dtype:
    raise RuntimeError(f"{codec} at quality {quality} decoded {out.shape} "
                       f"{out.dtype} from {image.shape} {image.dtype}")
  return CodedImage(data, out, header_bytes(codec, data), t1 - t0, t2 - t1)


def to_uint8(x: np.ndarray) -> np.ndarray:
  """Float image [H, W, C] in [0, 1] -> uint8 [H, W] (C = 1) or [H, W, 3]
  (rounded: the codecs' input; the rounding alone costs PSNR ≈ 59 dB)."""
  x = np.asarray(x)
  u = np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)
  return u[..., 0] if x.ndim == 3 and x.shape[-1] == 1 else u


def to_unit_float(u: np.ndarray, channels: int) -> np.ndarray:
  """uint8 [H, W] or [H, W, 3] -> float32 [H, W, channels] in [0, 1]."""
  x = np.asarray(u, np.float32) / 255.0
  return x[..., None] if channels == 1 and x.ndim == 2 else x
