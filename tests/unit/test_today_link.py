"""The watchdog's log line about the `today` screen: counts and the screen's address (a link in the
run's Logs tab, one click from the dashboard's home page)."""

import re

from tasks.operations.today import today_log_line

# what Prefect 3.9's V2 log view turns into a link (prefect/server/ui-v2/assets/run-logs-*.js)
UI_LINK = re.compile(r"""(https?://[^\s/$.?#].[^\s)"('[{<>}]*)""")


def test_line_gives_the_address_of_the_screen_as_a_link_and_the_counts():
    line = today_log_line({"Phone these families": 2, "Clocks due today": 8}, "http://127.0.0.1:4311/")
    assert UI_LINK.findall(line) == ["http://127.0.0.1:4311/artifacts/key/today"]
    assert "phone these families 2" in line and "clocks due today 8" in line
    assert "\n" not in line


def test_without_a_ui_address_the_line_names_the_artifact():
    line = today_log_line({"Clocks due today": 0}, None)
    assert not UI_LINK.findall(line)
    assert "`today`" in line
