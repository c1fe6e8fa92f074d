"""Command-line tasks: flask seed-demo, flask create-user, flask backup."""
from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path

import click
from flask import current_app

from app.domain.errors import DomainError
from app.domain.roles import Role
from app.extensions import db
from app.services import clock


def register_cli(app) -> None:
    @app.cli.command("seed-demo")
    @click.option("--force", is_flag=True, help="Wipe a non-empty database first.")
    @click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if data exists.")
    def seed_demo(force: bool, if_empty: bool):
        """Load the demo property 阳光花园 (refuses a non-empty database without --force)."""
        from app import demo
        if if_empty and not force and not demo.database_is_empty():
            click.echo("Database already holds data; demo not loaded again.")
            return
        try:
            counts = demo.seed(force=force)
        except demo.NotEmpty:
            db.session.rollback()
            raise click.ClickException(
                "The database is not empty. Use --force to wipe it and load the demo.") from None
        db.session.commit()
        click.echo("Demo property loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()))

    @app.cli.command("demo-logins")
    def demo_logins():
        """Print the demo accounts."""
        print_demo_logins()

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--name", "full_name", prompt="Full name")
    @click.option("--role", "roles", multiple=True, default=["manager"],
                  type=click.Choice([r.value for r in Role]), show_default=True)
    @click.option("--password", envvar="PSD_NEW_PASSWORD", default=None,
                  help="Read from PSD_NEW_PASSWORD or asked for when not given.")
    def create_user(username: str, full_name: str, roles: tuple[str, ...], password: str | None):
        """Create a real staff account (by default a manager)."""
        from app.services import staff
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Repeat password: "):
                raise click.ClickException("The passwords differ.")
        try:
            user = staff.create_user(username, full_name, password, roles)
        except DomainError as err:
            db.session.rollback()
            raise click.ClickException(str(err.message)) from None
        db.session.commit()
        click.echo(f"Created {user.username} ({', '.join(user.roles)}).")

    @app.cli.command("backup")
    @click.argument("target", required=False, type=click.Path(path_type=Path))
    def backup(target: Path | None):
        """Copy the SQLite database consistently (online); for PostgreSQL use pg_dump."""
        url = current_app.config["SQLALCHEMY_DATABASE_URI"]
        if not url.startswith("sqlite:///"):
            raise click.ClickException("Not SQLite: back up PostgreSQL with pg_dump.")
        source = Path(url.removeprefix("sqlite:///"))
        target = target or source.with_name(
            f"backup-{clock.local():%Y%m%d-%H%M%S}.sqlite3")
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        click.echo(f"Backed up to {target}")



def print_demo_logins() -> None:
    """List the demo accounts that exist here and still have the demo password."""
    from sqlalchemy import select

    from app.demo import DEMO_PASSWORD
    from app.demo.data import STAFF
    from app.models import User

    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_([s[0] for s in STAFF]), User.active.is_(True)))}
    rows = [(u, users[u]) for u, *_ in STAFF
            if u in users and users[u].check_password(DEMO_PASSWORD)]
    if not rows:
        return
    click.echo("")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD})")
    for username, user in rows:
        click.echo(f"  {username:<14} {user.full_name:<6} {', '.join(user.roles)}")
    click.echo("")
