"""A slip seen from the office: its page and timeline, its printouts, the desk's actions."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("slips", __name__, url_prefix="/slips")
