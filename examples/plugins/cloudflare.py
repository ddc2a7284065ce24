#!/usr/bin/env python3
"""rotor exec plugin: a Cloudflare API token, rolled (overlap none: use strategy cutover).

config:
    token_id       the id of the token to roll
    base_url       "https://api.cloudflare.com" (default)
    admin_key_env  the environment variable holding a token allowed to roll it
                   (default CLOUDFLARE_ADMIN_TOKEN; list it in env = [...])

Rolling gives the token a new value and ends the old value at once, so a
retried create simply rolls again (the lost value of the first roll is dead
too), and undo cannot bring the old value back.
"""

import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))

from rotor_plugin import Permanent, Plugin, bearer, env_secret, http, keep_secret, serve  # noqa: E402


class Cloudflare(Plugin):
    def base(self, req):
        return str(req.config.get("base_url") or "https://api.cloudflare.com").rstrip("/")

    def verifies(self, req, token):
        if not token:
            return False
        status, reply = http("GET", self.base(req) + "/client/v4/user/tokens/verify",
                             {"Authorization": bearer(token)})
        if status == 200:
            result = (reply or {}).get("result") or {}
            return bool((reply or {}).get("success")) and result.get("status") == "active"
        if status in (401, 403):
            return False
        raise Permanent("Cloudflare answered %d to GET /client/v4/user/tokens/verify%s" % (status, errors_of(reply)))

    def describe(self, req):
        return {"provider": "cloudflare", "overlap": "none", "max_live": 1, "mints": True, "fields": ["value"]}

    def create(self, req):
        token_id = str(req.require("token_id"))
        admin = env_secret(req.config.get("admin_key_env") or "CLOUDFLARE_ADMIN_TOKEN")
        path = "/client/v4/user/tokens/%s/value" % urllib.parse.quote(token_id, safe="")
        status, reply = http("PUT", self.base(req) + path, {"Authorization": bearer(admin)}, {})
        if status != 200 or not (reply or {}).get("success") or not isinstance(reply.get("result"), str):
            raise Permanent("Cloudflare answered %d to PUT %s%s" % (status, path, errors_of(reply)))
        return {"value": keep_secret(reply["result"])}

    def test(self, req):
        return {"accepted": self.verifies(req, req.new.value)}

    def finish(self, req):
        return {}

    def revoke(self, req):
        return {}  # the roll already ended the old value

    def undo(self, req):
        if req.old is None or not req.old.value or self.verifies(req, req.old.value):
            return {}  # nothing was rolled (or nothing rotor knows to bring back)
        raise Permanent("Cloudflare's roll cannot be undone: the old token stopped working when the new "
                        "one was made; deliver the new one with `rotor resume`")


def errors_of(reply):
    if isinstance(reply, dict) and isinstance(reply.get("errors"), list):
        messages = [str(e.get("message")) for e in reply["errors"] if isinstance(e, dict) and e.get("message")]
        if messages:
            return ": %s" % "; ".join(messages)
    return ""


if __name__ == "__main__":
    serve(Cloudflare())
