"""Clinical vignettes and example intakes, labelled from the clinical reference, not from the engine."""
