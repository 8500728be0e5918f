"""The domain of the off-campus training register: no HTTP, no JSON."""
