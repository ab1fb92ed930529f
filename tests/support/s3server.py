"""A real S3-compatible HTTP server on loopback for the S3 storage backend's tests: moto's
``ThreadedMotoServer`` (werkzeug serving moto's S3 API over real HTTP, boto3 talks to it as to
any S3 endpoint)."""

from __future__ import annotations

from tests.servers import free_port, wait_for_port

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "eu-central-1"


class S3Server:
    """moto's S3 server on a free port of 127.0.0.1; ``bucket(name)`` makes a bucket."""

    def __init__(self):
        self.port = free_port()
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port)
        self._server.start()
        wait_for_port(self.port)
        return self

    def client(self):
        """A boto3 client of the server (to look at what the plugin stored)."""
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.url, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        )

    def bucket(self, name: str) -> str:
        """Create the bucket ``name`` (empty) and return its name."""
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every key stored in ``bucket``."""
        answer = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def settings(self, bucket: str) -> dict:
        """The plugin's settings that store attachments in ``bucket`` of this server."""
        return {
            "RESPONSO_CHAT_FILES_STORAGE": "s3",
            "RESPONSO_CHAT_FILES_S3_ENDPOINT_URL": self.url,
            "RESPONSO_CHAT_FILES_S3_BUCKET": bucket,
            "RESPONSO_CHAT_FILES_S3_REGION": REGION,
            "RESPONSO_CHAT_FILES_S3_ACCESS_KEY": ACCESS_KEY,
            "RESPONSO_CHAT_FILES_S3_SECRET_KEY": SECRET_KEY,
        }
