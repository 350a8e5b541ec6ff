"""The one registry idiom: a dict from name to constructor, looked up by
`lookup`, whose error names the field, the bad value and the allowed names."""

from typing import Any, Mapping


def lookup(registry: Mapping[str, Any], name: Any, field: str) -> Any:
  """registry[name]; ValueError naming `field`, `name` and the allowed keys."""
  if not isinstance(name, str) or name not in registry:
    raise ValueError(f"{field}={name!r} is unknown; allowed: "
                     f"{tuple(sorted(registry))}")
  return registry[name]
