"""Placeholder: number 0007 belongs to another branch; delete this file when merging it.

Only here so that this branch's 0008 keeps the numbering without a gap. It
changes nothing; a database that ran it must run the real 0007 by hand.
"""


def upgrade(db, migrator) -> None:
    pass
