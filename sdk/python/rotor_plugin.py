"""rotor_plugin: write a rotor exec plugin (protocol version 1) in Python.

One file, standard library only. Copy it next to your plugin or put its
directory on sys.path, then:

    from rotor_plugin import Plugin, serve, Transient, Permanent, Unchanged

    class MyPlugin(Plugin):
        def describe(self, req):
            return {"provider": "x", "overlap": "dual", "max_live": 2,
                    "mints": True, "fields": ["value"]}
        def create(self, req): return {"value": "...", "user": "..."}
        def test(self, req): return {"accepted": True}
        def revoke(self, req): return {}
        def undo(self, req): return {}

    serve(MyPlugin())

rotor starts the plugin once per call, writes one JSON request line to its
stdin and reads one JSON reply line from its stdout (docs/plugin-protocol.md).
serve() does that exchange: it checks the protocol number, calls the method
named by the request's "op" with a Request, and writes the reply. Raise
Transient, Permanent or Unchanged to reply with that error kind; any other
exception becomes a permanent error whose message has every secret value
replaced by "[redacted]". Anything the plugin prints while it runs goes to
stderr, redacted the same way, so a stray print() cannot break the reply.
"""

import base64
import binascii
from http.client import HTTPException
import json
import os
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request

__all__ = [
    "PROTOCOL", "Plugin", "Request", "Credential", "serve", "handle",
    "PluginError", "Transient", "Permanent", "Unchanged",
    "http", "basic_auth", "bearer", "env_secret", "keep_secret", "redact",
]

PROTOCOL = 1
OPS = ("describe", "create", "test", "finish", "revoke", "undo")
REDACTED = "[redacted]"


class PluginError(Exception):
    """An error the plugin reports to rotor; `kind` is the reply's error.kind."""

    kind = "permanent"

    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


class Transient(PluginError):
    """Worth retrying: a timeout, a 5xx, a connection refused."""

    kind = "transient"


class Permanent(PluginError):
    """Retrying the same call will fail the same way."""

    kind = "permanent"


class Unchanged(PluginError):
    """Failed before anything changed at the provider: nothing to undo."""

    kind = "unchanged"


class Credential:
    """A credential of the request: `version`, `user`, `value`, each a string or None.

    `version` is rotor's SECRET/NUMBER, the same on every retry; None for a
    value rotor has no version of (rotor sends a number for every stored version today). Check it before
    labelling anything at the provider with it."""

    __slots__ = ("version", "user", "value")

    def __init__(self, version, user=None, value=None):
        self.version = version
        self.user = user
        self.value = value

    def __repr__(self):
        shown = None if self.value is None else REDACTED
        return "Credential(version=%r, user=%r, value=%s)" % (self.version, self.user, shown)


class Request:
    """One request: `op`, `secret`, `config` (dict), `new` and `old` (Credential or None)."""

    __slots__ = ("protocol", "op", "secret", "config", "new", "old")

    def __init__(self, op, secret, config=None, new=None, old=None, protocol=PROTOCOL):
        self.protocol = protocol
        self.op = op
        self.secret = secret
        self.config = {} if config is None else config
        self.new = new
        self.old = old

    def require(self, key):
        """config[key], or Permanent naming the missing setting."""
        value = self.config.get(key)
        if value is None or value == "":
            raise Permanent("config %r is required ([secret.authority.config] %s = ...)" % (key, key))
        return value

    def __repr__(self):
        return "Request(op=%r, secret=%r, config=%r, new=%r, old=%r)" % (
            self.op, self.secret, self.config, self.new, self.old)


class Plugin:
    """Subclass and implement the operations; each gets a Request and returns a dict."""

    def describe(self, req):
        raise Permanent("describe: not supported")

    def create(self, req):
        raise Permanent("create: not supported")

    def test(self, req):
        raise Permanent("test: not supported")

    def finish(self, req):
        return {}

    def revoke(self, req):
        raise Permanent("revoke: not supported")

    def undo(self, req):
        raise Permanent("undo: not supported")


# ---------------------------------------------------------------- redaction

_secrets = []


def keep_secret(value):
    """Redact `value` (and its encodings) from error messages and stderr; returns it.

    Request values are redacted already; call this for values the plugin
    learns itself (an admin key, a value the provider just minted)."""
    if isinstance(value, str) and value and value not in _secrets:
        _secrets.append(value)
    return value


