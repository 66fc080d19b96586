"""A single-node Apache Kafka (KRaft: broker and controller in one JVM) from Maven Central jars."""

from __future__ import annotations

import base64
import fcntl
import shutil
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from ._base import HOST, Service, ServiceError, log, run_async, run_tool

POM_DIR = Path(__file__).parent / "kafka"
JARS_DIR = POM_DIR / "target" / "dependency"

# WARN and up only: enough to diagnose a failed start, without INFO noise.
LOG4J2_CONFIG = """\
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = out
"""


def fetch_jars() -> Path:
    """Download Kafka and its dependencies into kafka/target/dependency unless already there."""
    if any(JARS_DIR.glob("kafka_2.13-*.jar")):
        return JARS_DIR
    if shutil.which("mvn") is None:
        raise ServiceError("mvn not found; install Maven (apt-get install -y maven)")
    JARS_DIR.parent.mkdir(exist_ok=True)
    # A lock, because parallel test workers would otherwise run mvn into the same folder.
    with (JARS_DIR.parent / ".fetch.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not any(JARS_DIR.glob("kafka_2.13-*.jar")):
            log.info("fetching kafka jars with maven...")
            argv = ["mvn", "-q", "-B", "dependency:copy-dependencies", "-DincludeScope=runtime"]
            run_tool(argv, "fetching kafka jars", cwd=POM_DIR)
    return JARS_DIR


def java_path() -> str:
    java = shutil.which("java")
    if java is None:
        raise ServiceError("java not found: apt-get install -y openjdk-17-jre-headless")
    return java


def new_cluster_id() -> str:
    """What `kafka-storage random-uuid` prints (base64url, no padding, not starting with '-'),
    made here to save a JVM start."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


class Kafka(Service):
    name = "kafka"

    def __init__(self, workdir: Path, port: int, controller_port: int) -> None:
        super().__init__(workdir, port)
        self.controller_port = controller_port
        self.data_dir = workdir / "kafka-data"
        self.config_path = workdir / "kafka.properties"
        self.log4j_path = workdir / "kafka-log4j2.properties"

    def start(self) -> None:
        jars, java = fetch_jars(), java_path()
        classpath = ["-cp", f"{jars}/*"]
        # A restart (stop_kafka/start_kafka) reuses config and data: same ports, same topics.
        if not (self.data_dir / "meta.properties").exists():
            self.config_path.write_text(self._server_properties())
            self.log4j_path.write_text(LOG4J2_CONFIG)
            storage_format = ["kafka.tools.StorageTool", "format", "-t", new_cluster_id()]
            config = ["-c", str(self.config_path)]
            run_tool([java, *classpath, *storage_format, *config], "kafka storage format")
        log4j = f"-Dlog4j2.configurationFile={self.log4j_path}"
        self._spawn([java, "-Xmx512m", log4j, *classpath, "kafka.Kafka", str(self.config_path)])

    def _server_properties(self) -> str:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "4",
            # One broker: internal topics must not ask for 3 replicas, and fewer partitions
            # than the default 50 make the first consumer group start faster.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Tests start consumer groups often; don't wait 3 s for more members to join.
            "group.initial.rebalance.delay.ms": "0",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def probe(self) -> bool:
        async def brokers() -> int:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.address, request_timeout_ms=5000)
            try:
                await admin.start()
                cluster = await admin.describe_cluster()
                return len(cluster["brokers"])
            finally:
                await admin.close()

        return run_async(brokers) > 0
