"""What agents keep beside tickets: tasks grouped in projects, and contacts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column, relationship

from responso_chat.models.base import Base, UserId, UTCDateTime, utcnow


class Project(Base):
    """A group of tasks."""

    __tablename__ = "responso_chat_project"
    id = mapped_column(sa.Integer, primary_key=True)
    name = mapped_column(sa.String(100), nullable=False, unique=True)
    description = mapped_column(sa.Text, nullable=False, default="")
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    tasks = relationship("Task", back_populates="project")


class Task(Base):
    """A to-do item, usually linked to a ticket, optionally in a project."""

    __tablename__ = "responso_chat_task"
    __table_args__ = (sa.Index("ix_responso_chat_task_assignee", "assignee_id", "done"),)
    id = mapped_column(sa.Integer, primary_key=True)
    title = mapped_column(sa.String(200), nullable=False)
    description = mapped_column(sa.Text, nullable=False, default="")
    assignee_id = mapped_column(UserId, nullable=True)
    due_date = mapped_column(sa.Date, nullable=True)
    done = mapped_column(sa.Boolean, nullable=False, default=False)
    project_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_project.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )
    ticket_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_ticket.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    project = relationship("Project", back_populates="tasks")
    ticket = relationship("Ticket", back_populates="tasks")


class Contact(Base):
    """A person the shop talks to; "add sender to contacts" creates one from a ticket."""

    __tablename__ = "responso_chat_contact"
    id = mapped_column(sa.Integer, primary_key=True)
    name = mapped_column(sa.String(100), nullable=False)
    email = mapped_column(sa.String(254), nullable=False, unique=True)
    phone = mapped_column(sa.String(40), nullable=False, default="")
    notes = mapped_column(sa.Text, nullable=False, default="")
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
