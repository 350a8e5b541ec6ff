"""Smoke test of the sweep benchmark, run as a subprocess (its absl flags
would clash with other launchers' in the test process) on the quick config's
small nets, one tiny size: each size compiles nine programs."""

import os
import re
import subprocess
import sys

from absl.testing import absltest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SweepBenchTest(absltest.TestCase):

  def test_prints_rows_and_targets(self):
    out = subprocess.run(
        [sys.executable, "-m", "experiments.benchmarks.sweep_bench",
         "--config_arg=quick", "--batch_sizes=8", "--num_lmbdas=2",
         "--steps=2", "--repeats=2", "--min_seconds=0.05",
         "--matmul_models=0"], cwd=ROOT,
        env={**os.environ, "JAX_PLATFORMS": "cpu"}, capture_output=True,
        text=True, check=True).stdout
    # | batch | λ | per-step | scanned | vmapped | sweep (group, devices) |
    #   ratio | ratio | compile s | XLA MiB |
    row = re.search(r"^\| 8 \| 2 \| (\d+) \| (\d+) \| (\d+) \| (\d+) \(2, 1\) "
                    r"\| ([\d.]+)× \| ([\d.]+)× \|", out, re.M)
    self.assertIsNotNone(row, out)
    self.assertTrue(all(float(v) > 0 for v in row.groups()), row.groups())
    self.assertIn("peak resident memory", out)
    targets = [l for l in out.splitlines() if "never slower" in l]
    self.assertLen(targets, 2, out)  # no (batch, λ) target row at batch 8


if __name__ == "__main__":
  absltest.main()
