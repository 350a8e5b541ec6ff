"""The device flags of the training launchers: --cpu_devices and --mesh.

  device_flags.split_cpu()  # first, before any JAX operation
  mesh = device_flags.mesh()
"""

from absl import flags
from jax.sharding import Mesh

from ndc_jax.core import sharding

CPU_DEVICES = flags.DEFINE_integer(
    "cpu_devices", 0, "XLA devices the host CPU is split into, so that a "
    "small-batch sweep's shares train at once (CPU backend only): 0 leaves "
    "JAX's setting (one, or XLA_FLAGS' count), >= 1 that many, -1 one per "
    "core. Splitting can change numbers in the ~5th digit.")
MESH = flags.DEFINE_string(
    "mesh", "", "Device mesh, e.g. 'sweep=8' or 'sweep=4,batch=2'; '' puts "
    "every device of every host on the sweep axis.")


def split_cpu() -> int:
  """`sharding.split_cpu(--cpu_devices)`; call before any JAX operation."""
  return sharding.split_cpu(CPU_DEVICES.value)


def mesh() -> Mesh:
  """The `--mesh` over all devices (`sharding.make_mesh`)."""
  return sharding.make_mesh(MESH.value)
