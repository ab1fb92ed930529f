"""Where attachments' bytes live: one interface, two backends.

- :class:`LocalStorage` (the default, the embedded mode): a folder, ``FILES_FOLDER`` or
  ``responso_chat_files`` in the app's instance folder.
- :class:`S3Storage`: an S3-compatible object storage (Amazon S3, MinIO, Ceph, ...) through
  boto3, set with the ``FILES_S3_*`` settings.

Keys are made by the plugin (``t<ticket>/<random>.<ext>``), never from a client's name.
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

from flask import current_app

from responso_chat.state import plugin_state

#: What a storage key may look like (made by the plugin; checked again before any use).
KEY = re.compile(r"t[0-9]+/[A-Za-z0-9_-]{16,64}(\.thumb)?\.[a-z0-9]{1,8}")


class StorageError(Exception):
    """The storage could not keep or give back a file."""


class Storage:
    """What the plugin asks of a storage backend."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (a new key: never overwrites a file in use)."""
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; :class:`FileNotFoundError` when there are none."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove ``key``; a key already gone is not an error (deletes are retried)."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a file."""
        raise NotImplementedError


def _checked(key: str) -> str:
    if not KEY.fullmatch(key or ""):
        raise StorageError(f"not a storage key: {key!r}")
    return key


class LocalStorage(Storage):
    """Files in a folder of the server (one process or several on one machine)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / _checked(key)

    def put(self, key, data, content_type):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed: a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key):
        return self._path(key).read_bytes()

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def exists(self, key):
        return self._path(key).is_file()


@lru_cache(maxsize=8)
def _s3_client(endpoint_url: str, region: str, access_key: str, secret_key: str):
    """A boto3 S3 client (thread-safe, so shared) for these settings."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        config=Config(retries={"max_attempts": 3, "mode": "standard"},
                      connect_timeout=5, read_timeout=30),
    )


class S3Storage(Storage):
    """Objects in a bucket of an S3-compatible storage (any number of machines)."""

    def __init__(self, bucket: str, *, endpoint_url="", region="", access_key="", secret_key=""):
        self.bucket = bucket
        self.client = _s3_client(endpoint_url, region, access_key, secret_key)

    def put(self, key, data, content_type):
        self.client.put_object(
            Bucket=self.bucket, Key=_checked(key), Body=data, ContentType=content_type
        )

    def get(self, key):
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=_checked(key))
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None
        return answer["Body"].read()

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=_checked(key))

    def exists(self, key):
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=_checked(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def default_folder() -> str:
    """The local storage's folder when ``FILES_FOLDER`` is empty."""
    return os.path.join(current_app.instance_path, "responso_chat_files")


def storage() -> Storage:
    """The app's storage backend, as its settings say."""
    state = plugin_state()
    if state.setting("FILES_STORAGE") == "s3":
        return S3Storage(
            state.setting("FILES_S3_BUCKET"),
            endpoint_url=state.setting("FILES_S3_ENDPOINT_URL"),
            region=state.setting("FILES_S3_REGION"),
            access_key=state.setting("FILES_S3_ACCESS_KEY"),
            secret_key=state.setting("FILES_S3_SECRET_KEY"),
        )
    return LocalStorage(state.setting("FILES_FOLDER") or default_folder())
