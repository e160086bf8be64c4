"""Clinical vignettes and example intakes, labelled from the clinical reference, not the engine."""
