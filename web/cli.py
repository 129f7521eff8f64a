"""Operator commands: `flask --app web.wsgi craneflow <command>`."""
import os

import click
from flask import Flask
from flask_migrate import upgrade

from engine.services import definitions

from .transactions import write


def register_cli(app: Flask) -> None:
    @app.cli.group("craneflow")
    def group():
        """CraneFlow set-up and operations."""

    @group.command("setup-db")
    def setup_db():
        """Apply migrations, load administrative divisions and deploy the BPMN catalog."""
        from engine.services.reference_data import load_regions

        upgrade()
        with write() as s:
            added = load_regions(s)
            deployed = definitions.deploy_catalog(s)
        click.echo(f"regions added: {added}")
        for definition, created in deployed:
            state = "deployed" if created else "unchanged"
            click.echo(f"{definition.process_key} v{definition.version} {state}")

    @group.command("seed-demo")
    @click.option("--password", default=lambda: os.environ.get("DEMO_PASSWORD", "CraneFlow-demo-2026"))
    def seed_demo(password):
        """Create the demo enterprises and accounts (never run this in production)."""
        from engine.services.demo import DEMO_ACCOUNTS, seed_demo_data

        with write() as s:
            created = seed_demo_data(s, password=password)
        click.echo(f"demo accounts created: {created}")
        click.echo("accounts: " + ", ".join(name for name, *_ in DEMO_ACCOUNTS) + f"  password: {password}")

    @group.command("validate")
    @click.argument("process_key")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def validate(process_key, path):
        """Validate a BPMN file for a catalog process; prints file:line element message."""
        with open(path, "rb") as fh:
            problems = definitions.validate(fh.read(), process_key=process_key, file_name=os.path.basename(path))
        for p in problems:
            click.echo(f"{p['file']}:{p['line'] or '?'} [{p['element'] or '-'}] {p['message']}")
        raise SystemExit(1 if problems else 0)
