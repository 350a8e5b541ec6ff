"""Information-theoretic bounds: R_WZ(D), Shannon lower bounds, the
two-terminal Gaussian region, Slepian-Wolf finite-length estimates (bounds)."""
