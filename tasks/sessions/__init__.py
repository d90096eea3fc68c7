"""Mediation meetings: booking, moving, cancelling and concluding (one transaction each, with its emails and calendar invitations), reminders, and the reminders job."""
