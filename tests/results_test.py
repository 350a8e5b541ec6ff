"""Tests of the atomic result writers and pytree checkpoints."""

import os
import tempfile

import chex
import jax
import jax.numpy as jnp
from absl.testing import absltest

from ndc_jax.core import results


class ResultsTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()

  def test_tree_round_trip_with_keys(self):
    tree = {"w": jnp.arange(6.0).reshape(2, 3), "k": jax.random.key(3),
            "s": jnp.int32(7)}
    path = os.path.join(self.dir, "t.npz")
    results.save_tree(path, tree, lmbdas=jnp.array([1.0, 2.0]))
    back, extras = results.load_tree(path, tree)
    chex.assert_trees_all_equal(back["w"], tree["w"])
    chex.assert_trees_all_equal(jax.random.key_data(back["k"]),
                                jax.random.key_data(tree["k"]))
    self.assertEqual(int(back["s"]), 7)
    chex.assert_trees_all_equal(extras["lmbdas"], jnp.array([1.0, 2.0]))

  def test_load_mismatch_is_an_error(self):
    path = os.path.join(self.dir, "t.npz")
    results.save_tree(path, {"w": jnp.zeros(3)})
    with self.assertRaisesRegex(ValueError, "shape"):
      results.load_tree(path, {"w": jnp.zeros(4)})
    with self.assertRaisesRegex(ValueError, "another config"):
      results.load_tree(path, {"w": jnp.zeros(3), "v": jnp.zeros(3)})

  def test_csv_jsonl_and_no_temp_files_left(self):
    results.write_csv(os.path.join(self.dir, "a.csv"),
                      [{"x": 1.0, "n": "a"}], ("n", "x"))
    results.write_jsonl(os.path.join(self.dir, "m.jsonl"), [{"a": 1}, {"b": 2}])
    self.assertEqual(results.read_csv(os.path.join(self.dir, "a.csv")),
                     [{"n": "a", "x": "1"}])
    self.assertEqual(results.read_jsonl(os.path.join(self.dir, "m.jsonl")),
                     [{"a": 1}, {"b": 2}])
    self.assertEqual(sorted(os.listdir(self.dir)), ["a.csv", "m.jsonl"])

  def test_every_writer_follows_the_umask(self):
    # The temporary file's 0o600 must not reach the result (issue: every
    # output was written with mode 0600 whatever the umask).
    old = os.umask(0o027)
    try:
      results.write_json(os.path.join(self.dir, "c.json"), {"a": 1})
      results.write_csv(os.path.join(self.dir, "r.csv"), [{"x": 1.0}], ("x",))
      results.save_tree(os.path.join(self.dir, "p.npz"), {"w": jnp.zeros(2)})
      os.umask(0o002)
      results.atomic_write(os.path.join(self.dir, "b.bin"), b"x")
    finally:
      os.umask(old)
    modes = {n: os.stat(os.path.join(self.dir, n)).st_mode & 0o777
             for n in os.listdir(self.dir)}
    self.assertEqual(modes, {"c.json": 0o640, "r.csv": 0o640, "p.npz": 0o640,
                             "b.bin": 0o664})
    self.assertEqual(os.umask(old), old)  # the umask is left as it was


if __name__ == "__main__":
  absltest.main()
