"""The variables each message may use besides the reference facts, with an example value of each.

Every message can use the centre's facts from content/reference.yml ({{ reception.phone }}…).
A few messages also get values from the conversation; they are listed here, in one place, and a
test checks this list against the code's actual calls (tests/test_content_variables.py). The
checker refuses any other variable, and the preview page shows the messages with these examples.
"""

from __future__ import annotations

from types import MappingProxyType

from contentlib.store import Markdown

MESSAGE_VARIABLES: MappingProxyType[str, dict[str, object]] = MappingProxyType(
    {
        "ask_record": {
            "name": "Pathology reports",
            "contains": "the analyses of tissue taken during a biopsy, a puncture or surgery.",
        },
        "record_guidance": {
            "how_to_get": "ask your doctor or the hospital's pathology department for the reports.",
        },
        "summary": {
            "answers": Markdown(
                "- Type of cancer: Breast\n- Records: Pathology reports (I have it)"
                "\n- Name: Marie Dupont\n- Phone: +32 470 12 34 56"
            ),
        },
        # Every line of the summary, one per answer: summary_lines.<field>.
        "summary_lines": {"value": "Breast"},
        "summary_record_line": {"name": "Pathology reports", "state": "I have it"},
        "handoff_done": {"reference": "SO-2026-00042", "department": "Breast Clinic"},
        "handoff_checklist": {
            "items": Markdown(
                "- Imaging and its reports (Not yet)\n- Blood test results (Not yet)"
            ),
        },
        "handoff_checklist_item": {"name": "Blood test results", "state": "Not yet"},
        "callback_done": {"reference": "SO-2026-00042"},
        "handoff_arrived": {"reference": "SO-2026-00042"},
        "callback_arrived": {"reference": "SO-2026-00042"},
        "status_report": {
            "reference": "SO-2026-00042",
            "status": Markdown("reception is working on it."),
        },
        "staff_message": {"reference": "SO-2026-00042"},
        # A file the patient sent, and its label (records.<label>.name, or records_label_other).
        "records_received_guess": {"label": "Pathology reports"},
        "records_received": {"label": "Pathology reports"},
        "records_label_set": {"label": "Blood test results"},
        "records_upload_link": {"link": "http://localhost:8000/records/kW3v_9xQe-Tz1LmNoPq2rS"},
        # The upload page's address, as a link (the action writes it as Markdown).
        "records_link": {
            "reference": "SO-2026-00042",
            "link": Markdown(
                "[http://localhost:8090/records/kW3v\\_9xQe-Tz1LmNoPq2rS]"
                "(http://localhost:8090/records/kW3v_9xQe-Tz1LmNoPq2rS)"
            ),
        },
        "follow_up_reminder": {"reference": "SO-2026-00042"},
        "missing_records_list": {
            "reference": "SO-2026-00042",
            "items": Markdown("- Imaging and its reports\n- Blood test results"),
        },
        "missing_records_none": {"reference": "SO-2026-00042"},
        # Reception's canned replies (replies.<code>.text), filled in from the ticket.
        "replies": {
            "name": "Marie Dupont",
            "reference": "SO-2026-00042",
            "missing_records": Markdown("- Imaging and its reports\n- Blood test results"),
        },
    }
)


def variables_of(key: str) -> dict[str, object]:
    """The example values of the variables that message `key` may use (none for most).

    A group's entry serves each of its messages: "summary_lines" for "summary_lines.phone".
    """
    group = key.partition(".")[0]
    return dict(MESSAGE_VARIABLES.get(key) or MESSAGE_VARIABLES.get(group) or {})
