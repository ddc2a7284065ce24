#!/usr/bin/env python3
"""rotor exec plugin: an S3 access key pair (IAM/MinIO-style, two keys per user), overlap dual.

config:
    user           the user whose access keys rotate
    base_url       the admin API's base URL
    admin_key_env  the environment variable holding the admin API's bearer
                   token (default S3_ADMIN_KEY; list it in env = [...])

create labels the new key with rotor's version id, so a retry deletes what an
interrupted attempt made; the old key keeps working until revoke
deactivates and deletes it.
"""

import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))

from rotor_plugin import Permanent, Plugin, bearer, env_secret, http, keep_secret, serve  # noqa: E402

LIMIT = 2


class S3(Plugin):
    def setup(self, req, admin=True):
        self.base = str(req.require("base_url")).rstrip("/")
        self.keys_path = "/iam/users/%s/access-keys" % urllib.parse.quote(str(req.require("user")), safe="")
        if admin:
            self.auth = {"Authorization": bearer(env_secret(req.config.get("admin_key_env") or "S3_ADMIN_KEY"))}

    def call(self, method, path, body=None, ok=(200,)):
        status, reply = http(method, self.base + path, self.auth, body)
        if status not in ok:
            raise Permanent("the S3 admin API answered %d to %s %s%s" % (status, method, path, message_of(reply)))
        return status, reply

    def keys(self):
        _, reply = self.call("GET", self.keys_path)
        return [k for k in (reply or {}).get("keys") or [] if isinstance(k, dict)]

    def key_path(self, key_id):
        return "%s/%s" % (self.keys_path, urllib.parse.quote(key_id, safe=""))

    def delete(self, key_id):
        self.call("DELETE", self.key_path(key_id), ok=(200, 204, 404))

    def delete_labelled(self, version):
        if not version:
            # An unlabelled key (the adopted one) must never count as "made under this version".
            raise Permanent("rotor sent no version id for new, so keys made for it cannot be found")
        for key in self.keys():
            if key.get("label") == version:
                self.delete(key["access_key_id"])

    def describe(self, req):
        return {"provider": "s3", "overlap": "dual", "max_live": LIMIT, "mints": True, "fields": ["user", "value"]}

    def create(self, req):
        self.setup(req)
        self.delete_labelled(req.new.version)
        left = self.keys()
        if len(left) >= LIMIT:
            raise Permanent("the user already has %d access keys, the limit (%s); retire one first"
                            % (len(left), ", ".join("%s %s" % (k.get("access_key_id"), k.get("status"))
                                                    for k in left)))
        status, reply = self.call("POST", self.keys_path, {"label": req.new.version}, ok=(200, 201, 409))
        if status == 409:
            raise Permanent("the user reached the limit of %d access keys (LimitExceeded)" % LIMIT)
        key_id = (reply or {}).get("access_key_id")
        secret = (reply or {}).get("secret_access_key")
        if not key_id or not secret:
            raise Permanent("the reply to POST %s has no access_key_id or secret_access_key" % self.keys_path)
        keep_secret(secret)
        return {"user": key_id, "value": secret}

    def test(self, req):
        self.setup(req, admin=False)
        if not req.new.user or not req.new.value:
            return {"accepted": False}
        status, _ = http("GET", self.base + "/whoami",
                         {"Authorization": "AWS-KEY %s:%s" % (req.new.user, keep_secret(req.new.value))})
        if status in (200, 401, 403):
            return {"accepted": status == 200}
        raise Permanent("GET /whoami answered %d" % status)

    def revoke(self, req):
        if req.old is None:
            return {}
        if not req.old.user:
            raise Permanent("rotor does not know the old access key id (old.user), so it cannot revoke it")
        if req.new.user and req.new.user == req.old.user:
            raise Permanent("old and new are the same access key; refusing to revoke it")
        self.setup(req)
        status, _ = self.call("PATCH", self.key_path(req.old.user), {"status": "Inactive"}, ok=(200, 204, 404))
        if status != 404:
            self.delete(req.old.user)
        return {}

    def undo(self, req):
        self.setup(req)
        self.delete_labelled(req.new.version)
        if req.new.user and (req.old is None or req.new.user != req.old.user):
            self.delete(req.new.user)
        if req.old is not None and req.old.user:
            if any(k.get("access_key_id") == req.old.user for k in self.keys()):
                self.call("PATCH", self.key_path(req.old.user), {"status": "Active"})
        return {}


def message_of(reply):
    if isinstance(reply, dict):
        text = " ".join(str(reply[k]) for k in ("error", "message") if reply.get(k))
        if text:
            return ": %s" % text
    return ""


if __name__ == "__main__":
    serve(S3())
