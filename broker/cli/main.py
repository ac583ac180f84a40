"""The ``liandong`` command line."""

import typer

app = typer.Typer(no_args_is_help=True, help="liandong 联动: court enforcement linkage network")
