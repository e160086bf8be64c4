"""Clinical vignettes and example intakes, labelled from cited clinical sources, not the engine."""
