"""Stage 3: scores, proeftuin candidates, instruments, costs and typology."""
