"""Schemathesis hooks for fleetlift's service API: every request is signed with AWS Signature Version 4.

Loaded by scripts/schemathesis.sh with SCHEMATHESIS_HOOKS=schemathesis_hooks (api/ on PYTHONPATH).

* FLEETLIFT_SIGV4=1 turns signing on (the service-API run); otherwise the hooks only count statuses
  (the player-API run sends `Authorization: Bearer <token>` with -H).
* Keys: FLEETLIFT_SIGV4_KEY / FLEETLIFT_SIGV4_SECRET, default the local stack's documented service key
  (AKIALOCALSERVICE0001 / local-service-secret); region FLEETLIFT_SIGV4_REGION (us-east-1); service
  execute-api.
* FLEETLIFT_STATUS_LOG=<file>: one status code per line is appended for every answer, so the script can
  show the distribution and refuse a run where authentication failed (a 401 is a documented answer, so
  a broken signer would otherwise pass every check).

The signer is hand-written (no botocore) and signs the request exactly as sent, after `requests` has
prepared it: the canonical request is what aws-sigv4 and API Gateway compute for `execute-api`: the path
normalised and percent-encoded a second time, the query form-decoded then re-encoded and sorted, the
signed headers host, x-amz-date and x-amz-content-sha256, and the SHA-256 of the body.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import urllib.parse

import requests
import schemathesis

SERVICE = "execute-api"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, as aws-sigv4's path normalisation does."""
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    normalised = "/".join(out)
    if path.endswith(("/.", "/..")):
        normalised += "/"
    return normalised if normalised.startswith("/") else "/" + normalised


def canonical_path(raw_path: str) -> str:
    """The path as sent (already percent-encoded), normalised, then encoded once more (`%` → `%25`)."""
    return urllib.parse.quote(_remove_dot_segments(raw_path or "/"), safe="/")


def canonical_query(raw_query: str) -> str:
    """Form-decoded pairs (`+` is a space), each re-encoded with only unreserved characters left, sorted."""
    pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True, errors="replace")
    encoded = sorted((urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def sign(method: str, url: str, headers: dict[str, str], body: bytes, key: str, secret: str, region: str,
         now: datetime.datetime) -> dict[str, str]:
    """The headers to add to a request so that it carries a valid SigV4 signature."""
    parts = urllib.parse.urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    payload_hash = hashlib.sha256(body).hexdigest()
    signed = {"host": parts.netloc, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
    names = sorted(signed)
    canonical_headers = "".join(f"{n}:{' '.join(signed[n].split())}\n" for n in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join([
        method.upper(),
        canonical_path(parts.path),
        canonical_query(parts.query),
        canonical_headers,
        signed_headers,
        payload_hash,
    ])
    scope = f"{date}/{region}/{SERVICE}/aws4_request"
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
    ])
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, SERVICE)
    k = _hmac(k, "aws4_request")
    signature = hmac.new(k, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return {
        "Host": parts.netloc,
        "X-Amz-Date": amz_date,
        "X-Amz-Content-Sha256": payload_hash,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
    }


class SigV4Auth(requests.auth.AuthBase):
    """Signs the prepared request (final method, URL, body) just before it is sent."""

    def __init__(self, key: str, secret: str, region: str) -> None:
        self.key, self.secret, self.region = key, secret, region

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        # Whatever the generator put in these headers is replaced by the signature's.
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Security-Token", "Host"):
            r.headers.pop(name, None)
        r.headers.update(sign(r.method or "GET", r.url or "", dict(r.headers), body, self.key, self.secret, self.region,
                              datetime.datetime.now(datetime.timezone.utc)))
        return r


@schemathesis.hook
def before_call(context, case, kwargs):
    if os.environ.get("FLEETLIFT_SIGV4") == "1":
        kwargs["auth"] = SigV4Auth(
            os.environ.get("FLEETLIFT_SIGV4_KEY", "AKIALOCALSERVICE0001"),
            os.environ.get("FLEETLIFT_SIGV4_SECRET", "local-service-secret"),
            os.environ.get("FLEETLIFT_SIGV4_REGION", "us-east-1"),
        )


@schemathesis.hook
def after_call(context, case, response):
    log = os.environ.get("FLEETLIFT_STATUS_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            why = ""
            if response.status_code >= 400:
                try:
                    error = response.json().get("error") or {}
                    why = f" [{error.get('field', '')}] {error.get('message', '')}"[:200]
                except Exception:  # noqa: BLE001 - a non-JSON body is reported by the checks themselves
                    why = " <not JSON>"
            f.write(f"{response.status_code} {case.operation.label}{why}\n")

