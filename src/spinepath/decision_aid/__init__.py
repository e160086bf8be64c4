"""Personalised back-surgery decision aid."""
