"""Validated outcome and screening questionnaires: definitions as data and exact scoring."""
