"""MySQL/MariaDB: every table and the database default in utf8mb4, whatever the server's default.

A database created latin1 refuses non-ASCII names and reasons (1366 Incorrect string value) and
fails comparisons with utf8mb4 parameters (1267 Illegal mix of collations). Its tables are
converted in place, to the database's own utf8mb4 collation if it has one, else
utf8mb4_unicode_ci (MySQL and MariaDB both have it); a deployment already in utf8mb4 is left as
it is. CONVERT widens TEXT to MEDIUMTEXT to keep its length in characters, which the models do
not declare, so TEXT columns are set back (65,535 bytes still hold 16,383 characters). The
database default makes later tables utf8mb4 too. SQLite stores UTF-8 already: nothing to do.
Downgrading keeps utf8mb4: back in latin1 the characters it cannot hold would be lost.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHARSET, FALLBACK_COLLATION = "utf8mb4", "utf8mb4_unicode_ci"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "mysql":
        return
    database, current = bind.execute(sa.text("SELECT DATABASE(), @@collation_database")).one()
    collation = current if current.startswith(f"{CHARSET}_") else FALLBACK_COLLATION
    op.execute(f"ALTER DATABASE `{database}` CHARACTER SET {CHARSET} COLLATE {collation}")
    tables = bind.scalars(
        sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            " AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'"
            " AND table_collation <> :collation"
        ),
        {"collation": collation},
    ).all()
    if not tables:
        return
    # MariaDB refuses to change the charset of a column in a foreign key, even with the checks
    # off: the keys are dropped, the tables converted, and the keys added back as they were
    keys = _foreign_keys(bind)
    for key in keys:
        op.execute(f"ALTER TABLE `{key.table}` DROP FOREIGN KEY `{key.name}`")
    for table in tables:
        _convert(bind, table, collation)
    for key in keys:
        op.execute(key.create())


class _ForeignKey(NamedTuple):  # not a dataclass: Alembic loads this module outside sys.modules
    table: str
    name: str
    columns: tuple[str, ...]
    referred: str
    referred_columns: tuple[str, ...]
    on_update: str
    on_delete: str

    def create(self) -> str:
        rules = "".join(
            f" ON {when} {rule}"
            for when, rule in (("DELETE", self.on_delete), ("UPDATE", self.on_update))
            if rule not in ("RESTRICT", "NO ACTION")  # the defaults, left implicit as created
        )
        return (
            f"ALTER TABLE `{self.table}` ADD CONSTRAINT `{self.name}` FOREIGN KEY "
            f"({_names(self.columns)}) REFERENCES `{self.referred}` "
            f"({_names(self.referred_columns)}){rules}"
        )


def _names(columns: tuple[str, ...]) -> str:
    return ", ".join(f"`{c}`" for c in columns)


def _foreign_keys(bind: sa.Connection) -> list[_ForeignKey]:
    rows = bind.execute(
        sa.text(
            "SELECT k.table_name, k.constraint_name, k.column_name, k.referenced_table_name,"
            " k.referenced_column_name, r.update_rule, r.delete_rule"
            " FROM information_schema.key_column_usage k"
            " JOIN information_schema.referential_constraints r"
            " ON r.constraint_schema = k.constraint_schema"
            " AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name"
            " WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL"
            " ORDER BY k.table_name, k.constraint_name, k.ordinal_position"
        )
    ).all()
    grouped: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for row in rows:
        grouped.setdefault((row[0], row[1]), []).append(tuple(row))
    return [
        _ForeignKey(
            table=table,
            name=name,
            columns=tuple(r[2] for r in parts),
            referred=parts[0][3],
            referred_columns=tuple(r[4] for r in parts),
            on_update=parts[0][5],
            on_delete=parts[0][6],
        )
        for (table, name), parts in grouped.items()
    ]


def _convert(bind: sa.Connection, table: str, collation: str) -> None:
    texts = bind.execute(
        sa.text(
            "SELECT column_name, is_nullable FROM information_schema.columns"
            " WHERE table_schema = DATABASE() AND table_name = :table AND data_type = 'text'"
        ),
        {"table": table},
    ).all()
    op.execute(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET {CHARSET} COLLATE {collation}")
    for column, nullable in texts:
        null = "NULL" if nullable == "YES" else "NOT NULL"
        op.execute(f"ALTER TABLE `{table}` MODIFY `{column}` TEXT {null}")


def downgrade() -> None:
    pass
