"""Stage 1: read and fetch the open data (BAG, CBS, EP-Online)."""
