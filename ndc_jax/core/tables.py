"""Results rows as fixed-width text: the table every launcher prints."""

from typing import Sequence


def format_table(rows: Sequence[dict], cols: Sequence[str],
                 width: int = 18, header: bool = True) -> str:
  """`rows` (dicts) as a header line (if `header`) plus one line per row,
  columns `cols`; floats in 4 significant digits, everything else as str."""
  lines = [" ".join(f"{c:>{width}}" for c in cols)] if header else []
  for r in rows:
    lines.append(" ".join(f"{r[c]:>{width}.4g}" if isinstance(r[c], float)
                          else f"{r[c]!s:>{width}}" for c in cols))
  return "\n".join(lines)
