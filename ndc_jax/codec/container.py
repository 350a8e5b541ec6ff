"""The `.ndc` container: a 36-byte header and the payload of one coding mode.

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
      28    4 CRC-32 of the encoded indices (`index_crc`)
      32    4 CRC-32 of bytes [0, 32) and of the payload
      36    . payload

The last CRC covers the header fields too, so a flipped bit anywhere is
caught. The index CRC is checked after decoding, in every mode: a decoder
that reaches other indices than the encoder's (the wrong side information,
a forged header or payload with a valid file CRC) raises instead of
returning them.
"""

import hashlib
import struct
import zlib
from typing import NamedTuple

import jax
import numpy as np

MAGIC = b"NDCJ"
# 4: the CRC-32 of the indices in the header (every mode checks what it
# decoded); ANS streams end in a terminator (`api.ANS_TERMINATOR`); the
# reserved byte must be 0. Versions 1-3 decoded without that check.
# 3: Slepian-Wolf codes of 2000 <= m < 0.15·N syndrome bits from
# slepian_wolf.VERY_LOW_RATE_CODES (2: LOW_RATE_CODES).
# 2: Slepian-Wolf labels from side information drawn by NumPy's legacy
# RandomState (1: by JAX's generator, whose stream can change with JAX).
VERSION = 4
OLDEST = 1             # the first version this format had
MODES = ("marginal", "conditional", "slepian_wolf")
RATE_MODELS = ("marginal", "conditional")
_HEAD = struct.Struct("<4sBBBB8sIHHII")
_CRC = struct.Struct("<I")
HEADER_BYTES = _HEAD.size + _CRC.size  # 36


class FormatError(ValueError):
  """A `.ndc` file that is not well formed (or does not fit the model)."""


class Header(NamedTuple):
  mode: str
  rate_model: str
  model_hash: bytes
  num_samples: int
  block_size: int
  num_indices: int
  index_crc: int     # CRC-32 of the indices (`index_crc`)


def index_crc(u) -> int:
  """CRC-32 of indices u [N] in [0, 2^16) as little-endian uint16 words."""
  u = np.asarray(u)
  if u.size and (u.min() < 0 or u.max() >= 2**16):
    raise ValueError("indices must lie in [0, 65536) for their CRC")
  return zlib.crc32(u.astype("<u2").tobytes())


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
  if not 0 <= header.index_crc < 2**32:
    raise ValueError(f"index_crc={header.index_crc} is not a CRC-32")
  head = _HEAD.pack(MAGIC, VERSION, MODES.index(header.mode),
                    RATE_MODELS.index(header.rate_model), 0,
                    header.model_hash, header.num_samples, header.block_size,
                    header.num_indices, len(payload), header.index_crc)
  crc = zlib.crc32(payload, zlib.crc32(head))
  return head + _CRC.pack(crc) + payload


def unpack(data: bytes) -> tuple[Header, bytes]:
  """The bytes of a `.ndc` file -> (header, payload); FormatError if the file
  is truncated, corrupted (CRC), of another format or version."""
  if not isinstance(data, (bytes, bytearray, memoryview)):
    raise TypeError(f"data must be bytes, got {type(data).__name__}")
  data = bytes(data)
  if len(data) < len(MAGIC) + 1:
    raise FormatError(f"file is truncated: {len(data)} bytes, the header "
                      f"alone has {HEADER_BYTES}")
  magic, version = data[:len(MAGIC)], data[len(MAGIC)]
  if magic != MAGIC:
    raise FormatError(f"not an .ndc file: magic {magic!r}, expected {MAGIC!r}")
  if OLDEST <= version < VERSION:
    raise FormatError(
        f"format version {version} is an old .ndc format that this reader "
        f"no longer decodes (it supports version {VERSION} only; versions "
        f"before 4 carry no check of the decoded indices): compress x again")
  if version != VERSION:
    raise FormatError(f"format version {version} is unknown (a newer writer "
                      f"or a corrupt file); this reader supports version "
                      f"{VERSION} only")
  if len(data) < HEADER_BYTES:
    raise FormatError(f"file is truncated: {len(data)} bytes, the header "
                      f"alone has {HEADER_BYTES}")
  (_, _, mode, rate_model, reserved, mhash, num, block, k, size,
   icrc) = _HEAD.unpack_from(data)
  if len(data) != HEADER_BYTES + size:
    state = "truncated" if len(data) < HEADER_BYTES + size else "too long"
    raise FormatError(f"file is {state}: {len(data)} bytes, the header "
                      f"announces {HEADER_BYTES + size}")
  payload = data[HEADER_BYTES:]
  (crc,) = _CRC.unpack_from(data, _HEAD.size)
  if zlib.crc32(payload, zlib.crc32(data[:_HEAD.size])) != crc:
    raise FormatError("checksum mismatch: the file is corrupted")
  if mode >= len(MODES) or rate_model >= len(RATE_MODELS) or reserved:
    raise FormatError(f"mode {mode}, rate model {rate_model} or reserved "
                      f"byte {reserved} is unknown; allowed: modes 0 to "
                      f"{len(MODES) - 1}, rate models 0 to "
                      f"{len(RATE_MODELS) - 1}, reserved 0")
  if num < 1 or block < 1 or k < 2:
    raise FormatError(f"header fields out of range: samples={num}, "
                      f"block={block}, indices={k}")
  return Header(MODES[mode], RATE_MODELS[rate_model], mhash, num, block,
                k, icrc), payload
