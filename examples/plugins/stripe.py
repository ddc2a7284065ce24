#!/usr/bin/env python3
"""rotor exec plugin: Stripe API keys (v2 IAM API keys), overlap fixed-grace.

config:
    base_url       "https://api.stripe.com" (default)
    admin_key_env  the environment variable holding the key that manages API
                   keys (default STRIPE_ADMIN_KEY; list it in env = [...])
    grace_seconds  how long the old key keeps working after create (default
                   3600); a duration string "grace" ("90s", "30m", "1h",
                   "2d") is read when grace_seconds is not given

create names the new key after rotor's version id, so a retry after a crash
first expires whatever an earlier attempt made under that name.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))

from rotor_plugin import Permanent, Plugin, bearer, env_secret, http, keep_secret, serve  # noqa: E402

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def provider_expiry(config):
    """Whether config says Stripe, not the plugin, decides when the old key expires."""
    return str(config.get("expiry") or "") == "provider"


def grace_seconds(config):
    if config.get("grace_seconds") is not None:
        value = config["grace_seconds"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Permanent("config grace_seconds must be a whole number of seconds >= 0")
        return value
    grace = config.get("grace")
    if grace is None:
        return 3600
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", str(grace))
    if not match:
        raise Permanent("config grace must look like 90s, 30m, 1h or 2d")
    return int(match.group(1)) * UNITS[match.group(2)]


def expired(expires_at):
    """True when a listed key's expires_at (unix seconds, or RFC 3339) has passed."""
    if expires_at is None:
        return False
    if isinstance(expires_at, (int, float)):
        return expires_at <= time.time()
    try:
        from datetime import datetime
        return datetime.fromisoformat(str(expires_at).replace("Z", "+00:00")).timestamp() <= time.time()
    except ValueError:
        return False


class Stripe(Plugin):
    def setup(self, req):
        self.base = str(req.config.get("base_url") or "https://api.stripe.com").rstrip("/")
        self.auth = {"Authorization": bearer(env_secret(req.config.get("admin_key_env") or "STRIPE_ADMIN_KEY"))}

    def call(self, method, path, body=None, ok=(200,)):
        status, reply = http(method, self.base + path, self.auth, body)
        if status not in ok:
            raise Permanent("Stripe answered %d to %s %s%s" % (status, method, path, error_of(reply)))
        return status, reply

    def key_id(self, cred):
        """The API key id of `cred`: its user, else looked up with its value; None if it no longer works."""
        if cred.user:
            return cred.user
        if not cred.value:
            raise Permanent("rotor knows neither the id nor the value of %s" % cred.version)
        status, reply = http("GET", self.base + "/v1/account", {"Authorization": bearer(cred.value)})
        if status == 401:
            return None
        if status != 200 or not isinstance(reply, dict) or not reply.get("key_id"):
            raise Permanent("Stripe answered %d to GET /v1/account%s" % (status, error_of(reply)))
        return reply["key_id"]

    def expire(self, key_id, seconds):
        self.call("POST", "/v2/iam/api_keys/%s/expire" % key_id, {"expires_in": seconds}, ok=(200, 404))

    def expire_named(self, name):
        if not name:
            # An unnamed key (the adopted one) must never count as "made under this version".
            raise Permanent("rotor sent no version id for new, so keys made for it cannot be found")
        _, reply = self.call("GET", "/v2/iam/api_keys")
        for key in (reply or {}).get("data") or []:
            if key.get("name") == name and not expired(key.get("expires_at")):
                self.expire(key["id"], 0)

    def describe(self, req):
        if provider_expiry(req.config):
            # config expiry = "provider": the old key is left for Stripe to
            # expire (or for revoke); no grace is set at create.
            return {"provider": "stripe", "overlap": "provider-controlled",
                    "max_live": 10, "mints": True, "fields": ["user", "value"]}
        return {"provider": "stripe", "overlap": "fixed-grace", "grace_seconds": grace_seconds(req.config),
                "max_live": 10, "mints": True, "fields": ["user", "value"]}

    def create(self, req):
        grace = grace_seconds(req.config)
        if not req.new.version:
            raise Permanent("rotor sent no version id for new; create labels the key with it")
        self.setup(req)
        old_id = self.key_id(req.old) if req.old else None
        self.expire_named(req.new.version)
        _, key = self.call("POST", "/v2/iam/api_keys", {"name": req.new.version})
        if not isinstance(key, dict) or not key.get("secret") or not key.get("id"):
            raise Permanent("Stripe's reply to POST /v2/iam/api_keys has no id or secret")
        keep_secret(key["secret"])
        if old_id is not None and provider_expiry(req.config):
            pass
        elif old_id is not None:
            self.expire(old_id, grace)
        elif req.old:
            sys.stderr.write("stripe: the old key no longer authenticates; no grace to set\n")
        return {"value": key["secret"], "user": key["id"]}

    def test(self, req):
        if not req.new.value:
            return {"accepted": False}
        self.base = str(req.config.get("base_url") or "https://api.stripe.com").rstrip("/")
        status, _ = http("GET", self.base + "/v1/account", {"Authorization": bearer(req.new.value)})
        return {"accepted": status == 200}

    def revoke(self, req):
        if req.old is None:
            return {}
        self.setup(req)
        old_id = self.key_id(req.old)
        if old_id is not None:
            self.expire(old_id, 0)
        return {}

    def undo(self, req):
        self.setup(req)
        self.expire_named(req.new.version)
        if req.old is not None:
            old_id = self.key_id(req.old)
            if old_id is None:
                raise Permanent("the old key no longer authenticates and rotor does not know its id, "
                                "so its expiry cannot be cleared")
            self.expire(old_id, None)
        return {}


def error_of(reply):
    if isinstance(reply, dict) and isinstance(reply.get("error"), dict):
        message = reply["error"].get("message")
        if message:
            return ": %s" % message
    return ""


if __name__ == "__main__":
    serve(Stripe())
