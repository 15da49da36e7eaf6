"""Schemathesis hooks for Fieldkit's kit API: teaches it the tus upload body type.

`PATCH /v1/uploads/{id}` takes `application/offset+octet-stream` (tus 1.0 core), raw
bytes that schemathesis has no built-in serializer for.
"""

import schemathesis


@schemathesis.serializer("application/offset+octet-stream")
def offset_octet_stream(ctx, value):
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8")
