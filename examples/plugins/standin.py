#!/usr/bin/env python3
"""Local stand-ins for the providers the example plugins talk to, for tests.

    python3 standin.py --provider stripe|twilio|cloudflare|s3 --port-file PATH \
        --admin-key KEY --seed-key VALUE [--seed-user ID] [--account-sid SID]

Serves HTTP on 127.0.0.1 on a port the kernel picks, writes that port to
PATH (atomically) once it listens, and runs until killed. State lives in
memory. Each stand-in follows the shape of its provider's documented API
closely enough for the example plugins, not more; the initial state is one
live credential whose value is --seed-key. Values are never logged.

Management calls authenticate with `Authorization: Bearer <admin-key>`
(twilio: HTTP Basic account-sid:auth-token). Every provider also has

    GET /_standin/state   (no auth)
    {"provider": ..., "credentials": [{"id", "label", "status", "sha256"}],
     "calls": ["METHOD /path", ...]}   (in order; /_standin/state itself not counted)

with the sha256 (hex) of each value instead of the value, so a test can see
which value is live. Statuses: stripe live | expiring | expired; twilio
primary | secondary | revoked; cloudflare active | revoked; s3 active |
inactive | revoked (deleted).

stripe (v2 IAM API keys):
    POST /v2/iam/api_keys {"name"}                  -> {"id", "secret", "name", "expires_at"}
    GET  /v2/iam/api_keys                           -> {"data": [{"id", "name", "expires_at"}]}
    POST /v2/iam/api_keys/{id}/expire {"expires_in"} -> {"id", "expires_at"}
         expires_in seconds: expire then (0: now; an already expired key
         stays expired). expires_in null: clear the expiry, so the key is
         live again even if it had expired -- not something Stripe does; the
         stand-in's aid for a plugin's undo of a grace it set.
    GET  /v1/account  (Bearer <key secret>)         -> {"key_id"} or 401
    expires_at is a unix timestamp (seconds) or null; expired = expires_at <= now.
twilio (auth token with a secondary):
    GET    /2010-04-01/Accounts/{sid}.json  -> 200 for the primary or secondary token, else 401
    POST   /v1/AuthTokens/Secondary         -> 201 {"secondary_auth_token"} (replaces one there)
    DELETE /v1/AuthTokens/Secondary         -> 204 (also when there is none)
    POST   /v1/AuthTokens/Promote           -> 200; the secondary becomes the primary and the
                                               old primary stops working; 400 without a secondary
cloudflare (API tokens; the seed token's id is tok_1):
    GET /client/v4/user/tokens/verify  (Bearer <token value>) -> {"success": true, "result": {"id", "status"}}
    PUT /client/v4/user/tokens/{id}/value  (Bearer <admin-key>) -> {"success": true, "result": "<new value>"}
        the old value stops working at once.
s3 (IAM/MinIO-style access keys of the one user "app", at most 2):
    POST   /iam/users/{user}/access-keys {"label"} -> {"access_key_id", "secret_access_key"} or 409
    GET    /iam/users/{user}/access-keys           -> {"keys": [{"access_key_id", "status", "label"}]}
    PATCH  /iam/users/{user}/access-keys/{id} {"status": "Active"|"Inactive"}
    DELETE /iam/users/{user}/access-keys/{id}      -> 204 (also when missing)
    GET    /whoami  (Authorization: AWS-KEY <id>:<secret>) -> {"access_key_id"} or 403
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import string
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sha(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same(a, b):
    return a is not None and b is not None and hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class Reply(Exception):
    """Raised by a route to answer: status, JSON body (None: no body)."""

    def __init__(self, status, body=None):
        super().__init__(status)
        self.status = status
        self.body = body


class Provider:
    name = ""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.calls = []

    # helpers for routes
    def admin(self, headers):
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme != "Bearer" or not same(token, self.args.admin_key):
            raise Reply(401, {"error": {"type": "authentication_error", "message": "bad admin key"}})

    @staticmethod
    def bearer(headers):
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        return token if scheme == "Bearer" else None

    def routes(self):
        return []

    def credentials(self):
        return []

    def state(self):
        return {"provider": self.name, "credentials": self.credentials(), "calls": list(self.calls)}


# --------------------------------------------------------------------- stripe

class Stripe(Provider):
    name = "stripe"

    def __init__(self, args):
        super().__init__(args)
        self.keys = {}   # id -> {"id", "name", "secret", "expires_at"}
        self.next = 1
        self._add(None, args.seed_key)

    def _add(self, name, secret):
        key = {"id": "rk_%d" % self.next, "name": name, "secret": secret, "expires_at": None}
        self.next += 1
        self.keys[key["id"]] = key
        return key

    @staticmethod
    def expired(key):
        return key["expires_at"] is not None and key["expires_at"] <= time.time()

    def status(self, key):
        if key["expires_at"] is None:
            return "live"
        return "expired" if self.expired(key) else "expiring"

    def credentials(self):
        return [{"id": k["id"], "label": k["name"], "status": self.status(k), "sha256": sha(k["secret"])}
                for k in self.keys.values()]

    def routes(self):
        return [
            ("POST", r"/v2/iam/api_keys", self.create),
            ("GET", r"/v2/iam/api_keys", self.list),
            ("POST", r"/v2/iam/api_keys/(?P<id>[^/]+)/expire", self.expire),
            ("GET", r"/v1/account", self.account),
        ]

    def create(self, headers, body):
        self.admin(headers)
        name = (body or {}).get("name")
        if name is not None and not isinstance(name, str):
            raise Reply(400, {"error": {"type": "invalid_request_error", "message": "name must be a string"}})
        key = self._add(name, "rk_live_" + secrets.token_urlsafe(24))
        return 200, {"id": key["id"], "secret": key["secret"], "name": key["name"], "expires_at": None}

    def list(self, headers, body):
        self.admin(headers)
        return 200, {"data": [{"id": k["id"], "name": k["name"], "expires_at": k["expires_at"]}
                              for k in self.keys.values()]}

    def expire(self, headers, body, id):
        self.admin(headers)
        key = self.keys.get(id)
        if key is None:
            raise Reply(404, {"error": {"type": "invalid_request_error", "message": "no such api key"}})
        if not isinstance(body, dict) or "expires_in" not in body:
            raise Reply(400, {"error": {"type": "invalid_request_error", "message": "expires_in is required"}})
        seconds = body["expires_in"]
        if seconds is None:
            key["expires_at"] = None
        elif isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds >= 0:
            if not self.expired(key):
                key["expires_at"] = time.time() + seconds
        else:
            raise Reply(400, {"error": {"type": "invalid_request_error",
                                        "message": "expires_in must be seconds >= 0 or null"}})
        return 200, {"id": key["id"], "expires_at": key["expires_at"]}

    def account(self, headers, body):
        token = self.bearer(headers)
        for key in self.keys.values():
            if same(token, key["secret"]) and not self.expired(key):
                return 200, {"key_id": key["id"]}
        raise Reply(401, {"error": {"type": "authentication_error", "message": "invalid api key"}})


# --------------------------------------------------------------------- twilio

class Twilio(Provider):
    name = "twilio"

    def __init__(self, args):
        super().__init__(args)
        if not args.account_sid:
            sys.exit("standin: twilio needs --account-sid")
        self.sid = args.account_sid
        self.tokens = []   # {"id", "value", "status"}
        self.next = 1
        self._add(args.seed_key, "primary")

    def _add(self, value, status):
        token = {"id": "token_%d" % self.next, "value": value, "status": status}
        self.next += 1
        self.tokens.append(token)
        return token

    def _with(self, status):
        for token in self.tokens:
            if token["status"] == status:
                return token
        return None

    def credentials(self):
        return [{"id": t["id"], "label": None, "status": t["status"], "sha256": sha(t["value"])}
                for t in self.tokens]

    def routes(self):
        return [
            ("GET", r"/2010-04-01/Accounts/(?P<sid>[^/]+)\.json", self.account),
            ("POST", r"/v1/AuthTokens/Secondary", self.create_secondary),
            ("DELETE", r"/v1/AuthTokens/Secondary", self.delete_secondary),
            ("POST", r"/v1/AuthTokens/Promote", self.promote),
        ]

    def basic(self, headers):
        auth = headers.get("Authorization") or ""
        scheme, _, cred = auth.partition(" ")
        if scheme == "Basic":
            try:
                user, _, password = base64.b64decode(cred, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = password = None
            if same(user, self.sid):
                for token in self.tokens:
                    if token["status"] in ("primary", "secondary") and same(password, token["value"]):
                        return token
        raise Reply(401, {"code": 20003, "message": "Authenticate", "status": 401})

    def account(self, headers, body, sid):
        self.basic(headers)
        if sid != self.sid:
            raise Reply(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
        return 200, {"sid": self.sid, "status": "active"}

    def create_secondary(self, headers, body):
        self.basic(headers)
        old = self._with("secondary")
        if old is not None:
            old["status"] = "revoked"
        token = self._add(secrets.token_hex(16), "secondary")
        return 201, {"account_sid": self.sid, "secondary_auth_token": token["value"]}

    def delete_secondary(self, headers, body):
        self.basic(headers)
        old = self._with("secondary")
        if old is not None:
            old["status"] = "revoked"
        return 204, None

    def promote(self, headers, body):
        self.basic(headers)
        secondary = self._with("secondary")
        if secondary is None:
            raise Reply(400, {"code": 20001, "message": "No secondary auth token to promote", "status": 400})
        primary = self._with("primary")
        if primary is not None:
            primary["status"] = "revoked"
        secondary["status"] = "primary"
        return 200, {"account_sid": self.sid, "auth_token": "[hidden]"}


# ----------------------------------------------------------------- cloudflare

class Cloudflare(Provider):
    name = "cloudflare"

    def __init__(self, args):
        super().__init__(args)
        self.values = []   # every value a token ever had: {"id", "value", "status"}
        self.values.append({"id": "tok_1", "value": args.seed_key, "status": "active"})

    def credentials(self):
        return [{"id": v["id"], "label": None, "status": v["status"], "sha256": sha(v["value"])}
                for v in self.values]

    def routes(self):
        return [
            ("GET", r"/client/v4/user/tokens/verify", self.verify),
            ("PUT", r"/client/v4/user/tokens/(?P<id>[^/]+)/value", self.roll),
        ]

    @staticmethod
    def fail(status, code, message):
        raise Reply(status, {"success": False, "errors": [{"code": code, "message": message}],
                             "messages": [], "result": None})

    def verify(self, headers, body):
        token = self.bearer(headers)
        for v in self.values:
            if v["status"] == "active" and same(token, v["value"]):
                return 200, {"success": True, "errors": [], "messages": [],
                             "result": {"id": v["id"], "status": "active"}}
        self.fail(401, 1000, "Invalid API Token")

    def roll(self, headers, body, id):
        if not same(self.bearer(headers), self.args.admin_key):
            self.fail(401, 10000, "Authentication error")
        current = [v for v in self.values if v["id"] == id and v["status"] == "active"]
        if not current:
            self.fail(404, 1003, "Token not found")
        for v in current:
            v["status"] = "revoked"
        new = {"id": id, "value": secrets.token_urlsafe(30), "status": "active"}
        self.values.append(new)
        return 200, {"success": True, "errors": [], "messages": [], "result": new["value"]}


# ------------------------------------------------------------------------- s3

class S3(Provider):
    name = "s3"
    USER = "app"
    LIMIT = 2

    def __init__(self, args):
        super().__init__(args)
        if not args.seed_user:
            sys.exit("standin: s3 needs --seed-user (the seed access key id)")
        self.keys = []   # {"access_key_id", "secret", "status": Active|Inactive|deleted, "label"}
        self.keys.append({"access_key_id": args.seed_user, "secret": args.seed_key,
                          "status": "Active", "label": None})

    def credentials(self):
        shown = {"Active": "active", "Inactive": "inactive", "deleted": "revoked"}
        return [{"id": k["access_key_id"], "label": k["label"], "status": shown[k["status"]],
                 "sha256": sha(k["secret"])} for k in self.keys]

    def routes(self):
        keys = r"/iam/users/(?P<user>[^/]+)/access-keys"
        return [
            ("POST", keys, self.create),
            ("GET", keys, self.list),
            ("PATCH", keys + r"/(?P<id>[^/]+)", self.patch),
            ("DELETE", keys + r"/(?P<id>[^/]+)", self.delete),
            ("GET", r"/whoami", self.whoami),
        ]

    def existing(self):
        return [k for k in self.keys if k["status"] != "deleted"]

    def find(self, id):
        for k in self.existing():
            if k["access_key_id"] == id:
                return k
        return None

    def user(self, headers, user):
        self.admin(headers)
        if user != self.USER:
            raise Reply(404, {"error": "NoSuchEntity", "message": "no such user"})

    def create(self, headers, body, user):
        self.user(headers, user)
        label = (body or {}).get("label")
        if len(self.existing()) >= self.LIMIT:
            raise Reply(409, {"error": "LimitExceeded",
                              "message": "the user already has %d access keys" % self.LIMIT})
        alnum = string.ascii_uppercase + string.digits
        key = {"access_key_id": "AKIA" + "".join(secrets.choice(alnum) for _ in range(16)),
               "secret": "".join(secrets.choice(string.ascii_letters + string.digits + "+/")
                                 for _ in range(40)),
               "status": "Active", "label": label}
        self.keys.append(key)
        return 200, {"access_key_id": key["access_key_id"], "secret_access_key": key["secret"]}

    def list(self, headers, body, user):
        self.user(headers, user)
        return 200, {"keys": [{"access_key_id": k["access_key_id"], "status": k["status"],
                               "label": k["label"]} for k in self.existing()]}

    def patch(self, headers, body, user, id):
        self.user(headers, user)
        key = self.find(id)
        if key is None:
            raise Reply(404, {"error": "NoSuchEntity", "message": "no such access key"})
        status = (body or {}).get("status")
        if status not in ("Active", "Inactive"):
            raise Reply(400, {"error": "InvalidInput", "message": "status must be Active or Inactive"})
        key["status"] = status
        return 200, {"access_key_id": key["access_key_id"], "status": key["status"]}

    def delete(self, headers, body, user, id):
        self.user(headers, user)
        key = self.find(id)
        if key is not None:
            key["status"] = "deleted"
        return 204, None

    def whoami(self, headers, body):
        auth = headers.get("Authorization") or ""
        scheme, _, cred = auth.partition(" ")
        id, _, secret = cred.partition(":")
        key = self.find(id) if scheme == "AWS-KEY" else None
        if key is None or key["status"] != "Active" or not same(secret, key["secret"]):
            raise Reply(403, {"error": "InvalidClientTokenId", "message": "access denied"})
        return 200, {"access_key_id": key["access_key_id"]}


PROVIDERS = {"stripe": Stripe, "twilio": Twilio, "cloudflare": Cloudflare, "s3": S3}


def handler_for(provider):
    table = [(method, re.compile(pattern + r"\Z"), fn) for method, pattern, fn in provider.routes()]

    class Handler(BaseHTTPRequestHandler):
        server_version = "standin"
        sys_version = ""

        def log_message(self, format, *args):
            pass  # silent: a request line or header could carry a value

        def answer(self, status, body):
            data = b"" if body is None else json.dumps(body).encode("utf-8")
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        def dispatch(self):
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            if self.command == "GET" and path == "/_standin/state":
                with provider.lock:
                    return self.answer(200, provider.state())
            with provider.lock:
                provider.calls.append("%s %s" % (self.command, path))
                try:
                    try:
                        body = json.loads(raw.decode("utf-8")) if raw else None
                    except (ValueError, UnicodeDecodeError):
                        raise Reply(400, {"error": "the body is not JSON"})
                    known = False
                    for method, pattern, fn in table:
                        match = pattern.match(path)
                        if match:
                            known = True
                            if method == self.command:
                                status, out = fn(self.headers, body, **match.groupdict())
                                break
                    else:
                        raise Reply(405 if known else 404, {"error": "no such route"})
                except Reply as r:
                    status, out = r.status, r.body
            self.answer(status, out)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = dispatch

    return Handler


def main():
    ap = argparse.ArgumentParser(description="local provider stand-ins for rotor's example plugins")
    ap.add_argument("--provider", required=True, choices=sorted(PROVIDERS))
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--admin-key", required=True)
    ap.add_argument("--seed-key", required=True)
    ap.add_argument("--seed-user")
    ap.add_argument("--account-sid")
    args = ap.parse_args()

    provider = PROVIDERS[args.provider](args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(provider))
    server.daemon_threads = True
    tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
