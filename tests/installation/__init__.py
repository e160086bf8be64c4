"""How spinepath installs: the base install without extras, and the extras' messages."""
