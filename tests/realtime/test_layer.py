"""The channels-redis layer is configured for a crowd (channels-redis 4.3 with redis-py 8)."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels_redis.utils import create_pool

pytestmark = pytest.mark.redis


def test_socket_timeout_outlasts_the_layers_blocking_read():
    """redis-py's default 5 s socket timeout would cut the layer's 5 s BZPOPMIN short, and a
    timed-out read looks like a lost layer: every idle socket would be closed with 1011."""
    layer = get_channel_layer()
    pool = create_pool(layer.hosts[0])
    assert pool.connection_kwargs["socket_timeout"] > layer.brpop_timeout
    assert pool.max_connections >= 1000


def test_many_concurrent_layer_operations_do_not_exhaust_the_pool():
    """redis-py's default pool raises "Too many connections" past 100 concurrent commands."""

    async def crowd() -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        groups = [f"crowd-test.{n}" for n in range(300)]
        try:
            await asyncio.gather(*(layer.group_add(group, channel) for group in groups))
        finally:
            await asyncio.gather(*(layer.group_discard(group, channel) for group in groups))

    asyncio.run(crowd())
