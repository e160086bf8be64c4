"""Drives the patient questionnaire over HTTP, one form post per step."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx2 import Response

from spinepath.web.pages.steps import EMERGENCY, STEPS, step_index

EMERGENCY_ALL_NO: dict[str, str] = {
    q.path: "no" if q.kind == "tristate" else "none" for q in EMERGENCY.questions
}
"""No to every question of the emergency screen (no injury, nothing on either side)."""
MINIMAL: dict[str, dict[str, str]] = {
    "emergency": EMERGENCY_ALL_NO,
    "about": {"age": "47", "sex": "female"},
    "where": {"regions.low_back.selected": "yes"},
    "pain": {"regions.low_back.duration_weeks": "3", "regions.low_back.intensity": "6"},
}


def start(client: TestClient) -> str:
    """Starts as a new patient and returns the private link token."""
    response = client.post("/start", follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.endswith("/step/emergency")
    return location.split("/")[2]


def post_step(
    client: TestClient, link: str, slug: str, data: dict[str, str], action: str = "next"
) -> Response:
    return client.post(
        f"/p/{link}/step/{slug}", data={**data, "action": action}, follow_redirects=False
    )


def answer_all(
    client: TestClient, link: str, changes: dict[str, dict[str, str]] | None = None
) -> Response:
    """Answers every step (minimal answers plus ``changes``) and returns the last response."""
    changes = changes or {}
    response: Response | None = None
    for step in STEPS:
        data = {**MINIMAL.get(step.slug, {}), **changes.get(step.slug, {})}
        response = post_step(client, link, step.slug, data)
        assert response.status_code == 303, (step.slug, response.text[:2000])
    assert response is not None
    return response


def answer_until(client: TestClient, link: str, slug: str) -> None:
    """Answers every step before ``slug`` with the minimal answers."""
    for step in STEPS[: step_index(slug)]:
        response = post_step(client, link, step.slug, MINIMAL.get(step.slug, {}))
        assert response.status_code == 303, (step.slug, response.text[:2000])


def submit(client: TestClient, link: str) -> Response:
    return client.post(f"/p/{link}/review", follow_redirects=False)


SCIATICA_AFTER_FAILED_PHYSIOTHERAPY: dict[str, dict[str, str]] = {
    "pain": {"regions.low_back.duration_weeks": "12", "regions.low_back.intensity": "7"},
    "emergency": {
        **EMERGENCY_ALL_NO,
        "radiation.leg": "left",
        "neurology.leg_numbness_or_tingling": "left",
    },
    "emergency-2": {"neurology.progressing": "no"},
    "limbs": {
        "radiation.leg_below_knee": "yes",
        "radiation.leg_pain_worse_than_back": "yes",
        "neurology.walking_leg_pain_eased_by_sitting": "no",
    },
    "treatments": {
        "treatments.physiotherapy.tried": "yes",
        "treatments.physiotherapy.weeks": "8",
        "treatments.physiotherapy.response": "none",
        "treatments.exercise_programme.tried": "yes",
        "treatments.exercise_programme.weeks": "8",
        "treatments.exercise_programme.response": "none",
    },
    "imaging": {
        "imaging.1.modality": "mri",
        "imaging.1.finding": "disc_herniation",
        "imaging.1.level": "L5-S1",
        "imaging.1.side": "left",
        "imaging.1.matches_symptoms": "yes",
    },
}
"""Sciatica for 12 weeks with a matching disc herniation after 8 weeks of physiotherapy and
exercise: NICE NG59 1.3.1 (consider spinal decompression when non-surgical treatment has not
helped and imaging matches) puts surgery on the table."""
