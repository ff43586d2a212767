"""Demo data, written on first start so every endpoint answers at once.

Runs when ``service.seed_demo_data`` is true and the ``users`` table is empty. Everything is
written in one transaction: a crash leaves either all of it or none. The data is fixed (same
users, posts, comments and messages every time) so user ids 1-5 exist in a fresh database.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from plexichat.service.db_engine import Database
from plexichat.service.models import Comment, Message, Post, User, utc_now

DEMO_USERS = (
    ("alice", "Alice Liddell"),
    ("bob", "Bob Marley"),
    ("carol", "Carol Danvers"),
    ("dave", "Dave Bowman"),
    ("erin", "Erin Brockovich"),
)
POSTS_PER_USER = 3
COMMENTS_PER_POST = (0, 1, 3)
"""Comments on each user's 1st, 2nd and 3rd post, so comment counts and "popular" differ."""


async def seed_demo_data(database: Database) -> bool:
    """Write the demo data if the database has no users; return whether it did."""
    async with database.sessions() as session:
        if await session.scalar(select(User.id).limit(1)) is not None:
            return False
        start = utc_now() - timedelta(hours=len(DEMO_USERS) * POSTS_PER_USER)
        users = [
            User(username=name, display_name=display, created_at=start)
            for name, display in DEMO_USERS
        ]
        session.add_all(users)
        await session.flush()

        minute = 0
        for author_index, author in enumerate(users):
            for post_index in range(POSTS_PER_USER):
                minute += 1
                at = start + timedelta(minutes=10 * minute)
                post = Post(
                    user_id=author.id,
                    title=f"{author.display_name}'s post #{post_index + 1}",
                    body=f"Hello from {author.username}, post {post_index + 1}.",
                    created_at=at,
                    comment_count=COMMENTS_PER_POST[post_index],
                )
                session.add(post)
                await session.flush()
                for comment_index in range(COMMENTS_PER_POST[post_index]):
                    commenter = users[(author_index + comment_index + 1) % len(users)]
                    session.add(
                        Comment(
                            post_id=post.id,
                            user_id=commenter.id,
                            body=f"{commenter.username} replies to {author.username}",
                            created_at=at + timedelta(minutes=comment_index + 1),
                        )
                    )
            recipient = users[(author_index + 1) % len(users)]
            session.add(
                Message(
                    sender_id=author.id,
                    recipient_id=recipient.id,
                    body=f"Hi {recipient.display_name}, {author.display_name} here.",
                    created_at=start + timedelta(minutes=author_index),
                )
            )
        try:
            await session.commit()
        except IntegrityError:  # another process seeded the same empty database first
            await session.rollback()
            return False
    return True
