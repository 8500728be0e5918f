"""Every rule, by its code, in one place: the catalogue, the checks and the breaches."""
