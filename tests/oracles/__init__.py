"""Independent computations of the marts (pandas), written from DOMAIN.md, not from the SQL."""
