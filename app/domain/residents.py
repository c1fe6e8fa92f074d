"""Who lives in a unit, as the rules see them: an owner or a tenant."""
from __future__ import annotations

from enum import StrEnum


class ResidentKind(StrEnum):
    OWNER = "owner"    # 业主: billed monthly by default
    TENANT = "tenant"  # 租户: prepays a deposit
