"""The demo data set's tables: the North-West LAs (real names and ONS codes), mediators, made-up
names, decisions and the weighted scenarios each demo case plays (`tasks/cases/demo.py`)."""

from __future__ import annotations

from tasks.cases.registry import LaRow

NORTH_WEST_LAS = (
    ("E08000006", "Salford", ["Salford City Council"], 45),
    ("E08000003", "Manchester", ["Manchester City Council"], 45),
    ("E08000001", "Bolton", ["Bolton Council"], 45),
    ("E08000002", "Bury", ["Bury Council"], 45),
    ("E08000004", "Oldham", ["Oldham Council"], 45),
    ("E08000005", "Rochdale", ["Rochdale Borough Council"], 40),
    ("E08000007", "Stockport", ["Stockport Council"], 45),
    ("E08000008", "Tameside", ["Tameside Council"], 45),
    ("E08000009", "Trafford", ["Trafford Council"], 45),
    ("E08000010", "Wigan", ["Wigan Council"], 45),
    ("E06000008", "Blackburn with Darwen", ["Blackburn", "Blackburn with Darwen Borough Council"], 35),
)
MEDIATORS = (
    ("Mediator Alpha Demo", "alpha.mediator@service.example"),
    ("Mediator Beta Demo", "beta.mediator@service.example"),
    ("Mediator Gamma Demo", "gamma.mediator@service.example"),
)
FIRST = (
    "Ada",
    "Bram",
    "Cleo",
    "Dev",
    "Esme",
    "Finn",
    "Gwen",
    "Hari",
    "Isla",
    "Jude",
    "Kit",
    "Lena",
    "Milo",
    "Nia",
    "Otto",
)
LAST = ("Demoford", "Sampleton", "Testwell", "Fictly", "Mockridge", "Placeholder", "Exampleby")
DECISIONS = (
    "refuse_assessment",
    "refuse_assessment",
    "refuse_plan",
    "plan_contents",
    "plan_contents",
    "refuse_reassessment",
    "refuse_amend",
    "cease_plan",
)
SCENARIOS = (  # (name, weight)
    ("new", 6),
    ("informed", 8),
    ("declined_pending", 5),
    ("declined_issued", 40),
    ("requested", 6),
    ("la_received", 6),
    ("session_booked", 8),
    ("concluded_agreed", 8),
    ("concluded_not_agreed", 5),
    ("concluded_issued", 8),
    ("withdrawn", 4),
    ("deemed", 3),
    ("drs", 6),
    ("closed", 5),
)


def demo_la_rows() -> list[LaRow]:
    rows = []
    for code, name, aliases, rate in NORTH_WEST_LAS:
        slug = name.lower().replace(" ", "")
        rows.append(
            LaRow(
                code=code,
                name=name,
                aliases=aliases,
                sen_team_email=f"sen.team@{slug}.example",
                finance_email=f"finance@{slug}.example",
                mileage_rate_pence=rate,
                receipt_threshold_pence=1000,
                claim_window_days=90,
            )
        )
    return rows
