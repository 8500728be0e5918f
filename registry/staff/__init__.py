"""Staff of institutions: teachers and others, with their personal data protected."""
