"""Referral intake: the inbox (one safe reader and hand-off for every file), a referral record into a case with its first events and emails, and the intake job (`job.run`)."""
