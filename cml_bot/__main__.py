"""``python -m cml_bot``: the same CLI as ``cml-bot``."""

from cml_bot.cli import main

main(prog_name="cml-bot")
