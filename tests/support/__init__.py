"""What the tests share: plain helpers, imported as ``support.<module>``.

tests/ has no __init__.py, so pytest (and mypy, and bench/bench_triage_quality.py, which imports
``vignettes.cases``) treat tests/ as the import root: its folders are top-level packages.

- ``intakes``: intake factories (the all-no intake, minimal low back pain, sciatica).
- ``files``: where the test data lives; loading it fails the run when it is missing.
- ``cli``: Typer's runner and apps holding spinepath's commands.
- ``database``: SQLite and PostgreSQL test databases.
- ``web``: the web app's settings, the people in it and signed session cookies.
- ``live_server``: `spinepath serve` in a subprocess on a free loopback port.
- ``browser``: the headless Chromium setup and an in-process live server.
- ``ehr_sim``: a simulated EHR (FHIR server, SMART authorization server, CDS Hooks signing keys)
  on loopback, over the fixture records in ``data/ehr``.

Fixtures stay in the conftest.py files (pytest finds them there); those are thin and build on
these modules.
"""
