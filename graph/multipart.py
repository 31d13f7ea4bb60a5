"""The GraphQL multipart request spec (github.com/jaydenseric/graphql-multipart-request-spec):
an `operations` JSON field, a `map` JSON field naming which variables each file part fills,
then the file parts. Only variables may receive files, every mapped variable must be null in
`operations`, and every mapped file must arrive; anything else is the client's mistake (400).

The body is parsed by Django's multipart parser with the upload size limit installed, so an
oversized file is cut off while it streams; its variable then holds `OVERSIZED_UPLOAD` and the
mutation reports TOO_LARGE like any other refusal. `request.body` is never read."""

from __future__ import annotations

from typing import Any

import orjson
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, UnreadablePostError
from django.http.multipartparser import MultiPartParserError

from tasks.uploads import install_upload_limits
from tasks.uploads.fingerprint import file_fingerprint
from tasks.uploads.limits import upload_too_large

MULTIPART = "multipart/form-data"
MAX_FILES = 10


class InvalidMultipart(Exception):
    """A multipart request that does not follow the spec; answered with `status`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class _OversizedUpload:
    """Stands for a file the size limit stopped while it streamed."""

    name = ""
    size = 0

    def __repr__(self) -> str:
        return "<oversized upload>"


OVERSIZED_UPLOAD = _OversizedUpload()


def is_multipart(request: HttpRequest) -> bool:
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    return request.method == "POST" and content_type == MULTIPART


def parse_body(request: HttpRequest) -> None:
    """Parses the multipart body once, with the upload size limit, turning a malformed body into
    `InvalidMultipart`. Later reads of `request.POST` / `request.FILES` (the CSRF check's among
    them) see the parsed result."""
    install_upload_limits(request)
    try:
        request.POST  # noqa: B018 (parses POST and FILES together)
    except (MultiPartParserError, UnreadablePostError) as error:
        raise InvalidMultipart(f"The multipart body is malformed: {error}") from None
    except SuspiciousOperation:  # too many fields or files, or fields over the memory limit
        raise InvalidMultipart("The multipart body has too many or too large fields.") from None


def read_operations(request: HttpRequest) -> dict[str, Any]:
    """The GraphQL request of a multipart body with its files put in place."""
    parse_body(request)
    too_large = upload_too_large(request)
    raw_operations = request.POST.get("operations")
    if raw_operations is None:
        if too_large:
            raise InvalidMultipart("The request body is over the upload size limit.", status=413)
        raise InvalidMultipart("A multipart request needs an `operations` field (JSON).")
    operations = _json_field(raw_operations, "operations")
    if isinstance(operations, list):
        raise InvalidMultipart("Batched requests (a JSON array) are not supported.")
    if not isinstance(operations, dict):
        raise InvalidMultipart("`operations` must be a JSON object.")
    raw_map = request.POST.get("map")
    if raw_map is None:
        raise InvalidMultipart("A multipart request needs a `map` field (JSON).")
    file_map = _file_map(_json_field(raw_map, "map"))

    unmapped = sorted(set(request.FILES) - set(file_map))
    if unmapped:
        raise InvalidMultipart(f"The file part `{unmapped[0]}` is not named in `map`.")
    for key, paths in file_map.items():
        files = request.FILES.getlist(key)
        if len(files) > 1:
            raise InvalidMultipart(f"The file part `{key}` was sent more than once.")
        if files:
            upload: object = files[0]
        elif too_large:
            upload = OVERSIZED_UPLOAD
        else:
            raise InvalidMultipart(f"The file part `{key}` named in `map` was not sent.")
        for path in paths:
            _put(operations, path, upload)
    return operations


def _json_field(value: str, name: str) -> object:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise InvalidMultipart(f"`{name}` is not valid JSON.") from None


def _file_map(loaded: object) -> dict[str, list[str]]:
    if not isinstance(loaded, dict):
        raise InvalidMultipart("`map` must be a JSON object of file part names to path lists.")
    if len(loaded) > MAX_FILES:
        raise InvalidMultipart(f"At most {MAX_FILES} files may be sent at once.")
    for key, paths in loaded.items():
        if (
            not isinstance(paths, list)
            or not paths
            or not all(isinstance(path, str) for path in paths)
        ):
            raise InvalidMultipart(f"`map.{key}` must be a non-empty list of variable paths.")
    return loaded


def _put(operations: dict[str, Any], path: str, upload: object) -> None:
    """Replaces the null at `path` (`variables.input.file`, list indexes as numbers)."""
    segments = path.split(".")
    refused = InvalidMultipart(f"The map path `{path}` does not point at a null variable.")
    if len(segments) < 2 or segments[0] != "variables":
        raise refused
    container: Any = operations
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if isinstance(container, dict):
            if segment not in container:
                raise refused
            if last:
                if container[segment] is not None:
                    raise refused
                container[segment] = upload
            container = container[segment]
        elif isinstance(container, list):
            if not (segment.isascii() and segment.isdigit()) or int(segment) >= len(container):
                raise refused
            index = int(segment)
            if last:
                if container[index] is not None:
                    raise refused
                container[index] = upload
            container = container[index]
        else:
            raise refused


def upload_fingerprint(value: object) -> str:
    """How an upload takes part in an Idempotency-Key fingerprint: by its bytes."""
    if value is OVERSIZED_UPLOAD:
        return "upload:oversized"
    if not isinstance(value, UploadedFile):
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return file_fingerprint(value)
