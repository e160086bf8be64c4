"""The care loop after an assessment: alerts for the clinic, their delivery by e-mail and
signed webhooks through a durable outbox, and follow-up reminders for patients."""
