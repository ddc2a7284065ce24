#!/usr/bin/env python3
"""rotor exec plugin: a Twilio account's Auth Token, through the secondary token.

config:
    account_sid  the account (AC...)
    base_url     "https://api.twilio.com" (default); the Accounts API and the
                 accounts.twilio.com AuthTokens API are both called on it
                 unless accounts_base_url is given

create makes a secondary token (replacing a secondary an interrupted attempt
left), finish promotes it to primary, which ends the old token. Twilio has
no admin key: every call authenticates with the account's own tokens.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))

from rotor_plugin import Permanent, Plugin, basic_auth, http, keep_secret, serve  # noqa: E402


class Twilio(Plugin):
    def setup(self, req):
        self.sid = str(req.require("account_sid"))
        base = str(req.config.get("base_url") or "https://api.twilio.com").rstrip("/")
        self.api = base
        self.accounts = str(req.config.get("accounts_base_url") or
                            (base if req.config.get("base_url") else "https://accounts.twilio.com")).rstrip("/")

    def works(self, token):
        """Whether `token` authenticates for the account now (primary or secondary)."""
        if not token:
            return False
        status, _ = http("GET", "%s/2010-04-01/Accounts/%s.json" % (self.api, self.sid),
                         {"Authorization": basic_auth(self.sid, token)})
        if status in (200, 401):
            return status == 200
        raise Permanent("Twilio answered %d to GET /2010-04-01/Accounts/{sid}.json" % status)

    def tokens(self, method, path, token, ok):
        status, reply = http(method, self.accounts + path, {"Authorization": basic_auth(self.sid, token)})
        if status not in ok:
            raise Permanent("Twilio answered %d to %s %s%s" % (status, method, path, message_of(reply)))
        return status, reply

    def delete_secondary(self, token):
        self.tokens("DELETE", "/v1/AuthTokens/Secondary", token, ok=(200, 204, 404))

    def describe(self, req):
        return {"provider": "twilio", "overlap": "dual", "max_live": 2, "mints": True, "fields": ["value"]}

    def create(self, req):
        self.setup(req)
        if req.old is None or not req.old.value:
            raise Permanent("rotor needs the current auth token; adopt it first")
        self.delete_secondary(req.old.value)
        _, reply = self.tokens("POST", "/v1/AuthTokens/Secondary", req.old.value, ok=(200, 201))
        value = (reply or {}).get("secondary_auth_token")
        if not value:
            raise Permanent("Twilio's reply to POST /v1/AuthTokens/Secondary has no secondary_auth_token")
        return {"value": keep_secret(value)}

    def test(self, req):
        self.setup(req)
        return {"accepted": self.works(req.new.value)}

    def finish(self, req):
        self.setup(req)
        if not req.new.value:
            raise Permanent("rotor does not know the new token, so it cannot be promoted")
        status, reply = http("POST", self.accounts + "/v1/AuthTokens/Promote",
                             {"Authorization": basic_auth(self.sid, req.new.value)})
        if status == 200:
            return {}
        old = req.old.value if req.old else None
        if status == 400 and self.works(req.new.value) and not self.works(old):
            return {}  # promoted by an earlier attempt: no secondary left, new is the primary
        raise Permanent("Twilio answered %d to POST /v1/AuthTokens/Promote%s" % (status, message_of(reply)))

    def revoke(self, req):
        self.setup(req)
        old = req.old.value if req.old else None
        if not self.works(old):
            return {}
        if self.works(req.new.value):
            # Both work: the new one is still the secondary (finish has not
            # promoted it). Deleting "the secondary" now would end the new one.
            raise Permanent("both the old and the new token still work: the new one has not been "
                            "promoted (revoke runs after finish)")
        self.delete_secondary(old)
        if self.works(old):
            raise Permanent("the old token is still the account's primary token; promote the new one first")
        return {}

    def undo(self, req):
        self.setup(req)
        old = req.old.value if req.old else None
        new = req.new.value
        if not new:
            # create's reply never reached rotor: a secondary it made is unknown, remove whatever is there
            if not old:
                return {}
            if not self.works(old):
                raise Permanent("the old token is not accepted; cannot take back the secondary")
            self.delete_secondary(old)
            return {}
        if not self.works(new):
            return {}  # gone already, or never made
        if old and self.works(old):
            self.delete_secondary(old)  # both work, so new is the secondary
            return {}
        raise Permanent("the new token was promoted; it cannot be taken back")


def message_of(reply):
    if isinstance(reply, dict) and reply.get("message"):
        return ": %s" % reply["message"]
    return ""


if __name__ == "__main__":
    serve(Twilio())
