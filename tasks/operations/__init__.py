"""Running unattended: the Today screen's content, the watchdog job, what is waiting for `drs serve`, scheduled-run load, progress on a terminal, live processes."""
