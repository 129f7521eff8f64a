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

    @group.command("generate-demo-data")
    @click.option("--cranes", type=click.IntRange(1, 1_000_000), required=True, help="how many cranes")
    @click.option("--seed", type=int, default=1, show_default=True, help="same seed, same data")
    @click.option("--if-empty", is_flag=True, help="do nothing when demo data of this seed exists")
    def generate_demo_data(cranes, seed, if_empty):
        """Cranes across every Hubei city and county with ~24 months of cases, reviews, spot checks and
        hazards, for the statistics dashboard (never run this in production)."""
        import time

        from engine.services.demo_data import AlreadyGenerated, generate_demo_data as generate

        started = time.perf_counter()
        try:
            with write() as s:
                summary = generate(s, cranes=cranes, seed=seed)
        except AlreadyGenerated as exc:
            if if_empty:
                click.echo(f"demo data: {exc}")
                return
            raise click.ClickException(str(exc)) from None
        figures = ", ".join(f"{k} {v}" for k, v in summary.as_dict().items())
        click.echo(f"demo data generated in {time.perf_counter() - started:.1f} s: {figures}")

    @group.command("rebuild-statistics")
    def rebuild_statistics():
        """Recount the statistics rollups from the tasks (after loading tasks in bulk outside the engine)."""
        import time

        from engine.services.statistics import rollup

        started = time.perf_counter()
        with write() as s:
            rows = rollup.rebuild(s)
        click.echo(f"review-time rollup rebuilt in {time.perf_counter() - started:.1f} s: {rows} rows")

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

    @group.command("issue-certificates")
    def issue_certificates():
        """Issue the filing and use registration certificates of cranes that have none yet."""
        from engine.db import utcnow
        from engine.services import certificates

        with write() as s:
            issued = certificates.issue_missing(s, at=utcnow())
        click.echo(f"certificates issued: {issued}")

    @group.command("rotate-certificate-key")
    def rotate_certificate_key():
        """Sign certificates with a new key from now on; the old key's public key keeps verifying the
        certificates it signed (remove its file from the .retired folder to withdraw it)."""
        from engine.services import audit, certificates

        old, new = certificates.rotate_signing_key()
        with write() as s:
            audit.record(s, action="certificate_key_rotated", retired=old, current=new)
        click.echo(f"certificate signing key rotated: {old} retired to {certificates.retired_keys_dir()}, "
                   f"now signing with {new}")

    @group.command("audit-verify")
    @click.option("--chain", default=None, help="Verify one chain only, e.g. case:42 or system.")
    def audit_verify(chain):
        """Verify the tamper-evident audit chains; exit status 1 when a chain is broken."""
        from engine.services import audit_chain

        from .extensions import db

        report, _ = audit_chain.run(db.engine, chain=chain)
        for line in audit_chain.report_lines(report):
            click.echo(line)
        raise SystemExit(0 if report.ok else 1)
