"""The interface the runner and the sharding code rely on: a job's trainer.

Every job's `make_train(config)` returns an object with these pure functions
(a NamedTuple in practice); `runner.train_grid` vmaps `train_chunk` over the
flattened grid, `sharding.shard_sweep` lays it on a device mesh and
`runner.load_params` restores parameters shaped like `init`'s.
"""

from typing import Any, Callable, Protocol


class Trainer(Protocol):
  """The pure training functions of one arm.

  Attributes:
    init: key -> state; a pytree with fields `params`, `step` (int32 scalar)
      and `key`.
    train_chunk: (state, *swept) -> (state, chunk metrics): `chunk_steps`
      steps in one lax.scan; metrics include `first_nonfinite` (int).
    train: (*swept, key) -> (state, metrics [num_chunks]): init, then every
      chunk.
  """
  init: Callable[..., Any]
  train_chunk: Callable[..., Any]
  train: Callable[..., Any]
