"""The `.ndc` container: a 32-byte header and the payload of one coding mode.

Layout (little-endian):

  offset size field
       0    4 magic b"NDCJ"
       4    1 format version (VERSION)
       5    1 coding mode (index into MODES)
       6    1 rate model (index into RATE_MODELS)
       7    1 reserved, 0
       8    8 model hash: first 8 bytes of SHA-256 of the parameters
      16    4 number of samples (blocks of `block_size` scalars)
      20    2 block size n (scalars per index)
      22    2 number of indices K
      24    4 payload length in bytes
      28    4 CRC-32 of bytes [0, 28) and of the payload
      32    . payload

The CRC covers the header fields too, so a flipped bit anywhere is caught.
"""

import hashlib
import struct
import zlib
from typing import NamedTuple

import jax
import numpy as np

MAGIC = b"NDCJ"
# 3: Slepian-Wolf codes of 2000 <= m < 0.15·N syndrome bits from
# slepian_wolf.VERY_LOW_RATE_CODES (2: LOW_RATE_CODES).
# 2: Slepian-Wolf labels from side information drawn by NumPy's legacy
# RandomState (1: by JAX's generator, whose stream can change with JAX).
VERSION = 3
MODES = ("marginal", "conditional", "slepian_wolf")
RATE_MODELS = ("marginal", "conditional")
_HEAD = struct.Struct("<4sBBBx8sIHHI")
_CRC = struct.Struct("<I")
HEADER_BYTES = _HEAD.size + _CRC.size  # 32


class FormatError(ValueError):
  """A `.ndc` file that is not well formed (or does not fit the model)."""


class Header(NamedTuple):
  mode: str
  rate_model: str
  model_hash: bytes
  num_samples: int
  block_size: int
  num_indices: int


def model_hash(params) -> bytes:
  """8-byte SHA-256 digest of a parameter pytree (leaf order, shapes, dtypes
  and values), so a file decodes only with the parameters that wrote it."""
  h = hashlib.sha256()
  for leaf in jax.tree.leaves(params):
    a = np.ascontiguousarray(np.asarray(leaf))
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
  return h.digest()[:8]


def pack(header: Header, payload: bytes) -> bytes:
  """Header + payload -> the bytes of a `.ndc` file."""
  if header.mode not in MODES:
    raise ValueError(f"mode {header.mode!r} is unknown; allowed: {MODES}")
  if header.rate_model not in RATE_MODELS:
    raise ValueError(f"rate model {header.rate_model!r} is unknown; allowed: "
                     f"{RATE_MODELS}")
  limits = (("num_samples", 2**32), ("block_size", 2**16),
            ("num_indices", 2**16))
  for field, limit in limits:
    value = getattr(header, field)
    if not 1 <= value < limit:
      raise ValueError(f"{field}={value} does not fit the format; allowed: "
                       f"1 to {limit - 1}")
  head = _HEAD.pack(MAGIC, VERSION, MODES.index(header.mode),
                    RATE_MODELS.index(header.rate_model), header.model_hash,
                    header.num_samples, header.block_size, header.num_indices,
                    len(payload))
  crc = zlib.crc32(payload, zlib.crc32(head))
  return head + _CRC.pack(crc) + payload


def unpack(data: bytes) -> tuple[Header, bytes]:
  """The bytes of a `.ndc` file -> (header, payload); FormatError if the file
  is truncated, corrupted (CRC), of another format or version."""
  if not isinstance(data, (bytes, bytearray, memoryview)):
    raise TypeError(f"data must be bytes, got {type(data).__name__}")
  data = bytes(data)
  if len(data) < HEADER_BYTES:
    raise FormatError(f"file is truncated: {len(data)} bytes, the header "
                      f"alone has {HEADER_BYTES}")
  magic, version, mode, rate_model, mhash, num, block, k, size = (
      _HEAD.unpack_from(data))
  if magic != MAGIC:
    raise FormatError(f"not an .ndc file: magic {magic!r}, expected {MAGIC!r}")
  if version != VERSION:
    raise FormatError(f"format version {version} is not supported; this "
                      f"reader supports version {VERSION}")
  if len(data) != HEADER_BYTES + size:
    raise FormatError(f"file is {'truncated' if len(data) < HEADER_BYTES + size else 'too long'}: "
                      f"{len(data)} bytes, the header announces "
                      f"{HEADER_BYTES + size}")
  payload = data[HEADER_BYTES:]
  (crc,) = _CRC.unpack_from(data, _HEAD.size)
  if zlib.crc32(payload, zlib.crc32(data[:_HEAD.size])) != crc:
    raise FormatError("checksum mismatch: the file is corrupted")
  if mode >= len(MODES) or rate_model >= len(RATE_MODELS):
    raise FormatError(f"mode {mode} or rate model {rate_model} is unknown")
  if num < 1 or block < 1 or k < 2:
    raise FormatError(f"header fields out of range: samples={num}, "
                      f"block={block}, indices={k}")
  return Header(MODES[mode], RATE_MODELS[rate_model], mhash, num, block,
                k), payload
