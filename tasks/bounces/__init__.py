"""Bounced emails becoming a phone call: reading the bounce mailbox, what a bounce means for a case or an LA's register row, correcting a contact, and the bounce-check job."""
