"""The built-in synthetic demo region."""
