"""The package layout: the shared packages import no job, no job imports
another, and no cycles."""

import ast
import pathlib

from absl.testing import absltest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "ndc_jax"
JOB_PACKAGES = ("wyner_ziv", "multisource", "realdata", "stereo")
SHARED_PACKAGES = ("core", "theory", "codec", "baselines", "data", "models")


def _module_name(path: pathlib.Path) -> str:
  parts = path.relative_to(ROOT.parent).with_suffix("").parts
  return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _from_module(name: str, path: pathlib.Path, node: ast.ImportFrom) -> str:
  """The absolute module of `from <module> import ...` in module `name`
  (relative imports resolved against its package)."""
  if not node.level:
    return node.module
  package = name.split(".")
  if path.name != "__init__.py":
    package = package[:-1]
  package = package[:len(package) - node.level + 1]
  return ".".join(package + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
  """Module -> the ndc_jax modules it imports (any `import` statement, also
  inside functions, relative ones resolved, each resolved to a module:
  `from a.b import c` is a.b.c when that is one)."""
  modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
  graph = {}
  for name, path in modules.items():
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
      if isinstance(node, ast.Import):
        out |= {a.name for a in node.names}
      elif isinstance(node, ast.ImportFrom):
        module = _from_module(name, path, node)
        out |= {f"{module}.{a.name}" if f"{module}.{a.name}" in modules
                else module for a in node.names}
    graph[name] = {m for m in out if m in modules and m != name}
  return graph


class LayoutTest(absltest.TestCase):

  def test_graph_sees_the_packages(self):
    graph = import_graph()
    self.assertIn("ndc_jax.core.runner", graph)
    self.assertIn("ndc_jax.core.results", graph["ndc_jax.core.runner"])
    self.assertIn("ndc_jax.wyner_ziv.train", graph["ndc_jax.wyner_ziv.job"])
    self.assertIn("ndc_jax.baselines.nested_sq",  # from . import nested_sq
                  graph["ndc_jax.baselines.wz_lloyd"])

  def test_shared_packages_import_no_job(self):
    bad = [(m, d) for m, deps in import_graph().items() for d in deps
           if m.split(".")[1] in SHARED_PACKAGES
           and d.split(".")[1] in JOB_PACKAGES]
    self.assertEqual(bad, [])

  def test_every_package_is_a_job_or_shared(self):
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    self.assertEqual(packages, set(JOB_PACKAGES) | set(SHARED_PACKAGES))

  def test_no_job_imports_another_job(self):
    bad = [(m, d) for m, deps in import_graph().items() for d in deps
           if m.split(".")[1] in JOB_PACKAGES
           and d.split(".")[1] in JOB_PACKAGES
           and d.split(".")[1] != m.split(".")[1]]
    self.assertEqual(bad, [])

  def test_core_imports_only_core(self):
    bad = [(m, d) for m, deps in import_graph().items() for d in deps
           if m.startswith("ndc_jax.core") and not d.startswith("ndc_jax.core")]
    self.assertEqual(bad, [])

  def test_no_import_cycles(self):
    graph = import_graph()
    state, cycles = {}, []

    def visit(m, stack):
      state[m] = "open"
      for d in sorted(graph[m]):
        if state.get(d) == "open":
          cycles.append(stack[stack.index(d):] + [d])
        elif d not in state:
          visit(d, stack + [d])
      state[m] = "done"

    for m in sorted(graph):
      if m not in state:
        visit(m, [m])
    self.assertEqual(cycles, [])


if __name__ == "__main__":
  absltest.main()
