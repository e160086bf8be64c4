"""SMART App Launch 2.0 (EHR launch) of the clinician workspace: see docs/smart-launch.md."""
