"""What alert and reminder messages say. E-mail travels in the clear between servers and lands
in shared inboxes, so a message names no finding and no patient: only the urgency, the clinic,
a link that needs a clinician's sign-in, and the clinic's own label for the patient when the
clinic has asked for it (``AlertChannel.include_reference``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

ALERT_SUBJECTS = {
    "emergency_stop": "Emergency: a patient stopped at the emergency screen",
    "emergency_result": "Emergency: a patient's assessment needs action now",
    "urgent_result": "Urgent: a patient's assessment needs action today",
}
ALERT_LINES = {
    "emergency_stop": "A patient's answers matched an emergency red flag. The questionnaire "
    "stopped and told them to call 999 or go to A&E now.",
    "emergency_result": "A patient's assessment came out as an emergency. They were told to "
    "call 999 or go to A&E now.",
    "urgent_result": "A patient's assessment came out as urgent. They were told to get "
    "medical advice today.",
}


@dataclass(frozen=True)
class AlertNotice:
    alert_id: int
    kind: str
    level: str
    clinic: str
    created_at: dt.datetime
    url: str
    patient_reference: str | None


def alert_email(notice: AlertNotice) -> dict[str, Any]:
    lines = [ALERT_LINES[notice.kind], ""]
    if notice.patient_reference:
        lines.append(f"Patient (your clinic's label): {notice.patient_reference}")
    lines += [
        f"Clinic: {notice.clinic}",
        f"Raised: {notice.created_at.strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        "Sign in to see the details and mark the alert as seen or actioned:",
        notice.url,
        "",
        "This message carries no clinical details by design.",
    ]
    return {"subject": f"[spinepath] {ALERT_SUBJECTS[notice.kind]}", "text": "\n".join(lines)}


def alert_webhook(notice: AlertNotice) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "id": notice.alert_id,
        "kind": notice.kind,
        "level": notice.level,
        "clinic": notice.clinic,
        "created_at": notice.created_at.isoformat(),
        "url": notice.url,
        "summary": ALERT_SUBJECTS[notice.kind],
    }
    if notice.patient_reference:
        alert["patient_reference"] = notice.patient_reference
    return {"event": "alert.created", "alert": alert}


def reminder_email(
    link: str, titles: list[str], clinic: str | None, safety_net: list[str]
) -> dict[str, Any]:
    """``safety_net``: the knowledge base's safety-net advice, so that a reminder never stands
    in for getting help when things get worse."""
    who = f"Your care team at {clinic}" if clinic else "Your care team"
    lines = [
        "Hello,",
        "",
        "It is time for your follow-up questionnaire about your back or neck pain"
        f" ({', '.join(titles)}). It takes a few minutes.",
        "",
        "Open your private link to answer:",
        link,
        "",
        f"{who} will see your answers. Keep this link private: anyone with it can see your "
        "answers.",
        "",
        "Do not wait for the questionnaire if things get worse:",
        *(f"- {line}" for line in safety_net),
        "",
        "To stop these e-mails, open your link and choose 'Stop reminders'.",
    ]
    return {"subject": "Your follow-up questionnaire is due", "text": "\n".join(lines)}
