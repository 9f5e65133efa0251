"""Huey tasks of the notifications app: thin, safe to run twice."""

from huey.contrib.djhuey import db_task


@db_task()
def send_subscribe_message_task(message_id: int) -> None:
    from .actions import send_subscribe_message

    send_subscribe_message(message_id)
