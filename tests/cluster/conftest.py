"""A three-node RabbitMQ cluster started for a test and stopped, every node, when it ends."""

from __future__ import annotations

import pytest

from tests.cluster.rabbitmq_cluster import RabbitCluster, rabbitmq_scripts
from tests.conftest import _missing


@pytest.fixture
def rabbitmq_cluster(tmp_path_factory):
    scripts = rabbitmq_scripts()
    if scripts is None:
        _missing("the RabbitMQ server scripts (rabbitmq-server, rabbitmqctl in /usr/lib/rabbitmq/bin or "
                 "RABBITMQ_SCRIPTS_DIR) to start a three-node cluster")
    cluster = RabbitCluster(tmp_path_factory.mktemp("rabbitmq-cluster"), scripts)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
