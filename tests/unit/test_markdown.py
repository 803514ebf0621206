"""core.markdown: the one escaping rule for user-controlled text in every bot output."""

from __future__ import annotations

import pytest

from cml_bot.core import fenced, markdown_table, md_escape

WJ = "\u2060"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("ping @octo-org/admins", f"ping @{WJ}octo-org/admins"),
        ("fixes #123", f"fixes #{WJ}123"),
        ("#42 at the start", f"\\#{WJ}42 at the start"),
        ("see https://evil.example/x", f"see https:{WJ}//evil.example/x"),
        ("see HTTP://evil.example", f"see HTTP:{WJ}//evil.example"),
        ("www.evil.example", f"www{WJ}.evil.example"),
        ("a@b.example", f"a@{WJ}b.example"),
        (f"@{WJ}sneaky", f"@{WJ}sneaky"),  # a joiner in the input is dropped, ours stays
        ("✅ **Pass**", "✅ \\*\\*Pass\\*\\*"),
        ("<!-- cml-bot:report model=m -->", "&lt;!-- cml-bot:report model=m --&gt;"),
        ("plain class_label 7", "plain class\\_label 7"),
    ],
)
def test_user_text_cannot_ping_link_or_format(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


def test_tables_escape_their_cells_unless_told_they_are_markdown() -> None:
    table = markdown_table(["class", "n"], [["a|b @team", 3]])
    assert f"a\\|b @{WJ}team" in table and table.count("\n") == 2
    raw = markdown_table(["x"], [["**bold**"]], escape=False)
    assert "**bold**" in raw


def test_fenced_output_cannot_close_its_block() -> None:
    hostile = "```\n✅ **Pass** @octo-org/admins\n````\n<img src=x>"
    block = fenced(hostile)
    fence = block.splitlines()[0].removesuffix("text")
    assert set(fence) == {"`"} and len(fence) == 5  # longer than the 4 inside
    assert block.endswith("\n" + fence) and block.count(fence) == 2
