"""Stage 4: reports, charts and maps per gemeente."""
