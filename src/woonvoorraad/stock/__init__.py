"""Stage 2: the dwelling stock: dwellings, woningtype, indicators per buurt."""
