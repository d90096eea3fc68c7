"""Cases and the local-authority register: numbering a case, recording events, recomputing its clocks, the case as `drs case show` shows it, the LA register and mediators, and the demo data."""