def _forms(value):
    raw = value.encode("utf-8")
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote(value),
        urllib.parse.quote_plus(value, safe=""),
        raw.hex(),
        raw.hex().upper(),
    }
    for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = b64.decode("ascii")
        forms.add(text)
        forms.add(text.rstrip("="))
    return forms


def redact(text):
    """`text` with every known secret value, raw or encoded, replaced by [redacted]."""
    text = str(text)
    forms = set()
    for value in _secrets:
        forms |= _forms(value)
    for form in sorted((f for f in forms if f), key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text


class _RedactingWriter:
    """Stands in for sys.stdout/sys.stderr during a call: writes redacted lines to `sink`."""

    def __init__(self, sink):
        self._sink = sink
        self._buf = ""

    def write(self, text):
        self._buf += str(text)
        # A secret with a line break in it could be split across lines: keep
        # everything until the end then.
        if "\n" in self._buf and not any("\n" in s for s in _secrets):
            head, _, self._buf = self._buf.rpartition("\n")
            self._emit(head + "\n")
        return len(text)

    def _emit(self, text):
        try:
            self._sink.write(redact(text))
            self._sink.flush()
        except (OSError, ValueError):
            pass

    def flush(self):
        pass

    def close_out(self):
        if self._buf:
            self._emit(self._buf)
            self._buf = ""

    def isatty(self):
        return False

    def writable(self):
        return True

    @property
    def encoding(self):
        return "utf-8"


# ------------------------------------------------------------------- serving

def _error(kind, message, protocol=PROTOCOL):
    return {"protocol": protocol, "ok": False, "error": {"kind": kind, "message": message}}


def _credential(msg, name):
    raw = msg.get(name)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise Permanent("malformed request: %r is not an object" % name)
    version = raw.get("version")  # null: a value rotor holds no version of
    if version is not None and (not isinstance(version, str) or not version):
        raise Permanent("malformed request: %s.version is neither a string nor null" % name)
    for part in ("user", "value"):
        if raw.get(part) is not None and not isinstance(raw.get(part), str):
            raise Permanent("malformed request: %s.%s is neither a string nor null" % (name, part))
    return Credential(version, raw.get("user"), raw.get("value"))


def _parse(line):
    """The Request of one request line; raises Permanent for what is not one."""
    try:
        msg = json.loads(line)
    except ValueError:
        raise Permanent("the request is not JSON (rotor writes one JSON object on one line)")
    if not isinstance(msg, dict):
        raise Permanent("the request is not a JSON object")
    for name in ("new", "old"):
        cred = msg.get(name)
        if isinstance(cred, dict):
            keep_secret(cred.get("value"))
    protocol = msg.get("protocol")
    if type(protocol) is not int or protocol != PROTOCOL:
        asked = "none" if protocol is None else json.dumps(protocol)
        raise Permanent("this plugin speaks protocol %d, rotor asked for %s" % (PROTOCOL, asked))
    op = msg.get("op")
    if op not in OPS:
        raise Permanent("unknown op %s; protocol 1 has %s" % (
            json.dumps(op) if isinstance(op, (str, int, float, bool, type(None))) else "of that type",
            ", ".join(OPS)))
    secret = msg.get("secret")
    if not isinstance(secret, str):
        raise Permanent("malformed request: secret is not a string")
    config = msg.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise Permanent("malformed request: config is not an object")
    new = _credential(msg, "new")
    old = _credential(msg, "old")
    if op != "describe" and new is None:
        raise Permanent("malformed request: %s needs new" % op)
    return Request(op, secret, config, new, old)


def _check(op, result):
    """The ok reply for what the op returned; raises Permanent for a plugin bug."""
    if result is None:
        result = {}
    if not isinstance(result, dict):
        raise Permanent("plugin bug: %s returned %s, not a dict" % (op, type(result).__name__))
    reply = {"protocol": PROTOCOL, "ok": True}
    for key, val in result.items():
        if key not in ("protocol", "ok", "error"):
            reply[key] = val
    if op == "describe":
        for key in ("provider", "overlap", "max_live", "mints", "fields"):
            if key not in reply:
                raise Permanent("plugin bug: describe's reply lacks %r" % key)
        if reply["overlap"] not in ("none", "fixed-grace", "provider-controlled", "dual"):
            raise Permanent("plugin bug: describe's overlap is not one of none, fixed-grace, "
                            "provider-controlled, dual")
        if reply["overlap"] == "fixed-grace" and "grace_seconds" not in reply:
            raise Permanent("plugin bug: overlap fixed-grace needs grace_seconds")
    elif op == "create":
        if reply.get("value") is not None and not isinstance(reply["value"], str):
            raise Permanent("plugin bug: create's value is not a string")
        if reply.get("user") is not None and not isinstance(reply["user"], str):
            raise Permanent("plugin bug: create's user is not a string")
        keep_secret(reply.get("value"))
    elif op == "test":
        if not isinstance(reply.get("accepted"), bool):
            raise Permanent("plugin bug: test must reply accepted: true or false")
    try:
        json.dumps(reply)
    except (TypeError, ValueError) as exc:
        raise Permanent("plugin bug: %s's reply is not JSON: %s" % (op, exc))
    return reply


def _where(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return " (at %s:%d in %s)" % (os.path.basename(last.filename), last.lineno, last.name)


def handle(plugin, line):
    """The reply (a dict) to one request line. Does not exit; serve() wraps it."""
    real_out, real_err = sys.stdout, sys.stderr
    sink = _RedactingWriter(real_err)
    op = "request"
    try:
        req = _parse(line)
        op = req.op
        sys.stdout = sys.stderr = sink
        try:
            result = getattr(plugin, op)(req)
            return _check(op, result)
        finally:
            sys.stdout, sys.stderr = real_out, real_err
            sink.close_out()
    except PluginError as exc:
        return _error(exc.kind, redact(exc.message))
    except Exception as exc:  # a plugin bug: say what, never with a value
        message = redact("%s: %s" % (type(exc).__name__, exc))
        try:
            real_err.write(redact("rotor_plugin: %s failed: %s%s\n" % (op, message, _where(exc))))
            real_err.flush()
        except (OSError, ValueError):
            pass
        return _error("permanent", message)


def serve(plugin):
    """Read one request from stdin, write one reply line to stdout, exit 0."""
    try:
        line = sys.stdin.buffer.readline().decode("utf-8", "replace")
        reply = handle(plugin, line)
        out = json.dumps(reply, separators=(",", ":"), ensure_ascii=True)
    except Exception as exc:  # the SDK itself failed; still one line, no values
        out = json.dumps(_error("permanent", redact("rotor_plugin: %s" % type(exc).__name__)))
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
    sys.exit(0)


# ----------------------------------------------------------------- helpers

def env_secret(name):
    """The environment variable `name`, kept secret; Permanent naming it when unset."""
    value = os.environ.get(name)
    if not value:
        raise Permanent("environment variable %s is not set (list it in the authority's env = [...])"
                        % name)
    return keep_secret(value)


def basic_auth(user, password):
    """An HTTP Basic Authorization header value."""
    token = base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
    keep_secret(password)
    return "Basic " + keep_secret(token)


def bearer(token):
    """An HTTP Bearer Authorization header value."""
    return "Bearer " + keep_secret(token)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Never carry credentials to wherever a redirect points: a 3xx is returned as is.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _shown_url(url):
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = "%s:%d" % (host, parts.port)
    return "%s://%s%s" % (parts.scheme, host, parts.path)


def http(method, url, headers=None, json_body=None, timeout=10):
    """One HTTP call: (status, parsed JSON body or None).

    Raises Transient when the provider cannot be reached, times out, or
    answers 5xx or 429; every other status is returned. Authorization
    header values are kept secret. Redirects are not followed."""
    hdrs = {"Accept": "application/json", "User-Agent": "rotor-plugin/%d" % PROTOCOL}
    for key, val in (headers or {}).items():
        hdrs[key] = val
        if key.lower() == "authorization" and isinstance(val, str):
            keep_secret(val)
            scheme, _, cred = val.partition(" ")
            keep_secret(cred)
            if scheme.lower() == "basic":
                try:
                    keep_secret(base64.b64decode(cred).decode("utf-8").partition(":")[2])
                except (binascii.Error, UnicodeDecodeError):
                    pass
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode("utf-8")
        hdrs["Content-Type"] = "application/json"
    where = "%s %s" % (method, _shown_url(url))
    request = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with _opener.open(request, timeout=timeout) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            body = exc.read()
        except (OSError, HTTPException):
            body = b""
        finally:
            exc.close()
    except (urllib.error.URLError, OSError, HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise Transient("%s failed: %s" % (where, reason))
    if status >= 500 or status == 429:
        raise Transient("%s answered %d" % (where, status))
    try:
        parsed = json.loads(body.decode("utf-8")) if body else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    return status, parsed
