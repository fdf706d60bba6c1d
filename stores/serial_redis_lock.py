"""Rasa's Redis lock store, made safe for several replicas.

Rasa 3.6's RedisLockStore issues and returns tickets with a read-modify-write of one Redis key
(get the lock, change it, save it) that is not atomic: when two replicas receive a message of the
same conversation at the same moment, both can take the same ticket, process the conversation at
the same time, and the later save drops the other's events (seen in tests/prod/test_prod.py). Here every
read-modify-write of a conversation's lock runs under a short Redis mutex (SET NX with expiry,
released by token), so tickets are handed out one at a time across all replicas.

Configured in endpoints.prod.yml as `type: stores.serial_redis_lock.SerialRedisLockStore`, with
the same settings as Rasa's `redis` type.
"""

from __future__ import annotations

from typing import Text

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

MUTEX_SECONDS = 10  # no read-modify-write of a lock takes this long; a crashed holder frees it then


class SerialRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _mutex(self, conversation_id: Text):  # type: ignore[no-untyped-def]
        return self.red.lock(
            "%s%s:mutex" % (self.key_prefix, conversation_id), timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS
        )

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: Text) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)
