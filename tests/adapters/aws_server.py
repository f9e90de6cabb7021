"""A moto server (ThreadedMotoServer, 127.0.0.1) and the AWS resources the adapter tests use.

boto3 and moto are imported only inside the helpers, so that a missing package skips the tests
that need it (or fails them under CI=true) instead of breaking collection.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from adapter_servers import free_port

REGION = "us-east-1"
COHORT_DIMENSIONS = {
    "baseline": {"FunctionName": "app", "Resource": "app:live", "ExecutedVersion": "1"},
    "canary": {"FunctionName": "app", "Resource": "app:live", "ExecutedVersion": "2"},
}
SOURCE_METRICS: list[dict[str, Any]] = [
    {"name": "errors", "kind": "ratio", "namespace": "AWS/Lambda",
     "total": "Invocations", "failed": "Errors"},
    {"name": "cpu", "kind": "gauge", "namespace": "AWS/Lambda", "value": "ConcurrentExecutions"},
]  # fmt: skip


def require_modules(*names: str) -> None:
    """Skips when a package is missing, but fails under CI=true (as `require_binary` does)."""
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if not missing:
        return
    reason = f"{', '.join(missing)} not installed (pip install 'moto[server]' boto3)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def client_at(endpoint: str, service: str, attempts: int = 1, timeout: float = 2.0) -> Any:
    """A boto3 client for `endpoint` with dummy credentials and no retries by default."""
    require_modules("boto3")
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "total_max_attempts": attempts},
    )
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def dead_client(service: str) -> Any:
    """A client whose endpoint is a port nobody listens on."""
    return client_at(f"http://127.0.0.1:{free_port()}", service, timeout=1.0)


@dataclass(frozen=True)
class MotoSetup:
    endpoint: str

    def client(self, service: str) -> Any:
        # moto builds a backend on its first call (EC2: several seconds), so wait long enough
        return client_at(self.endpoint, service, timeout=30.0)


@contextlib.contextmanager
def running_moto() -> Iterator[MotoSetup]:
    """moto in server mode on a free port of 127.0.0.1, as a real AWS endpoint over HTTP.

    One at a time: every moto server of a process shares one state, which this resets.
    """
    require_modules("boto3", "moto")
    from moto.server import ThreadedMotoServer

    # port 0: the OS picks a free port at bind time, so no other process can take it first
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # moto keeps its state per process, not per server: start from nothing
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=5).close()
        yield MotoSetup(endpoint)
    finally:
        server.stop()


@dataclass(frozen=True)
class LambdaAlias:
    function: str
    alias: str
    versions: dict[str, str]  # per cohort
    foreign: str  # a third published version, owned by nobody in the tests


def lambda_alias(moto: MotoSetup, function: str = "app", alias: str = "live") -> LambdaAlias:
    """A function with versions 1, 2, 3 and an alias on version 1."""
    iam, lam = moto.client("iam"), moto.client("lambda")
    role = iam.create_role(RoleName=f"{function}-role", AssumeRolePolicyDocument="{}")
    versions = []
    for n in range(3):
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as z:
            z.writestr("index.py", f"def handler(event, context):\n    return {n}\n")
        if n == 0:
            lam.create_function(
                FunctionName=function,
                Runtime="python3.11",
                Role=role["Role"]["Arn"],
                Handler="index.handler",
                Code={"ZipFile": code.getvalue()},
            )
        else:
            lam.update_function_code(FunctionName=function, ZipFile=code.getvalue())
        versions.append(lam.publish_version(FunctionName=function)["Version"])
    lam.create_alias(FunctionName=function, Name=alias, FunctionVersion=versions[0])
    return LambdaAlias(
        function, alias, {"baseline": versions[0], "canary": versions[1]}, versions[2]
    )


@dataclass(frozen=True)
class ALBListener:
    listener_arn: str
    rule_arn: str
    target_groups: dict[str, str]  # per cohort
    foreign: str  # a third target group


def alb_listener(moto: MotoSetup, name: str = "app") -> ALBListener:
    """An ALB whose listener forwards to the baseline group, plus a path rule doing the same."""
    ec2, elb = moto.client("ec2"), moto.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    lb = elb.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]
    arns = [
        elb.create_target_group(Name=f"{name}-{g}", Protocol="HTTP", Port=80, VpcId=vpc)[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        for g in ("blue", "green", "other")
    ]
    forward = [{"Type": "forward", "TargetGroupArn": arns[0]}]
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=forward
    )["Listeners"][0]["ListenerArn"]
    rule = elb.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
        Actions=forward,
    )["Rules"][0]["RuleArn"]
    return ALBListener(listener, rule, {"baseline": arns[0], "canary": arns[1]}, arns[2])


@dataclass(frozen=True)
class ECSService:
    cluster: str
    service: str
    task_sets: dict[str, str]  # task set ID per cohort
    alb: ALBListener


def ecs_service(moto: MotoSetup, name: str = "app") -> ECSService:
    """A Fargate service (EXTERNAL controller) with a task set per cohort, each on its own
    target group of `alb_listener`; the baseline's is primary at 100 %, the canary's at 0 %."""
    alb, ecs = alb_listener(moto, name), moto.client("ecs")
    ecs.create_cluster(clusterName=name)
    container = {"name": "web", "image": "nginx", "memory": 128}
    family = ecs.register_task_definition(family=name, containerDefinitions=[container])
    ecs.create_service(
        cluster=name,
        serviceName=name,
        desiredCount=10,
        launchType="FARGATE",
        deploymentController={"type": "EXTERNAL"},
    )
    created: dict[str, dict[str, Any]] = {}
    for cohort, group in alb.target_groups.items():
        balancer = {"targetGroupArn": group, "containerName": "web", "containerPort": 80}
        created[cohort] = ecs.create_task_set(
            cluster=name,
            service=name,
            taskDefinition=family["taskDefinition"]["taskDefinitionArn"],
            externalId=cohort,
            launchType="FARGATE",
            loadBalancers=[balancer],
            scale={"unit": "PERCENT", "value": 100.0 if cohort == "baseline" else 0.0},
        )["taskSet"]
    primary = created["baseline"]["taskSetArn"]  # moto ignores an ID here
    ecs.update_service_primary_task_set(cluster=name, service=name, primaryTaskSet=primary)
    return ECSService(name, name, {c: t["id"] for c, t in created.items()}, alb)


def put_points(
    cloudwatch: Any,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, str],
    points: Mapping[float, float],
) -> None:
    """Records `points` (value per Unix time) of one metric, as AWS services do."""
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
            "Timestamp": datetime.fromtimestamp(ts, UTC),
            "Value": value,
            "StorageResolution": 1,
        }
        for ts, value in points.items()
    ]
    for i in range(0, len(data), 500):  # PutMetricData takes at most 1,000 datapoints
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[i : i + 500])


@dataclass(frozen=True)
class RouterSetup:
    router: Any
    moto: MotoSetup


@contextlib.contextmanager
def running_lambda(directory: Path) -> Iterator[RouterSetup]:
    """moto with a Lambda alias, and a router on it (`directory` is unused: no files)."""
    from sentra_adapters.traffic.registry import routers

    with running_moto() as moto:
        a = lambda_alias(moto)
        router = routers.create(
            "aws_lambda",
            function=a.function,
            alias=a.alias,
            versions=a.versions,
            client=moto.client("lambda"),
        )
        yield RouterSetup(router, moto)


@contextlib.contextmanager
def running_alb(directory: Path) -> Iterator[RouterSetup]:
    """moto with an ALB listener, and a router on it (`directory` is unused: no files)."""
    from sentra_adapters.traffic.registry import routers

    with running_moto() as moto:
        alb = alb_listener(moto)
        router = routers.create(
            "aws_alb",
            listener_arn=alb.listener_arn,
            target_groups=alb.target_groups,
            client=moto.client("elbv2"),
        )
        yield RouterSetup(router, moto)


@contextlib.contextmanager
def running_ecs(directory: Path) -> Iterator[RouterSetup]:
    """moto with an ECS service behind an ALB, and a router on it (`directory` is unused)."""
    from sentra_adapters.traffic.registry import routers

    with running_moto() as moto:
        svc = ecs_service(moto)
        router = routers.create(
            "aws_ecs",
            cluster=svc.cluster,
            service=svc.service,
            task_sets=svc.task_sets,
            listener_arn=svc.alb.listener_arn,
            ecs_client=moto.client("ecs"),
            elbv2_client=moto.client("elbv2"),
        )
        yield RouterSetup(router, moto)


def cloudwatch_source(moto: MotoSetup, step: int = 5) -> Any:
    """A CloudWatch source over SOURCE_METRICS with a minute of data for both cohorts."""
    from sentra_adapters.telemetry.registry import sources

    cloudwatch = moto.client("cloudwatch")
    now = time.time()
    times = [now - 60 + i * step for i in range(60 // step)]
    for cohort, dims in COHORT_DIMENSIONS.items():
        failed = 1.0 if cohort == "baseline" else 3.0
        put_points(cloudwatch, "AWS/Lambda", "Invocations", dims, dict.fromkeys(times, 20.0))
        put_points(cloudwatch, "AWS/Lambda", "Errors", dims, dict.fromkeys(times, failed))
        put_points(
            cloudwatch, "AWS/Lambda", "ConcurrentExecutions", dims, dict.fromkeys(times, 4.0)
        )
    return sources.create(
        "cloudwatch",
        cohorts=COHORT_DIMENSIONS,
        metrics=SOURCE_METRICS,
        step=step,
        client=cloudwatch,
    )


@dataclass
class StubAWS:
    """An endpoint answering every request with one canned error; counts the requests."""

    endpoint: str
    requests: list[str] = field(default_factory=list)


@contextlib.contextmanager
def answering(status: int, headers: Mapping[str, str], body: bytes) -> Iterator[StubAWS]:
    """A local endpoint that answers every request with `status`, `headers` and `body`."""
    stub = StubAWS("")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            stub.requests.append(f"{self.command} {self.path}")
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    stub.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
